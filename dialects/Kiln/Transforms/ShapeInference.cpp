//===- ShapeInference.cpp - Refine dynamic sizes of kiln results ----------===//

#include "Kiln/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSHAPEINFERENCE
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The more static of two compatible tensor types: each size taken from
/// whichever of the two knows it.
Type mostStatic(Type current, Type inferred) {
  auto a = cast<RankedTensorType>(current);
  auto b = cast<RankedTensorType>(inferred);
  SmallVector<int64_t> shape;
  for (auto [x, y] : llvm::zip(a.getShape(), b.getShape()))
    shape.push_back(ShapedType::isDynamic(x) ? y : x);
  return a.clone(shape);
}

/// Gives `value` the type `refined`. Users that are neither kiln ops nor
/// returns keep seeing the old type, through a tensor.cast.
void refine(Value value, Type refined) {
  Type old = value.getType();
  if (old == refined)
    return;
  value.setType(refined);
  OpBuilder builder(value.getContext());
  builder.setInsertionPointAfterValue(value);
  tensor::CastOp cast;
  for (OpOperand &use : llvm::make_early_inc_range(value.getUses())) {
    Operation *user = use.getOwner();
    if (isa<KilnDialect>(user->getDialect()) || isa<func::ReturnOp>(user))
      continue;
    if (!cast)
      cast = tensor::CastOp::create(builder, value.getLoc(), old, value);
    use.set(cast);
  }
}

struct ShapeInferencePass
    : kiln::impl::KilnShapeInferenceBase<ShapeInferencePass> {
  using KilnShapeInferenceBase::KilnShapeInferenceBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    // Operations are visited in order, so each sees refined operands.
    WalkResult result = func.walk([&](InferTypeOpInterface op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return WalkResult::advance();
      SmallVector<Type> inferred;
      if (failed(op.inferReturnTypes(
              op->getContext(), op->getLoc(), op->getOperands(),
              op->getAttrDictionary(), op->getPropertiesStorage(),
              op->getRegions(), inferred)))
        return WalkResult::interrupt();
      for (auto [value, type] : llvm::zip(op->getResults(), inferred)) {
        refine(value, mostStatic(value.getType(), type));
        auto tensor = cast<RankedTensorType>(value.getType());
        if (requireStatic && !tensor.hasStaticShape()) {
          op->emitOpError("result has dynamic shape ")
              << tensor << " after shape inference";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // The function now returns what its body computes, when every return
    // agrees on it.
    std::optional<SmallVector<Type>> returned;
    bool agree = true;
    func.walk([&](func::ReturnOp op) {
      SmallVector<Type> types(op.getOperandTypes());
      if (returned && *returned != types)
        agree = false;
      returned = types;
    });
    if (returned && agree)
      func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                     *returned));
  }
};

} // namespace
