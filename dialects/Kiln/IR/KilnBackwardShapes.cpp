//===- KilnBackwardShapes.cpp - Result types and checks of gradient ops ---===//
//
// See KilnShapes.cpp: inferReturnTypes is each op's verifier too. A gradient
// op also checks that its operands are consistent with the forward op it
// differentiates (a gradient has the shape of what it is the gradient of).
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "ShapeChecks.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

namespace {

/// Checks that `grad` has the type of `other`, as the gradient of an
/// elementwise function of `other` does.
LogicalResult sameTypeAs(const Checker &check, Value grad, Value other,
                         StringRef otherName, SmallVectorImpl<Type> &types) {
  auto gradType = check.tensor(grad, "grad");
  auto otherType = check.tensor(other, otherName);
  if (failed(gradType) || failed(otherType) ||
      failed(check.sameElementType({*gradType, *otherType},
                                   {"grad", otherName})) ||
      failed(check.shapeIs(*gradType, otherType->getShape(), "grad")))
    return failure();
  types.push_back(*otherType);
  return success();
}

/// Checks `shape` as the attribute of a static shape of rank `rank`.
LogicalResult checkShapeAttr(const Checker &check, ArrayRef<int64_t> shape,
                             int64_t rank, StringRef name) {
  if (static_cast<int64_t>(shape.size()) != rank)
    return check.fail(name, " must have ", rank, " entries, got ",
                      formatShape(shape));
  if (llvm::any_of(shape, [](int64_t size) { return size <= 0; }))
    return check.fail(name, " must hold positive sizes, got ",
                      formatShape(shape));
  return success();
}

/// The result types of the gradient of a recurrent layer (lstm, gru): the
/// forward's `rule` checks the input and the weights, then each of the
/// forward's `results` (named `names`) and their `grads` (named `names` +
/// "_grad") must have the forward's result shapes.
LogicalResult inferRecurrentBackward(const Checker &check, RecurrentRule rule,
                                     Value input, ValueRange weights,
                                     int64_t hidden, int64_t layers,
                                     ArrayRef<Value> results,
                                     ArrayRef<Value> grads,
                                     ArrayRef<StringRef> names,
                                     SmallVectorImpl<Type> &types) {
  SmallVector<Type> forward;
  if (failed(
          inferRecurrent(check, rule, input, weights, hidden, layers, forward)))
    return failure();
  for (auto [i, name] : llvm::enumerate(names)) {
    std::string gradName = (name + "_grad").str();
    auto expected = cast<RankedTensorType>(forward[i]);
    auto result = check.tensor(results[i], name);
    auto grad = check.tensor(grads[i], gradName);
    if (failed(result) || failed(grad) ||
        failed(check.shapeIs(*result, expected.getShape(), name)) ||
        failed(check.shapeIs(*grad, expected.getShape(), gradName)))
      return failure();
  }
  types.push_back(input.getType());
  for (Value weight : weights)
    types.push_back(weight.getType());
  return success();
}

} // namespace

LogicalResult BroadcastToOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> shape = adaptor.getShape();
  if (failed(checkShapeAttr(check, shape, shape.size(), "shape")))
    return failure();
  int64_t rank = input->getRank(), offset = shape.size() - rank;
  bool fits = offset >= 0;
  for (int64_t d = 0; fits && d < rank; ++d) {
    int64_t size = input->getDimSize(d);
    fits = size == 1 || sizesAgree(size, shape[offset + d]);
  }
  if (!fits)
    return check.fail("cannot broadcast ", formatShape(input->getShape()),
                      " to ", formatShape(shape));
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

