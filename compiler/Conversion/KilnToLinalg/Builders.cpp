//===- Builders.cpp - Building blocks of the kiln-to-linalg lowering ------===//

#include "KilnToLinalg/Builders.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERTOLINALG
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

int64_t lowering::product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

AffineMap lowering::broadcastMap(MLIRContext *context, ArrayRef<int64_t> shape,
                                 ArrayRef<int64_t> resultShape) {
  int64_t offset = resultShape.size() - shape.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(shape)) {
    int64_t d = offset + i;
    exprs.push_back(size == 1 && resultShape[d] != 1
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(d, context));
  }
  return AffineMap::get(resultShape.size(), 0, exprs, context);
}

Value lowering::emptyTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                            Type element) {
  return tensor::EmptyOp::create(b, shape, element);
}

Value lowering::filledTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                             Type element, TypedAttr value) {
  Value fill = arith::ConstantOp::create(b, value);
  return linalg::FillOp::create(b, fill, emptyTensor(b, shape, element))
      .getResult(0);
}

SmallVector<Value> lowering::elementwise(ImplicitLocOpBuilder &b,
                                         ArrayRef<int64_t> resultShape,
                                         ValueRange inputs,
                                         TypeRange resultElements,
                                         ElementBody body) {
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(context, shapeOf(input), resultShape));
  SmallVector<Value> outputs;
  for (Type element : resultElements) {
    outputs.push_back(emptyTensor(b, resultShape, element));
    maps.push_back(b.getMultiDimIdentityMap(resultShape.size()));
  }
  SmallVector<utils::IteratorType> iterators(resultShape.size(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, TypeRange(ValueRange(outputs)), inputs, outputs, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder inner(loc, nested);
        linalg::YieldOp::create(inner, body(inner, args));
      });
  return SmallVector<Value>(generic.getResults());
}

Value lowering::elementwise(ImplicitLocOpBuilder &b,
                            ArrayRef<int64_t> resultShape, ValueRange inputs,
                            ElementBody body) {
  return elementwise(b, resultShape, inputs, {elementTypeOf(inputs.front())},
                     body)
      .front();
}

SmallVector<Value> lowering::updateInPlace(ImplicitLocOpBuilder &b,
                                           ValueRange inputs,
                                           ValueRange outputs,
                                           ElementBody body) {
  MLIRContext *context = b.getContext();
  ArrayRef<int64_t> shape = shapeOf(outputs.front());
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(context, shapeOf(input), shape));
  maps.append(outputs.size(), b.getMultiDimIdentityMap(shape.size()));
  SmallVector<utils::IteratorType> iterators(shape.size(),
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, TypeRange(outputs), inputs, outputs, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder inner(loc, nested);
        linalg::YieldOp::create(inner, body(inner, args));
      });
  return SmallVector<Value>(generic.getResults());
}

SmallVector<int64_t> lowering::normalizeAxes(ArrayRef<int64_t> axes,
                                             int64_t rank) {
  SmallVector<int64_t> normalized;
  for (int64_t axis : axes)
    normalized.push_back(axis < 0 ? axis + rank : axis);
  llvm::sort(normalized);
  return normalized;
}

Value lowering::reduce(
    ImplicitLocOpBuilder &b, Value input, ArrayRef<int64_t> axes,
    bool keepDims, TypedAttr init,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value)> combine) {
  MLIRContext *context = b.getContext();
  ArrayRef<int64_t> shape = shapeOf(input);
  SmallVector<int64_t> resultShape;
  SmallVector<AffineExpr> resultExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (!reduced) {
      resultShape.push_back(shape[d]);
      resultExprs.push_back(getAffineDimExpr(d, context));
    } else if (keepDims) {
      resultShape.push_back(1);
      resultExprs.push_back(getAffineConstantExpr(0, context));
    }
  }
  Value output = filledTensor(b, resultShape, init.getType(), init);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(shape.size()),
      AffineMap::get(shape.size(), 0, resultExprs, context)};
  auto generic = linalg::GenericOp::create(
      b, output.getType(), input, output, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder inner(loc, nested);
        linalg::YieldOp::create(inner, combine(inner, args[0], args[1]));
      });
  return generic.getResult(0);
}

Value lowering::floatConstant(ImplicitLocOpBuilder &b, Type type,
                              double value) {
  return arith::ConstantOp::create(b, b.getFloatAttr(type, value));
}

Value lowering::scalarOf(ImplicitLocOpBuilder &b, Value tensor) {
  return tensor::ExtractOp::create(b, tensor, ValueRange());
}

Value lowering::tensorOf(ImplicitLocOpBuilder &b, Value value) {
  return tensor::FromElementsOp::create(
      b, RankedTensorType::get({}, value.getType()), value);
}

Value lowering::reshapeTo(ImplicitLocOpBuilder &b, Value tensor,
                          ArrayRef<int64_t> shape) {
  if (shapeOf(tensor) == shape)
    return tensor;
  auto shapeType =
      RankedTensorType::get({static_cast<int64_t>(shape.size())}, b.getI64Type());
  Value shapeValue = arith::ConstantOp::create(
      b, DenseIntElementsAttr::get(shapeType, shape));
  return tensor::ReshapeOp::create(
      b, RankedTensorType::get(shape, elementTypeOf(tensor)), tensor,
      shapeValue);
}

namespace {

struct LowerToLinalgPass
    : kiln::impl::KilnLowerToLinalgBase<LowerToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect, func::FuncDialect>();
    target.addIllegalDialect<KilnDialect>();
    target.addLegalOp<RuntimeCallOp>();
    // Integer arithmetic on tensors (batch norm's batch count) becomes a
    // generic too, which bufferization needs.
    target.addDynamicallyLegalDialect<arith::ArithDialect>([](Operation *op) {
      return isa<arith::ConstantOp>(op) ||
             llvm::none_of(op->getResultTypes(), llvm::IsaPred<TensorType>);
    });
    RewritePatternSet patterns(context);
    linalg::populateElementwiseToLinalgConversionPatterns(patterns);
    populateElementwisePatterns(patterns);
    populateReductionPatterns(patterns);
    populateDataMovementPatterns(patterns);
    populateTrainingPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
