//===- KilnNNShapes.cpp - Result types and checks of layers and updates ---===//
//
// See KilnShapes.cpp: inferReturnTypes is each op's verifier too.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "ShapeChecks.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

FailureOr<SmallVector<int64_t>>
kiln::detail::convolutionShape(const Checker &check,
                               ArrayRef<int64_t> inputShape,
                               int64_t outChannels, ArrayRef<int64_t> kernel,
                               ArrayRef<int64_t> stride,
                               ArrayRef<int64_t> padding,
                               ArrayRef<int64_t> dilation) {
  if (kernel.size() != 2 || stride.size() != 2 || padding.size() != 2 ||
      dilation.size() != 2)
    return check.fail("stride, padding and dilation must have 2 entries");
  SmallVector<int64_t> shape = {inputShape[0], outChannels};
  for (int i = 0; i < 2; ++i) {
    if (stride[i] <= 0)
      return check.fail("strides must be positive, got ", formatShape(stride));
    if (dilation[i] <= 0)
      return check.fail("dilations must be positive, got ",
                        formatShape(dilation));
    if (padding[i] < 0)
      return check.fail("padding must not be negative, got ",
                        formatShape(padding));
    int64_t size = isDynamic(kernel[i])
                       ? kDynamic
                       : windowOutputSize(inputShape[2 + i], kernel[i],
                                          stride[i], padding[i], dilation[i]);
    if (!isDynamic(size) && size <= 0)
      return check.fail("the ", formatShape(kernel),
                        " kernel does not fit in the padded input ",
                        formatShape(inputShape));
    shape.push_back(size);
  }
  return shape;
}

FailureOr<SmallVector<int64_t>>
kiln::detail::poolShape(const Checker &check, ArrayRef<int64_t> inputShape,
                        ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                        ArrayRef<int64_t> padding) {
  if (kernel.size() != 2 || stride.size() != 2 || padding.size() != 2)
    return check.fail("kernel, stride and padding must have 2 entries");
  SmallVector<int64_t> shape(inputShape.take_front(2));
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] <= 0)
      return check.fail("kernel sizes must be positive, got ",
                        formatShape(kernel));
    if (stride[i] <= 0)
      return check.fail("strides must be positive, got ", formatShape(stride));
    if (padding[i] < 0 || 2 * padding[i] > kernel[i])
      return check.fail("padding must be between 0 and half the kernel, got ",
                        formatShape(padding), " for kernel ",
                        formatShape(kernel));
    int64_t size = windowOutputSize(inputShape[2 + i], kernel[i], stride[i],
                                    padding[i], /*dilation=*/1);
    if (!isDynamic(size) && size <= 0)
      return check.fail("kernel ", formatShape(kernel),
                        " does not fit in the padded input ",
                        formatShape(inputShape));
    shape.push_back(size);
  }
  return shape;
}

namespace {

/// Result type shared by max_pool2d and avg_pool2d.
LogicalResult inferPool2D(const Checker &check, Value inputValue,
                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                          ArrayRef<int64_t> padding,
                          SmallVectorImpl<Type> &types) {
  auto input = check.tensor(inputValue, "input");
  if (failed(input) || failed(check.rank(*input, 4, "input")))
    return failure();
  auto shape = poolShape(check, input->getShape(), kernel, stride, padding);
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, input->getElementType()));
  return success();
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

