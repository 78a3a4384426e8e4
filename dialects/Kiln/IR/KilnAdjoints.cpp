//===- KilnAdjoints.cpp - Adjoint rules of math and data-movement ops -----===//
//
// One rule per op: given the gradient `g` of the result, the gradients of the
// operands. Layers (convolution, LSTM, attention, ...) are in
// KilnNNAdjoints.cpp, elementwise ops in KilnElementwise.cpp.
//
//===----------------------------------------------------------------------===//

#include "GradientBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

//===----------------------------------------------------------------------===//
// GradientBuilder
//===----------------------------------------------------------------------===//

Value GradientBuilder::scalar(double value, Value like) {
  Type element = getElementTypeOrSelf(like.getType());
  auto type = RankedTensorType::get({}, element);
  return ConstantOp::create(
      b, DenseElementsAttr::get(type, FloatAttr::get(element, value)));
}

Value GradientBuilder::zeros(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return ConstantOp::create(
      b, DenseElementsAttr::get(
             tensor, b.getZeroAttr(tensor.getElementType())));
}

Value GradientBuilder::reshape(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return ReshapeOp::create(b, x, shape);
}

Value GradientBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  return TransposeOp::create(b, x, permutation);
}

Value GradientBuilder::reduceSum(Value x, ArrayRef<int64_t> axes,
                                 bool keepDims) {
  if (axes.empty())
    return x;
  return ReduceSumOp::create(b, x, axes, keepDims);
}

Value GradientBuilder::broadcastTo(Value x, ArrayRef<int64_t> shape) {
  if (shapeOf(x) == shape)
    return x;
  return BroadcastToOp::create(b, x, shape);
}

Value GradientBuilder::sumTo(Value grad, ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> gradShape = shapeOf(grad);
  int64_t offset = gradShape.size() - shape.size();
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < static_cast<int64_t>(gradShape.size()); ++d)
    if (d < offset || (shape[d - offset] == 1 && gradShape[d] != 1))
      axes.push_back(d);
  return reshape(reduceSum(grad, axes, /*keepDims=*/true), shape);
}

Value GradientBuilder::unreduce(Value grad, ArrayRef<int64_t> axes,
                                ArrayRef<int64_t> inputShape) {
  SmallVector<int64_t> kept(inputShape);
  for (int64_t axis : axes)
    kept[normalizeAxis(axis, inputShape.size())] = 1;
  return broadcastTo(reshape(grad, kept), inputShape);
}

//===----------------------------------------------------------------------===//
// Normalized exponentials
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = SoftmaxBackwardOp::create(builder, getLoc(), grads[0],
                                              getResult(), getAxis());
  return success();
}

LogicalResult LogSoftmaxOp::buildAdjoint(OpBuilder &builder,
                                         ArrayRef<Value> grads,
                                         ArrayRef<bool> needed,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = LogSoftmaxBackwardOp::create(builder, getLoc(), grads[0],
                                                 getResult(), getAxis());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and matrix products
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = GradientBuilder(builder, getLoc())
                        .unreduce(grads[0], getAxes(), shapeOf(getInput()));
  return success();
}

LogicalResult ReduceMeanOp::buildAdjoint(OpBuilder &builder,
                                         ArrayRef<Value> grads,
                                         ArrayRef<bool> needed,
                                         SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  ArrayRef<int64_t> shape = shapeOf(getInput());
  int64_t count = 1;
  for (int64_t axis : getAxes())
    count *= shape[normalizeAxis(axis, shape.size())];
  operandGrads[0] = g.unreduce(
      g.div(grads[0], g.scalar(static_cast<double>(count), grads[0])),
      getAxes(), shape);
  return success();
}

LogicalResult ReduceMaxOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = ReduceMaxBackwardOp::create(
      builder, getLoc(), grads[0], getInput(), getAxes(), getKeepDims());
  return success();
}

LogicalResult MatmulOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &operandGrads) {
  // With a = op(lhs) and b = op(rhs) (op transposes when asked), c = a b gives
  // da = g b^T and db = a^T g; transposing back where an operand was
  // transposed, and summing over batch dimensions that were broadcast.
  GradientBuilder g(builder, getLoc());
  Value grad = grads[0], lhs = getLhs(), rhs = getRhs();
  bool tl = getTransposeLhs(), tr = getTransposeRhs();
  if (needed[0]) {
    Value d = tl ? g.matmul(rhs, grad, tr, true) : g.matmul(grad, rhs, false, !tr);
    operandGrads[0] = g.sumTo(d, shapeOf(lhs));
  }
  if (needed[1]) {
    Value d = tr ? g.matmul(grad, lhs, true, tl) : g.matmul(lhs, grad, !tl, false);
    operandGrads[1] = g.sumTo(d, shapeOf(rhs));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = GradientBuilder(builder, getLoc())
                        .reshape(grads[0], shapeOf(getInput()));
  return success();
}

LogicalResult FlattenOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = GradientBuilder(builder, getLoc())
                        .reshape(grads[0], shapeOf(getInput()));
  return success();
}

LogicalResult TransposeOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> permutation = getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [i, d] : llvm::enumerate(permutation))
    inverse[d] = i;
  operandGrads[0] =
      GradientBuilder(builder, getLoc()).transpose(grads[0], inverse);
  return success();
}

LogicalResult ConcatOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> shape = shapeOf(getResult());
  int64_t axis = normalizeAxis(getAxis(), shape.size());
  int64_t offset = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    ArrayRef<int64_t> inputShape = shapeOf(input);
    if (needed[i]) {
      SmallVector<int64_t> offsets(shape.size(), 0), strides(shape.size(), 1);
      offsets[axis] = offset;
      operandGrads[i] = SliceOp::create(builder, getLoc(), grads[0], offsets,
                                        inputShape, strides);
    }
    offset += inputShape[axis];
  }
  return success();
}

LogicalResult SliceOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      ScatterSliceOp::create(builder, getLoc(), grads[0], getOffsets(),
                             getStrides(), shapeOf(getInput()));
  return success();
}

LogicalResult ScatterSliceOp::buildAdjoint(
    OpBuilder &builder, ArrayRef<Value> grads, ArrayRef<bool> needed,
    SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      SliceOp::create(builder, getLoc(), grads[0], getOffsets(),
                      shapeOf(getSource()), getStrides());
  return success();
}

LogicalResult DropoutOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  // The same mask and scale: dropout is linear in its input.
  if (needed[0])
    operandGrads[0] = DropoutOp::create(builder, getLoc(), grads[0],
                                        getCounter(), getP(), getSeed());
  return success();
}
