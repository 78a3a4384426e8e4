//===- KilnNNShapes.cpp - Result types and checks of layers and updates ---===//
//
// See KilnShapes.cpp: inferReturnTypes is each op's verifier too, and the
// rules of the layers live in Kiln/Rules.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "ShapeChecks.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

namespace {

/// The address of an optional operand's type, for the rules.
const kiln::TensorType *ptr(const std::optional<kiln::TensorType> &type) {
  return type ? &*type : nullptr;
}

/// Result type shared by max_pool2d and avg_pool2d.
LogicalResult inferPool2D(const Checker &check, Value inputValue,
                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                          ArrayRef<int64_t> padding,
                          SmallVectorImpl<Type> &types) {
  auto input = check.operand(inputValue, "input");
  if (failed(input))
    return failure();
  return check.results(inputValue.getContext(),
                       rules::pool2d(*input, kernel, stride, padding), types);
}

/// Result types shared by adam and adamw.
LogicalResult inferAdamLike(const Checker &check, Value param, Value grad,
                            Value expAvg, Value expAvgSq, Value lr,
                            double beta1, double beta2, double epsilon,
                            double weightDecay, SmallVectorImpl<Type> &types) {
  auto paramType = check.tensor(param, "param");
  if (failed(paramType))
    return failure();
  StringRef names[] = {"grad", "exp_avg", "exp_avg_sq"};
  for (auto [value, name] : llvm::zip(ValueRange{grad, expAvg, expAvgSq}, names))
    if (value.getType() != *paramType)
      return check.fail(name, " must have the type of param ", *paramType,
                        ", got ", value.getType());
  if (getElementTypeOrSelf(lr.getType()) != paramType->getElementType())
    return check.fail("lr must have the element type of param ",
                      paramType->getElementType());
  if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1)
    return check.fail("beta1 and beta2 must be in [0, 1), got ",
                      formatNumber(beta1), " and ", formatNumber(beta2));
  if (epsilon < 0)
    return check.fail("epsilon must not be negative, got ",
                      formatNumber(epsilon));
  if (weightDecay < 0)
    return check.fail("weight_decay must not be negative, got ",
                      formatNumber(weightDecay));
  types.append(3, *paramType);
  return success();
}

} // namespace

FailureOr<SmallVector<int64_t>>
kiln::detail::convolutionShape(const Checker &check,
                               ArrayRef<int64_t> inputShape,
                               int64_t outChannels, ArrayRef<int64_t> kernel,
                               ArrayRef<int64_t> stride,
                               ArrayRef<int64_t> padding,
                               ArrayRef<int64_t> dilation) {
  Checked<Shape> shape = rules::windowShape(inputShape, outChannels, kernel,
                                            stride, padding, dilation);
  if (!shape)
    return check.fail(shape.problem().message);
  return SmallVector<int64_t>(shape->begin(), shape->end());
}

FailureOr<SmallVector<int64_t>>
kiln::detail::poolShape(const Checker &check, ArrayRef<int64_t> inputShape,
                        ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                        ArrayRef<int64_t> padding) {
  Checked<kiln::TensorType> type = rules::pool2d(
      {ElementType::F32, Shape(inputShape)}, kernel, stride, padding);
  if (!type)
    return check.fail(type.problem().message);
  return SmallVector<int64_t>(type->shape.begin(), type->shape.end());
}

LogicalResult kiln::detail::inferRecurrent(const Checker &check,
                                           RecurrentRule rule, Value inputValue,
                                           ValueRange weights, int64_t hidden,
                                           int64_t layers,
                                           SmallVectorImpl<Type> &types) {
  auto input = check.operand(inputValue, "input");
  auto weightTypes = check.operands(weights, "weight");
  if (failed(input) || failed(weightTypes))
    return failure();
  return check.results(inputValue.getContext(),
                       rule(*input, *weightTypes, hidden, layers), types);
}

LogicalResult kiln::detail::inferAttention(const Checker &check,
                                           Value queryValue, Value keyValue,
                                           Value valueValue, Value counter,
                                           std::optional<double> scale,
                                           double dropout,
                                           SmallVectorImpl<Type> &types) {
  auto query = check.operand(queryValue, "query");
  auto key = check.operand(keyValue, "key");
  auto value = check.operand(valueValue, "value");
  if (failed(query) || failed(key) || failed(value))
    return failure();
  if (failed(check.results(
          queryValue.getContext(),
          rules::attention(*query, *key, *value, scale, dropout), types)))
    return failure();
  if (dropout > 0 && !counter)
    return check.fail("needs the step counter operand to draw its dropout");
  if (dropout == 0 && counter)
    return check.fail("has a step counter but no dropout");
  return success();
}

//===----------------------------------------------------------------------===//
// Neural-network operations
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  auto weight = check.operand(adaptor.getWeight(), "weight");
  auto bias = check.optionalOperand(adaptor.getBias(), "bias");
  if (failed(input) || failed(weight) || failed(bias))
    return failure();
  return check.results(context,
                       rules::conv2d(*input, *weight, ptr(*bias),
                                     adaptor.getStride(), adaptor.getPadding(),
                                     adaptor.getDilation()),
                       types);
}

LogicalResult MaxPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  return inferPool2D(Checker(loc, getOperationName()), adaptor.getInput(),
                     kernel, adaptor.getStride().value_or(kernel),
                     adaptor.getPadding(), types);
}