//===----------------------------------------------------------------------===//
// Neural-network operations
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  auto weight = check.tensor(adaptor.getWeight(), "weight");
  if (failed(input) || failed(weight) ||
      failed(check.rank(*input, 4, "input")) ||
      failed(check.rank(*weight, 4, "weight")) ||
      failed(check.sameElementType({*input, *weight}, {"input", "weight"})))
    return failure();
  int64_t outChannels = weight->getDimSize(0);
  if (!sizesAgree(input->getDimSize(1), weight->getDimSize(1)))
    return check.fail("input has ", input->getDimSize(1),
                      " channels but weight ",
                      formatShape(weight->getShape()), " expects ",
                      weight->getDimSize(1));
  if (Value biasValue = adaptor.getBias()) {
    auto bias = check.tensor(biasValue, "bias");
    if (failed(bias) ||
        failed(check.sameElementType({*input, *bias}, {"input", "bias"})) ||
        failed(check.shapeIs(*bias, {outChannels}, "bias")))
      return failure();
  }
  auto shape = convolutionShape(check, input->getShape(), outChannels,
                                weight->getShape().drop_front(2),
                                adaptor.getStride(), adaptor.getPadding(),
                                adaptor.getDilation());
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, input->getElementType()));
  return success();
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

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  auto weight = check.tensor(adaptor.getWeight(), "weight");
  if (failed(input) || failed(weight) ||
      failed(check.rank(*weight, 2, "weight")) ||
      failed(check.sameElementType({*input, *weight}, {"input", "weight"})))
    return failure();
  if (input->getRank() < 1)
    return check.fail("input must have rank 1 or more");
  int64_t inFeatures = input->getShape().back();
  if (!sizesAgree(inFeatures, weight->getDimSize(1)))
    return check.fail("input has ", inFeatures, " features but weight ",
                      formatShape(weight->getShape()), " expects ",
                      weight->getDimSize(1));
  int64_t outFeatures = weight->getDimSize(0);
  if (Value biasValue = adaptor.getBias()) {
    auto bias = check.tensor(biasValue, "bias");
    if (failed(bias) ||
        failed(check.sameElementType({*input, *bias}, {"input", "bias"})) ||
        failed(check.shapeIs(*bias, {outFeatures}, "bias")))
      return failure();
  }
  SmallVector<int64_t> shape(input->getShape());
  shape.back() = outFeatures;
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  auto axis = check.axis(adaptor.getAxis(), input->getRank(), "axis");
  if (failed(axis))
    return failure();
  if (adaptor.getBias() && !adaptor.getWeight())
    return check.fail("has a bias but no weight");
  ArrayRef<int64_t> normalized = input->getShape().drop_front(*axis);
  for (auto [value, name] : {std::pair(adaptor.getWeight(), "weight"),
                             std::pair(adaptor.getBias(), "bias")}) {
    if (!value)
      continue;
    auto type = check.tensor(value, name);
    if (failed(type) ||
        failed(check.sameElementType({*input, *type}, {"input", name})) ||
        failed(check.shapeIs(*type, normalized, name)))
      return failure();
  }
  if (adaptor.getEpsilon().convertToDouble() < 0)
    return check.fail("epsilon must not be negative");
  types.push_back(*input);
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  double p = adaptor.getP().convertToDouble();
  if (!(p >= 0 && p < 1))
    return check.fail("p must be in [0, 1), got ", formatNumber(p));
  types.push_back(*input);
  return success();
}

LogicalResult kiln::detail::inferLSTM(const Checker &check, Value inputValue,
                                      ValueRange weights, int64_t hidden,
                                      int64_t layers,
                                      SmallVectorImpl<Type> &types) {
  auto input = check.tensor(inputValue, "input");
  if (failed(input) || failed(check.rank(*input, 3, "input")))
    return failure();
  if (hidden <= 0)
    return check.fail("hidden_size must be positive, got ", hidden);
  if (layers <= 0)
    return check.fail("num_layers must be positive, got ", layers);
  if (static_cast<int64_t>(weights.size()) != 4 * layers)
    return check.fail("needs 4 weights per layer (", 4 * layers, " for ",
                      layers, " layers), got ", weights.size());
  for (int64_t layer = 0; layer < layers; ++layer) {
    int64_t inFeatures = layer == 0 ? input->getDimSize(2) : hidden;
    std::string suffix = "_l" + std::to_string(layer);
    SmallVector<int64_t> expected[] = {
        {4 * hidden, inFeatures}, {4 * hidden, hidden}, {4 * hidden},
        {4 * hidden}};
    const char *names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int i = 0; i < 4; ++i) {
      std::string name = names[i] + suffix;
      auto type = check.tensor(weights[4 * layer + i], name);
      if (failed(type) ||
          failed(check.sameElementType({*input, *type}, {"input", name})) ||
          failed(check.shapeIs(*type, expected[i], name)))
        return failure();
    }
  }
  int64_t batch = input->getDimSize(0), steps = input->getDimSize(1);
  Type element = input->getElementType();
  types.push_back(RankedTensorType::get({batch, steps, hidden}, element));
  types.append(2, RankedTensorType::get({layers, batch, hidden}, element));
  return success();
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferLSTM(Checker(loc, getOperationName()), adaptor.getInput(),
                   adaptor.getWeights(), adaptor.getHiddenSize(),
                   adaptor.getNumLayers(), types);
}