LogicalResult ScatterSliceOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto source = check.tensor(adaptor.getSource(), "source");
  if (failed(source))
    return failure();
  int64_t rank = source->getRank();
  ArrayRef<int64_t> offsets = adaptor.getOffsets();
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> shape = adaptor.getShape();
  if (static_cast<int64_t>(offsets.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank ||
      failed(checkShapeAttr(check, shape, rank, "shape")))
    return check.fail("offsets, strides and shape must have one entry per "
                      "dimension of the source (",
                      rank, ")");
  for (int64_t d = 0; d < rank; ++d) {
    if (offsets[d] < 0 || strides[d] <= 0)
      return check.fail("dimension ", d,
                        " needs a non-negative offset and a positive stride");
    int64_t size = source->getDimSize(d);
    if (!isDynamic(size) && size > 0 &&
        offsets[d] + (size - 1) * strides[d] >= shape[d])
      return check.fail("dimension ", d, " writes index ",
                        offsets[d] + (size - 1) * strides[d],
                        ", past its size ", shape[d]);
  }
  types.push_back(RankedTensorType::get(shape, source->getElementType()));
  return success();
}

LogicalResult ReduceMaxBackwardOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  SmallVector<Type> forward;
  if (failed(inferReduction(check, adaptor.getInput(), adaptor.getAxes(),
                            adaptor.getKeepDims(), forward)))
    return failure();
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  if (failed(grad) ||
      failed(check.shapeIs(*grad, cast<RankedTensorType>(forward[0]).getShape(),
                           "grad")))
    return failure();
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult ReluBackwardOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return sameTypeAs(Checker(loc, getOperationName()), adaptor.getGrad(),
                    adaptor.getInput(), "input", types);
}

LogicalResult GeluBackwardOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return sameTypeAs(Checker(loc, getOperationName()), adaptor.getGrad(),
                    adaptor.getInput(), "input", types);
}

/// Result type shared by softmax_backward and log_softmax_backward.
static LogicalResult inferSoftmaxBackward(const Checker &check, Value grad,
                                          Value output, int64_t axis,
                                          SmallVectorImpl<Type> &types) {
  if (failed(sameTypeAs(check, grad, output, "output", types)))
    return failure();
  return check.axis(axis, cast<RankedTensorType>(types.back()).getRank(),
                    "axis");
}

LogicalResult SoftmaxBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferSoftmaxBackward(Checker(loc, getOperationName()),
                              adaptor.getGrad(), adaptor.getOutput(),
                              adaptor.getAxis(), types);
}

LogicalResult LogSoftmaxBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferSoftmaxBackward(Checker(loc, getOperationName()),
                              adaptor.getGrad(), adaptor.getOutput(),
                              adaptor.getAxis(), types);
}

LogicalResult CrossEntropyBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  auto logits = check.tensor(adaptor.getLogits(), "logits");
  auto labels = check.tensor(adaptor.getLabels(), "labels");
  if (failed(grad) || failed(logits) || failed(labels) ||
      failed(check.sameElementType({*logits, *grad}, {"logits", "grad"})) ||
      failed(check.rank(*logits, 2, "logits")) ||
      failed(check.shapeIs(*labels, {logits->getDimSize(0)}, "labels")))
    return failure();
  double smoothing = adaptor.getLabelSmoothing().convertToDouble();
  if (!(smoothing >= 0 && smoothing <= 1))
    return check.fail("label_smoothing must be in [0, 1], got ",
                      formatNumber(smoothing));
  types.push_back(*logits);
  return success();
}

LogicalResult Conv2DBackwardInputOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  auto weight = check.tensor(adaptor.getWeight(), "weight");
  ArrayRef<int64_t> inputShape = adaptor.getInputShape();
  if (failed(grad) || failed(weight) || failed(check.rank(*grad, 4, "grad")) ||
      failed(check.rank(*weight, 4, "weight")) ||
      failed(check.sameElementType({*grad, *weight}, {"grad", "weight"})) ||
      failed(checkShapeAttr(check, inputShape, 4, "input_shape")))
    return failure();
  if (!sizesAgree(inputShape[1], weight->getDimSize(1)))
    return check.fail("input_shape ", formatShape(inputShape), " has ",
                      inputShape[1], " channels but weight ",
                      formatShape(weight->getShape()), " expects ",
                      weight->getDimSize(1));
  auto forward = convolutionShape(check, inputShape, weight->getDimSize(0),
                                  weight->getShape().drop_front(2),
                                  adaptor.getStride(), adaptor.getPadding(),
                                  adaptor.getDilation());
  if (failed(forward) || failed(check.shapeIs(*grad, *forward, "grad")))
    return failure();
  types.push_back(RankedTensorType::get(inputShape, grad->getElementType()));
  return success();
}