LogicalResult AvgPool2DOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  return inferPool2D(Checker(loc, getOperationName()), adaptor.getInput(),
                     kernel, adaptor.getStride().value_or(kernel),
                     adaptor.getPadding(), types);
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  auto weight = check.operand(adaptor.getWeight(), "weight");
  auto bias = check.optionalOperand(adaptor.getBias(), "bias");
  if (failed(input) || failed(weight) || failed(bias))
    return failure();
  return check.results(context, rules::linear(*input, *weight, ptr(*bias)),
                       types);
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  auto weight = check.optionalOperand(adaptor.getWeight(), "weight");
  auto bias = check.optionalOperand(adaptor.getBias(), "bias");
  if (failed(input) || failed(weight) || failed(bias))
    return failure();
  return check.results(context,
                       rules::layerNorm(*input, ptr(*weight), ptr(*bias),
                                        adaptor.getAxis(),
                                        adaptor.getEpsilon().convertToDouble()),
                       types);
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  auto weight = check.optionalOperand(adaptor.getWeight(), "weight");
  auto bias = check.optionalOperand(adaptor.getBias(), "bias");
  auto mean = check.operand(adaptor.getRunningMean(), "running_mean");
  auto var = check.operand(adaptor.getRunningVar(), "running_var");
  auto count =
      check.operand(adaptor.getNumBatchesTracked(), "num_batches_tracked");
  if (failed(input) || failed(weight) || failed(bias) || failed(mean) ||
      failed(var) || failed(count))
    return failure();
  return check.results(
      context,
      rules::batchNorm(*input, ptr(*weight), ptr(*bias), *mean, *var, *count,
                       adaptor.getEpsilon().convertToDouble(),
                       adaptor.getMomentum().convertToDouble()),
      types);
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(
      context, rules::dropout(*input, adaptor.getP().convertToDouble()), types);
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferRecurrent(Checker(loc, getOperationName()), rules::lstm,
                        adaptor.getInput(), adaptor.getWeights(),
                        adaptor.getHiddenSize(), adaptor.getNumLayers(), types);
}

LogicalResult GRUOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferRecurrent(Checker(loc, getOperationName()), rules::gru,
                        adaptor.getInput(), adaptor.getWeights(),
                        adaptor.getHiddenSize(), adaptor.getNumLayers(), types);
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  std::optional<double> scale;
  if (auto attr = adaptor.getScale())
    scale = attr->convertToDouble();
  return inferAttention(Checker(loc, getOperationName()), adaptor.getQuery(),
                        adaptor.getKey(), adaptor.getValue(),
                        adaptor.getCounter(), scale,
                        adaptor.getDropout().convertToDouble(), types);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *context,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto logits = check.operand(adaptor.getLogits(), "logits");
  auto labels = check.operand(adaptor.getLabels(), "labels");
  if (failed(logits) || failed(labels))
    return failure();
  return check.results(
      context,
      rules::crossEntropy(*logits, *labels,
                          adaptor.getLabelSmoothing().convertToDouble()),
      types);
}

//===----------------------------------------------------------------------===//
// Optimizer operations
//===----------------------------------------------------------------------===//

LogicalResult SGDOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto param = check.tensor(adaptor.getParam(), "param");
  if (failed(param))
    return failure();
  if (adaptor.getGrad().getType() != *param)
    return check.fail("grad must have the type of param ", *param, ", got ",
                      adaptor.getGrad().getType());
  if (getElementTypeOrSelf(adaptor.getLr().getType()) !=
      param->getElementType())
    return check.fail("lr must have the element type of param ",
                      param->getElementType());
  double momentum = adaptor.getMomentum().convertToDouble();
  double dampening = adaptor.getDampening().convertToDouble();
  if (momentum < 0 || dampening < 0 ||
      adaptor.getWeightDecay().convertToDouble() < 0)
    return check.fail(
        "momentum, dampening and weight_decay must not be negative");
  if (adaptor.getNesterov() && (momentum <= 0 || dampening != 0))
    return check.fail("nesterov momentum needs a positive momentum and zero "
                      "dampening");
  Value buffer = adaptor.getMomentumBuffer();
  if ((momentum != 0) != static_cast<bool>(buffer))
    return check.fail(momentum != 0
                          ? "needs a momentum buffer when momentum is not 0"
                          : "takes no momentum buffer when momentum is 0");
  types.push_back(*param);
  if (buffer) {
    if (buffer.getType() != *param)
      return check.fail("momentum_buffer must have the type of param ", *param,
                        ", got ", buffer.getType());
    types.push_back(*param);
  }
  return success();
}

LogicalResult AdamOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferAdamLike(
      Checker(loc, getOperationName()), adaptor.getParam(), adaptor.getGrad(),
      adaptor.getExpAvg(), adaptor.getExpAvgSq(), adaptor.getLr(),
      adaptor.getBeta1().convertToDouble(), adaptor.getBeta2().convertToDouble(),
      adaptor.getEpsilon().convertToDouble(),
      adaptor.getWeightDecay().convertToDouble(), types);
}

LogicalResult AdamWOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return inferAdamLike(
      Checker(loc, getOperationName()), adaptor.getParam(), adaptor.getGrad(),
      adaptor.getExpAvg(), adaptor.getExpAvgSq(), adaptor.getLr(),
      adaptor.getBeta1().convertToDouble(), adaptor.getBeta2().convertToDouble(),
      adaptor.getEpsilon().convertToDouble(),
      adaptor.getWeightDecay().convertToDouble(), types);
}
