//===- PlanMemory.cpp - One arena per step, offsets fixed at compile time -===//
//
// The steps are straight-line code with static shapes, so the life of every
// buffer is known exactly: from its allocation to the last operation that
// uses it or one of its aliases. Buffers are placed in decreasing size, each
// at the lowest offset that no buffer alive at the same time occupies (the
// greedy plan of TensorFlow Lite's arena planner), which packs well in
// practice and is simple to check.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kiln {
#define GEN_PASS_DEF_KILNPLANMEMORY
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

constexpr int64_t kAlignment = 64;

struct Buffer {
  memref::AllocOp alloc;
  int64_t bytes;
  int64_t first, last; // Positions of the first and last top-level use.
  int64_t offset = -1;
};

/// The bytes of a buffer of `type` in the arena: whole bytes per element (an
/// i1 takes one, as in LLVM), rounded up to the alignment.
int64_t bytesOf(MemRefType type, const DataLayout &layout) {
  int64_t element = static_cast<int64_t>(
      layout.getTypeSize(type.getElementType()).getFixedValue());
  int64_t bytes = type.getNumElements() * element;
  return (std::max<int64_t>(bytes, 1) + kAlignment - 1) / kAlignment *
         kAlignment;
}

/// The last position at which `value` or a view of it is used.
int64_t lastUse(Value value, Block &body,
                const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = 0;
  SmallVector<Value> worklist = {value};
  while (!worklist.empty()) {
    Value current = worklist.pop_back_val();
    for (Operation *user : current.getUsers()) {
      Operation *top = body.findAncestorOpInBlock(*user);
      last = std::max(last, position.lookup(top));
      // Views alias the buffer: their uses are its uses.
      if (isa<ViewLikeOpInterface>(user) ||
          isa<memref::ReshapeOp, memref::CollapseShapeOp,
              memref::ExpandShapeOp, memref::CastOp>(user))
        for (Value result : user->getResults())
          worklist.push_back(result);
    }
  }
  return last;
}

LogicalResult planMemory(func::FuncOp func) {
  if (func.isExternal())
    return success();
  Block &body = func.getBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  for (auto [i, op] : llvm::enumerate(body))
    position[&op] = i;

  std::vector<Buffer> buffers;
  DataLayout layout = DataLayout::closest(func);
  WalkResult walk = func.walk([&](memref::AllocOp alloc) {
    if (alloc->getBlock() != &body) {
      alloc.emitOpError("is inside a region; the memory plan needs every "
                        "buffer of a step at its top level");
      return WalkResult::interrupt();
    }
    if (!alloc.getType().hasStaticShape() ||
        !alloc.getType().getLayout().isIdentity()) {
      alloc.emitOpError("needs a static shape and the identity layout to be "
                        "placed in the arena");
      return WalkResult::interrupt();
    }
    buffers.push_back({alloc, bytesOf(alloc.getType(), layout), position[alloc],
                       lastUse(alloc.getResult(), body, position)});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // Largest first, each at the lowest offset free for its whole life.
  std::vector<Buffer *> order;
  for (Buffer &buffer : buffers)
    order.push_back(&buffer);
  llvm::stable_sort(order, [](const Buffer *a, const Buffer *b) {
    return a->bytes > b->bytes;
  });
  std::vector<Buffer *> placed;
  int64_t arenaBytes = 0;
  for (Buffer *buffer : order) {
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (Buffer *other : placed)
      if (other->first <= buffer->last && buffer->first <= other->last)
        taken.push_back({other->offset, other->offset + other->bytes});
    llvm::sort(taken);
    int64_t offset = 0;
    for (auto [begin, end] : taken) {
      if (offset + buffer->bytes <= begin)
        break;
      offset = std::max(offset, end);
    }
    buffer->offset = offset;
    arenaBytes = std::max(arenaBytes, offset + buffer->bytes);
    placed.push_back(buffer);
  }

  // The most bytes alive at once: what any plan needs at least.
  int64_t peakBytes = 0;
  for (const Buffer &at : buffers) {
    int64_t live = 0;
    for (const Buffer &other : buffers)
      if (other.first <= at.first && at.first <= other.last)
        live += other.bytes;
    peakBytes = std::max(peakBytes, live);
  }

  MLIRContext *context = func.getContext();
  auto arenaType = MemRefType::get({std::max<int64_t>(arenaBytes, kAlignment)},
                                   IntegerType::get(context, 8));
  unsigned arenaIndex = func.getNumArguments();
  Builder attrs(context);
  if (failed(func.insertArgument(
          arenaIndex, arenaType,
          attrs.getDictionaryAttr(
              attrs.getNamedAttr("kiln.arena", attrs.getUnitAttr())),
          func.getLoc())))
    return failure();
  Value arena = func.getArgument(arenaIndex);
  for (Buffer &buffer : buffers) {
    OpBuilder builder(buffer.alloc);
    Value offset =
        arith::ConstantIndexOp::create(builder, buffer.alloc.getLoc(),
                                       buffer.offset);
    Value view = memref::ViewOp::create(builder, buffer.alloc.getLoc(),
                                        buffer.alloc.getType(), arena, offset,
                                        ValueRange());
    buffer.alloc.replaceAllUsesWith(view);
    buffer.alloc.erase();
  }
  // The arena outlives the step: nothing in it is freed.
  SmallVector<memref::DeallocOp> deallocs;
  func.walk([&](memref::DeallocOp dealloc) { deallocs.push_back(dealloc); });
  for (memref::DeallocOp dealloc : deallocs)
    dealloc.erase();
  func->setAttr("kiln.arena_bytes", attrs.getI64IntegerAttr(arenaType.getNumElements()));
  func->setAttr("kiln.peak_bytes", attrs.getI64IntegerAttr(peakBytes));
  return success();
}

struct PlanMemoryPass : kiln::impl::KilnPlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(planMemory(func)))
        return signalPassFailure();
  }
};

} // namespace