LogicalResult Conv2DBackwardWeightOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  auto input = check.tensor(adaptor.getInput(), "input");
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  if (failed(grad) || failed(input) || failed(check.rank(*grad, 4, "grad")) ||
      failed(check.rank(*input, 4, "input")) ||
      failed(check.sameElementType({*grad, *input}, {"grad", "input"})) ||
      failed(checkShapeAttr(check, kernel, 2, "kernel")))
    return failure();
  auto forward = convolutionShape(check, input->getShape(), grad->getDimSize(1),
                                  kernel, adaptor.getStride(),
                                  adaptor.getPadding(), adaptor.getDilation());
  if (failed(forward) || failed(check.shapeIs(*grad, *forward, "grad")))
    return failure();
  types.push_back(RankedTensorType::get(
      {grad->getDimSize(1), input->getDimSize(1), kernel[0], kernel[1]},
      grad->getElementType()));
  return success();
}

LogicalResult MaxPool2DBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(grad) || failed(input) || failed(check.rank(*input, 4, "input")) ||
      failed(check.sameElementType({*grad, *input}, {"grad", "input"})))
    return failure();
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  auto forward = poolShape(check, input->getShape(), kernel,
                           adaptor.getStride().value_or(kernel),
                           adaptor.getPadding());
  if (failed(forward) || failed(check.shapeIs(*grad, *forward, "grad")))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult AvgPool2DBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  ArrayRef<int64_t> inputShape = adaptor.getInputShape();
  if (failed(grad) || failed(checkShapeAttr(check, inputShape, 4, "input_shape")))
    return failure();
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  auto forward = poolShape(check, inputShape, kernel,
                           adaptor.getStride().value_or(kernel),
                           adaptor.getPadding());
  if (failed(forward) || failed(check.shapeIs(*grad, *forward, "grad")))
    return failure();
  types.push_back(RankedTensorType::get(inputShape, grad->getElementType()));
  return success();
}

LogicalResult LayerNormBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  if (failed(sameTypeAs(check, adaptor.getGrad(), adaptor.getInput(), "input",
                        types)))
    return failure();
  auto input = cast<RankedTensorType>(types.back());
  auto axis = check.axis(adaptor.getAxis(), input.getRank(), "axis");
  if (failed(axis))
    return failure();
  if (adaptor.getEpsilon().convertToDouble() < 0)
    return check.fail("epsilon must not be negative");
  if (Value weightValue = adaptor.getWeight()) {
    auto weight = check.tensor(weightValue, "weight");
    if (failed(weight) ||
        failed(check.sameElementType({input, *weight}, {"input", "weight"})) ||
        failed(check.shapeIs(*weight, input.getShape().drop_front(*axis),
                             "weight")))
      return failure();
    types.append(2, *weight);
  }
  return success();
}

LogicalResult BatchNormBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  if (failed(sameTypeAs(check, adaptor.getGrad(), adaptor.getInput(), "input",
                        types)))
    return failure();
  auto input = cast<RankedTensorType>(types.back());
  if (failed(check.tensor(adaptor.getInput(), "input")))
    return failure();
  if (input.getRank() < 2)
    return check.fail("input must be [batch, channels, ...], got ",
                      formatShape(input.getShape()));
  if (adaptor.getEpsilon().convertToDouble() < 0)
    return check.fail("epsilon must not be negative");
  if (Value weightValue = adaptor.getWeight()) {
    auto weight = check.tensor(weightValue, "weight");
    if (failed(weight) ||
        failed(check.sameElementType({input, *weight}, {"input", "weight"})) ||
        failed(check.shapeIs(*weight, {input.getDimSize(1)}, "weight")))
      return failure();
    types.append(2, *weight);
  }
  return success();
}

