//===- KilnNNAdjoints.cpp - Adjoint rules of layers and losses ------------===//
//
// Most of these hand the work to a backward op of the dialect, which a
// backend maps onto its backward primitives (oneDNN's backward data and
// backward weights, its pooling, layer-norm and LSTM backward, ...).
//
//===----------------------------------------------------------------------===//

#include "GradientBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

LogicalResult Conv2DOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value grad = grads[0];
  if (needed[0])
    operandGrads[0] = Conv2DBackwardInputOp::create(
        builder, loc, grad, getWeight(), shapeOf(getInput()), getStride(),
        getPadding(), getDilation());
  if (needed[1])
    operandGrads[1] = Conv2DBackwardWeightOp::create(
        builder, loc, grad, getInput(), shapeOf(getWeight()).drop_front(2),
        getStride(), getPadding(), getDilation());
  if (getBias() && needed[2])
    operandGrads[2] =
        GradientBuilder(builder, loc).reduceSum(grad, {0, 2, 3}, false);
  return success();
}

LogicalResult
Conv2DBackwardInputOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGrads) {
  // A transposed convolution (conv_transpose2d): linear in `grad`, whose
  // gradient is the convolution itself, and in `weight`, whose gradient is
  // that of a convolution of the result's gradient giving `grad`.
  Location loc = getLoc();
  Value grad = grads[0];
  if (needed[0])
    operandGrads[0] = Conv2DOp::create(builder, loc, grad, getWeight(),
                                       Value(), getStrideAttr(),
                                       getPaddingAttr(), getDilationAttr());
  if (needed[1])
    operandGrads[1] = Conv2DBackwardWeightOp::create(
        builder, loc, getGrad(), grad, shapeOf(getWeight()).drop_front(2),
        getStride(), getPadding(), getDilation());
  return success();
}

LogicalResult MaxPool2DOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = MaxPool2DBackwardOp::create(
      builder, getLoc(), grads[0], getInput(), getKernelAttr(), getStrideAttr(),
      getPaddingAttr());
  return success();
}

LogicalResult AvgPool2DOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = AvgPool2DBackwardOp::create(
      builder, getLoc(), grads[0],
      builder.getDenseI64ArrayAttr(shapeOf(getInput())), getKernelAttr(),
      getStrideAttr(), getPaddingAttr(), getCountIncludePadAttr());
  return success();
}

LogicalResult LinearOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &operandGrads) {
  // y = x W^T + b over the last dimension, so with the leading dimensions
  // flattened into rows: dx = g W, dW = g^T x, db = the rows of g summed.
  GradientBuilder g(builder, getLoc());
  Value grad = grads[0], input = getInput(), weight = getWeight();
  ArrayRef<int64_t> inputShape = shapeOf(input);
  int64_t in = shapeOf(weight)[1], out = shapeOf(weight)[0];
  int64_t rows = 1;
  for (int64_t size : inputShape.drop_back())
    rows *= size;
  Value gradRows = g.reshape(grad, {rows, out});
  if (needed[0])
    operandGrads[0] =
        g.reshape(g.matmul(gradRows, weight, false, false), inputShape);
  if (needed[1])
    operandGrads[1] =
        g.matmul(gradRows, g.reshape(input, {rows, in}), true, false);
  if (getBias() && needed[2])
    operandGrads[2] = g.reduceSum(gradRows, {0}, false);
  return success();
}

LogicalResult LayerNormOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  auto backward =
      LayerNormBackwardOp::create(builder, getLoc(), grads[0], getInput(),
                                  getWeight(), getAxis(), getEpsilon());
  operandGrads[0] = backward.getInputGrad();
  // Operands are the input, then the weight and the bias when present.
  for (auto [i, grad] : llvm::enumerate(backward.getParamGrads()))
    if (i + 1 < operandGrads.size())
      operandGrads[i + 1] = grad;
  return success();
}

LogicalResult BatchNormOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  if (!getTraining())
    return emitOpError("is differentiated only in training, where the batch "
                       "statistics are computed from its input");
  if (!grads[0])
    return success();
  auto backward =
      BatchNormBackwardOp::create(builder, getLoc(), grads[0], getInput(),
                                  getWeight(), getEpsilon(), getRanks());
  operandGrads[0] = backward.getInputGrad();
  // The running statistics have no gradient; the weight and the bias follow
  // them when present.
  unsigned weightIndex =
      getWeight() ? getWeightMutable()[0].getOperandNumber() : 0;
  for (auto [i, grad] : llvm::enumerate(backward.getParamGrads()))
    if (getWeight() && (i == 0 || getBias()))
      operandGrads[weightIndex + i] = grad;
  return success();
}

LogicalResult LSTMOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  // Results that do not reach the loss contribute zero gradients.
  GradientBuilder g(builder, getLoc());
  SmallVector<Value, 3> resultGrads;
  for (auto [grad, result] : llvm::zip(grads, getResults()))
    resultGrads.push_back(grad ? grad : g.zeros(result.getType()));
  auto backward = LSTMBackwardOp::create(
      builder, getLoc(), getInput(), getOutput(), getFinalHidden(),
      getFinalCell(), resultGrads[0], resultGrads[1], resultGrads[2],
      getWeights(), getHiddenSize(), getNumLayers());
  operandGrads[0] = backward.getInputGrad();
  for (auto [i, grad] : llvm::enumerate(backward.getWeightGrads()))
    operandGrads[i + 1] = grad;
  return success();
}

LogicalResult GRUOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  // As the LSTM's: results that do not reach the loss contribute zeros.
  GradientBuilder g(builder, getLoc());
  SmallVector<Value, 2> resultGrads;
  for (auto [grad, result] : llvm::zip(grads, getResults()))
    resultGrads.push_back(grad ? grad : g.zeros(result.getType()));
  auto backward =
      GRUBackwardOp::create(builder, getLoc(), getInput(), getOutput(),
                            getFinalHidden(), resultGrads[0], resultGrads[1],
                            getWeights(), getHiddenSize(), getNumLayers());
  operandGrads[0] = backward.getInputGrad();
  for (auto [i, grad] : llvm::enumerate(backward.getWeightGrads()))
    operandGrads[i + 1] = grad;
  return success();
}

LogicalResult AttentionOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  // The same dropout draws the same mask.
  auto backward = AttentionBackwardOp::create(
      builder, getLoc(), grads[0], getQuery(), getKey(), getValue(),
      getCounter(), getCausalAttr(), getScaleAttr(), getDropoutAttr(),
      getSeedAttr());
  operandGrads[0] = backward.getQueryGrad();
  operandGrads[1] = backward.getKeyGrad();
  operandGrads[2] = backward.getValueGrad();
  return success();
}

LogicalResult
CrossEntropyOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                             ArrayRef<bool> needed,
                             SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = CrossEntropyBackwardOp::create(
      builder, getLoc(), grads[0], getLogits(), getLabels(), getIgnoreIndex(),
      getLabelSmoothing());
  return success();
}

LogicalResult EmbeddingOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  if (needed[1])
    operandGrads[1] = EmbeddingBackwardOp::create(
        builder, getLoc(), grads[0], getIds(), shapeOf(getTable())[0]);
  return success();
}
