//===- TensorBuilder.cpp - Kiln ops by name, for the decompositions -------===//

#include "Decompose/TensorBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::decompose;

Value TensorBuilder::splat(ArrayRef<int64_t> shape, Type element,
                           double value) {
  auto type = RankedTensorType::get(shape, element);
  return ConstantOp::create(
      builder(), DenseElementsAttr::get(type, FloatAttr::get(element, value)));
}

Value TensorBuilder::mean(Value x, ArrayRef<int64_t> axes, bool keepDims) {
  if (axes.empty())
    return x;
  return ReduceMeanOp::create(builder(), x, axes, keepDims);
}

Value TensorBuilder::max(Value x, ArrayRef<int64_t> axes, bool keepDims) {
  if (axes.empty())
    return x;
  return ReduceMaxOp::create(builder(), x, axes, keepDims);
}

Value TensorBuilder::slice(Value x, ArrayRef<int64_t> offsets,
                           ArrayRef<int64_t> sizes) {
  if (shapeOf(x) == sizes)
    return x;
  SmallVector<int64_t> strides(sizes.size(), 1);
  return SliceOp::create(builder(), x, offsets, sizes, strides);
}

Value TensorBuilder::concat(ValueRange values, int64_t axis) {
  if (values.size() == 1)
    return values.front();
  return ConcatOp::create(builder(), values, axis);
}

Value TensorBuilder::stack(ValueRange values) {
  SmallVector<Value> stacked;
  for (Value value : values) {
    SmallVector<int64_t> shape = {1};
    llvm::append_range(shape, shapeOf(value));
    stacked.push_back(reshape(value, shape));
  }
  return concat(stacked, 0);
}

Value TensorBuilder::softmax(Value x, int64_t axis, bool log) {
  int64_t axes[] = {normalizeAxis(axis, shapeOf(x).size())};
  Value shifted = sub(x, max(x, axes, /*keepDims=*/true));
  Value exps = exp(shifted);
  Value total = reduceSum(exps, axes, /*keepDims=*/true);
  return log ? sub(shifted, this->log(total)) : div(exps, total);
}

Value TensorBuilder::softmaxBackward(Value grad, Value output, int64_t axis) {
  int64_t axes[] = {normalizeAxis(axis, shapeOf(output).size())};
  return mul(output, sub(grad, reduceSum(mul(grad, output), axes, true)));
}

LogicalResult kiln::decompose::checkUnrollable(Operation *op, Value input,
                                               int64_t layers) {
  constexpr int64_t kMaxUnrolledSteps = 4096;
  int64_t steps = shapeOf(input)[1];
  if (steps * layers <= kMaxUnrolledSteps)
    return success();
  return op->emitOpError("unrolls into ")
         << steps << " steps of " << layers << " layers, more than the "
         << kMaxUnrolledSteps << " that compile in reasonable time and "
         << "memory; shorten the sequences or use fewer layers";
}