LogicalResult LSTMBackwardOp::inferReturnTypes(MLIRContext *context,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  return inferRecurrentBackward(
      Checker(loc, getOperationName()), rules::lstm, adaptor.getInput(),
      adaptor.getWeights(), adaptor.getHiddenSize(), adaptor.getNumLayers(),
      {adaptor.getOutput(), adaptor.getFinalHidden(), adaptor.getFinalCell()},
      {adaptor.getOutputGrad(), adaptor.getFinalHiddenGrad(),
       adaptor.getFinalCellGrad()},
      {"output", "final_hidden", "final_cell"}, types);
}

LogicalResult GRUBackwardOp::inferReturnTypes(MLIRContext *context,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferRecurrentBackward(
      Checker(loc, getOperationName()), rules::gru, adaptor.getInput(),
      adaptor.getWeights(), adaptor.getHiddenSize(), adaptor.getNumLayers(),
      {adaptor.getOutput(), adaptor.getFinalHidden()},
      {adaptor.getOutputGrad(), adaptor.getFinalHiddenGrad()},
      {"output", "final_hidden"}, types);
}

LogicalResult AttentionBackwardOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  SmallVector<Type> forward;
  std::optional<double> scale;
  if (auto attr = adaptor.getScale())
    scale = attr->convertToDouble();
  if (failed(inferAttention(check, adaptor.getQuery(), adaptor.getKey(),
                            adaptor.getValue(), adaptor.getCounter(), scale,
                            adaptor.getDropout().convertToDouble(), forward)))
    return failure();
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  if (failed(grad) ||
      failed(check.shapeIs(*grad, cast<RankedTensorType>(forward[0]).getShape(),
                           "grad")))
    return failure();
  types.append({adaptor.getQuery().getType(), adaptor.getKey().getType(),
                adaptor.getValue().getType()});
  return success();
}

LogicalResult EmbeddingBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto grad = check.tensor(adaptor.getGrad(), "grad");
  auto ids = check.tensor(adaptor.getIds(), "ids");
  if (failed(grad) || failed(ids))
    return failure();
  int64_t num = adaptor.getNum();
  if (num <= 0)
    return check.fail("num must be positive, got ", num);
  SmallVector<int64_t> expected(ids->getShape());
  expected.push_back(grad->getRank() ? grad->getShape().back() : 1);
  if (failed(check.shapeIs(*grad, expected, "grad")))
    return failure();
  types.push_back(RankedTensorType::get({num, expected.back()},
                                        grad->getElementType()));
  return success();
}

LogicalResult LearningRateOp::inferReturnTypes(MLIRContext *context,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  StringRef schedule = adaptor.getSchedule();
  if (schedule != "constant" && schedule != "step" && schedule != "cosine")
    return check.fail("schedule must be constant, step or cosine, got '",
                      schedule, "'");
  if (!(adaptor.getLr().convertToDouble() > 0))
    return check.fail("lr must be positive");
  int64_t warmup = adaptor.getWarmup(), every = adaptor.getEvery();
  if (warmup < 0 || every <= 0 ||
      !(adaptor.getGamma().convertToDouble() > 0) ||
      adaptor.getMinLr().convertToDouble() < 0)
    return check.fail("needs warmup >= 0, every > 0, gamma > 0 and "
                      "min_lr >= 0");
  types.push_back(RankedTensorType::get({}, Float32Type::get(context)));
  return success();
}

LogicalResult ClipGradNormOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  if (adaptor.getGrads().empty())
    return check.fail("needs at least one gradient");
  if (!(adaptor.getMaxNorm().convertToDouble() > 0))
    return check.fail("max_norm must be positive");
  for (Value grad : adaptor.getGrads())
    types.push_back(grad.getType());
  return success();
}

LogicalResult AllReduceOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return Checker(loc, getOperationName()).fail("needs at least one tensor");
  for (Value input : adaptor.getInputs())
    types.push_back(input.getType());
  return success();
}
