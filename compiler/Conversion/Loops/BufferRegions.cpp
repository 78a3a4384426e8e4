//===- BufferRegions.cpp - Which buffers of a step cannot overlap ---------===//

#include "Conversion/Loops/BufferRegions.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace kiln;

BufferRegion BufferRegions::regionOf(Value buffer) const {
  using Kind = BufferRegion::Kind;
  if (auto arg = dyn_cast<BlockArgument>(buffer)) {
    unsigned index = arg.getArgNumber();
    if (arg.getOwner() != &step.getBody().front() || index >= slots.size())
      return {};
    BufferRegion region;
    region.kind = Kind::Slot;
    region.slot = slots[index];
    region.external = step.getArgAttr(index, "kiln.input") ||
                      step.getArgAttr(index, "kiln.output");
    return region;
  }
  Operation *def = buffer.getDefiningOp();
  if (auto view = dyn_cast_or_null<memref::ViewOp>(def)) {
    BufferRegion region = regionOf(view.getSource());
    std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
    MemRefType type = view.getType();
    if (region.kind != Kind::Slot)
      return region;
    if (!shift || !type.hasStaticShape() || !region.exactBegin) {
      region.exactBegin = false; // Somewhere in its source.
      return region;
    }
    int64_t element =
        static_cast<int64_t>(DataLayout::closest(view)
                                 .getTypeSize(type.getElementType())
                                 .getFixedValue());
    region.begin += *shift;
    region.end = region.begin + type.getNumElements() * element;
    return region;
  }
  // A reshape starts where its source does.
  if (isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp,
                      memref::CastOp, memref::ReshapeOp>(def))
    return regionOf(def->getOperand(0));
  // Another view lies somewhere in its source.
  if (auto view = dyn_cast_or_null<ViewLikeOpInterface>(def)) {
    BufferRegion region = regionOf(view.getViewSource());
    region.exactBegin = false;
    return region;
  }
  if (auto get = dyn_cast_or_null<memref::GetGlobalOp>(def)) {
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        get, get.getNameAttr());
    if (!global || !global.getConstant())
      return {};
    BufferRegion region;
    region.kind = Kind::Constant;
    region.global = global.getSymName();
    return region;
  }
  return {};
}

bool BufferRegions::apart(const BufferRegion &a, const BufferRegion &b) {
  using Kind = BufferRegion::Kind;
  if (a.kind == Kind::Unknown || b.kind == Kind::Unknown)
    return false;
  if (a.kind != b.kind)
    return true;
  if (a.kind == Kind::Constant)
    return a.global != b.global;
  // The runtime allocates each slot on its own, except that the caller of
  // a library gives its inputs and outputs.
  if (a.slot != b.slot)
    return !(a.external && b.external);
  return a.end <= b.begin || b.end <= a.begin;
}