LogicalResult kiln::detail::inferAttention(const Checker &check, Value queryValue,
                                           Value keyValue, Value valueValue,
                                           std::optional<double> scale,
                                           SmallVectorImpl<Type> &types) {
  auto query = check.tensor(queryValue, "query");
  auto key = check.tensor(keyValue, "key");
  auto value = check.tensor(valueValue, "value");
  if (failed(query) || failed(key) || failed(value) ||
      failed(check.sameElementType({*query, *key, *value},
                                   {"query", "key", "value"})))
    return failure();
  int64_t rank = query->getRank();
  if (rank < 2 || key->getRank() != rank || value->getRank() != rank)
    return check.fail("query, key and value must have one rank of 2 or "
                      "more, got ",
                      formatShape(query->getShape()), ", ",
                      formatShape(key->getShape()), " and ",
                      formatShape(value->getShape()));
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank - 2; ++d) {
    int64_t q = query->getDimSize(d), k = key->getDimSize(d),
            v = value->getDimSize(d);
    if (!sizesAgree(q, k) || !sizesAgree(q, v) || !sizesAgree(k, v))
      return check.fail("batch dimensions differ: query ",
                        formatShape(query->getShape()), ", key ",
                        formatShape(key->getShape()), ", value ",
                        formatShape(value->getShape()));
    shape.push_back(mergeSizes(mergeSizes(q, k), v));
  }
  if (!sizesAgree(query->getDimSize(rank - 1), key->getDimSize(rank - 1)))
    return check.fail("query and key embeddings differ: ",
                      query->getDimSize(rank - 1), " and ",
                      key->getDimSize(rank - 1));
  if (!sizesAgree(key->getDimSize(rank - 2), value->getDimSize(rank - 2)))
    return check.fail("key and value sequences differ in length: ",
                      key->getDimSize(rank - 2), " and ",
                      value->getDimSize(rank - 2));
  if (scale && !(*scale > 0))
    return check.fail("scale must be positive");
  shape.push_back(query->getDimSize(rank - 2));
  shape.push_back(value->getDimSize(rank - 1));
  types.push_back(RankedTensorType::get(shape, query->getElementType()));
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  std::optional<double> scale;
  if (auto attr = adaptor.getScale())
    scale = attr->convertToDouble();
  return inferAttention(Checker(loc, getOperationName()), adaptor.getQuery(),
                        adaptor.getKey(), adaptor.getValue(), scale, types);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto logits = check.tensor(adaptor.getLogits(), "logits");
  auto labels = check.tensor(adaptor.getLabels(), "labels");
  if (failed(logits) || failed(labels) ||
      failed(check.rank(*logits, 2, "logits")) ||
      failed(check.rank(*labels, 1, "labels")))
    return failure();
  if (!sizesAgree(logits->getDimSize(0), labels->getDimSize(0)))
    return check.fail("has ", logits->getDimSize(0), " rows of logits but ",
                      labels->getDimSize(0), " labels");
  types.push_back(RankedTensorType::get({}, logits->getElementType()));
  return success();
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
