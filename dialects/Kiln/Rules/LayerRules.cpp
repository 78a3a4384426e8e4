//===- LayerRules.cpp - Shape rules of the layers -------------------------===//

#include "Kiln/Rules/Shapes.h"

#include "llvm/ADT/STLExtras.h"

using namespace kiln;
using namespace kiln::rules;
using llvm::Twine;

namespace {

std::optional<ShapeProblem> rank(const TensorType &type, int64_t rank,
                                 llvm::StringRef name) {
  if (type.rank() == rank)
    return std::nullopt;
  return shapeProblem(name, name + " must have rank " + Twine(rank) +
                                ", got " + formatShape(type.shape));
}

std::optional<ShapeProblem> sameElement(const TensorType &first,
                                        const TensorType &other,
                                        llvm::StringRef firstName,
                                        llvm::StringRef otherName) {
  if (first.element == other.element)
    return std::nullopt;
  return shapeProblem(otherName, otherName + " has element type " +
                                     elementName(other.element) + " but " +
                                     firstName + " has " +
                                     elementName(first.element));
}

std::optional<ShapeProblem> shapeIs(const TensorType &type,
                                    ArrayRef<int64_t> expected,
                                    llvm::StringRef name) {
  bool agree = type.shape.size() == expected.size() &&
               llvm::all_of(llvm::zip(type.shape, expected), [](auto pair) {
                 return sizesAgree(std::get<0>(pair), std::get<1>(pair));
               });
  if (agree)
    return std::nullopt;
  return shapeProblem(name, name + " must have shape " +
                                formatShape(expected) + ", got " +
                                formatShape(type.shape));
}

/// The element type and shape checks of an optional operand.
std::optional<ShapeProblem> optionalOperand(const TensorType &input,
                                            const TensorType *operand,
                                            ArrayRef<int64_t> expected,
                                            llvm::StringRef name) {
  if (!operand)
    return std::nullopt;
  if (auto problem = sameElement(input, *operand, "input", name))
    return problem;
  return shapeIs(*operand, expected, name);
}

/// Output size of a sliding window, kDynamic when the input size is unknown,
/// negative when the window does not fit.
int64_t windowOutputSize(int64_t input, int64_t kernel, int64_t stride,
                         int64_t padding, int64_t dilation) {
  if (isDynamic(input) || isDynamic(kernel))
    return kDynamic;
  int64_t span = input + 2 * padding - dilation * (kernel - 1) - 1;
  return span < 0 ? -1 : span / stride + 1;
}

} // namespace

Checked<Shape> rules::windowShape(ArrayRef<int64_t> input, int64_t channels,
                                  ArrayRef<int64_t> kernel,
                                  ArrayRef<int64_t> stride,
                                  ArrayRef<int64_t> padding,
                                  ArrayRef<int64_t> dilation) {
  size_t spatial = kernel.size();
  if (stride.size() != spatial || padding.size() != spatial ||
      dilation.size() != spatial || input.size() != spatial + 2)
    return shapeProblem("", "kernel, stride, padding and dilation must have " +
                                Twine(input.size() - 2) + " entries");
  Shape shape = {input[0], channels};
  for (size_t i = 0; i < spatial; ++i) {
    if (!isDynamic(kernel[i]) && kernel[i] <= 0)
      return shapeProblem("kernel", "kernel sizes must be positive, got " +
                                        formatShape(kernel));
    if (stride[i] <= 0)
      return shapeProblem("stride", "strides must be positive, got " +
                                        formatShape(stride));
    if (dilation[i] <= 0)
      return shapeProblem("dilation", "dilations must be positive, got " +
                                          formatShape(dilation));
    if (padding[i] < 0)
      return shapeProblem("padding", "padding must not be negative, got " +
                                         formatShape(padding));
    int64_t size = windowOutputSize(input[2 + i], kernel[i], stride[i],
                                    padding[i], dilation[i]);
    if (!isDynamic(size) && size <= 0)
      return shapeProblem("kernel", "the " + formatShape(kernel) +
                                        " kernel does not fit in the padded "
                                        "input " +
                                        formatShape(input));
    shape.push_back(size);
  }
  return shape;
}

Checked<TensorType> rules::conv2d(const TensorType &input,
                                  const TensorType &weight,
                                  const TensorType *bias,
                                  ArrayRef<int64_t> stride,
                                  ArrayRef<int64_t> padding,
                                  ArrayRef<int64_t> dilation) {
  if (auto problem = rank(input, 4, "input"))
    return *problem;
  if (auto problem = rank(weight, 4, "weight"))
    return *problem;
  if (auto problem = sameElement(input, weight, "input", "weight"))
    return *problem;
  int64_t outChannels = weight.shape[0];
  if (!sizesAgree(input.shape[1], weight.shape[1]))
    return shapeProblem("input", "input has " + Twine(input.shape[1]) +
                                     " channels but weight " +
                                     formatShape(weight.shape) + " expects " +
                                     Twine(weight.shape[1]));
  if (auto problem = optionalOperand(input, bias, {outChannels}, "bias"))
    return *problem;
  Checked<Shape> shape =
      windowShape(input.shape, outChannels, ArrayRef(weight.shape).drop_front(2),
                  stride, padding, dilation);
  if (!shape)
    return shape.problem();
  return TensorType{input.element, *shape};
}

Checked<TensorType> rules::convTranspose2d(const TensorType &input,
                                           const TensorType &weight,
                                           ArrayRef<int64_t> stride,
                                           ArrayRef<int64_t> padding,
                                           ArrayRef<int64_t> outputPadding,
                                           ArrayRef<int64_t> dilation) {
  if (auto problem = rank(input, 4, "input"))
    return *problem;
  if (auto problem = rank(weight, 4, "weight"))
    return *problem;
  if (auto problem = sameElement(input, weight, "input", "weight"))
    return *problem;
  if (!sizesAgree(input.shape[1], weight.shape[0]))
    return shapeProblem("input", "input has " + Twine(input.shape[1]) +
                                     " channels but weight " +
                                     formatShape(weight.shape) + " expects " +
                                     Twine(weight.shape[0]));
  TensorType result{input.element, {input.shape[0], weight.shape[1]}};
  for (int i = 0; i < 2; ++i) {
    if (stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0)
      return shapeProblem("stride", "strides and dilations must be positive "
                                    "and padding not negative");
    if (outputPadding[i] < 0 ||
        outputPadding[i] >= std::max(stride[i], dilation[i]))
      return shapeProblem("output_padding",
                          "output_padding must be smaller than the stride or "
                          "the dilation, got " +
                              formatShape(outputPadding));
    int64_t size = input.shape[2 + i];
    int64_t out = isDynamic(size)
                      ? kDynamic
                      : (size - 1) * stride[i] - 2 * padding[i] +
                            dilation[i] * (weight.shape[2 + i] - 1) +
                            outputPadding[i] + 1;
    if (!isDynamic(out) && out <= 0)
      return shapeProblem("padding", "the padding " + formatShape(padding) +
                                         " leaves no output of " +
                                         formatShape(input.shape));
    result.shape.push_back(out);
  }
  return result;
}

Checked<TensorType> rules::pool2d(const TensorType &input,
                                  ArrayRef<int64_t> kernel,
                                  ArrayRef<int64_t> stride,
                                  ArrayRef<int64_t> padding) {
  if (auto problem = rank(input, 4, "input"))
    return *problem;
  if (kernel.size() != 2 || stride.size() != 2 || padding.size() != 2)
    return shapeProblem("", "kernel, stride and padding must have 2 entries");
  for (int i = 0; i < 2; ++i)
    if (kernel[i] > 0 && (padding[i] < 0 || 2 * padding[i] > kernel[i]))
      return shapeProblem("padding",
                          "padding must be between 0 and half the kernel, "
                          "got " +
                              formatShape(padding) + " for kernel " +
                              formatShape(kernel));
  int64_t dilation[] = {1, 1};
  Checked<Shape> shape = windowShape(input.shape, input.shape[1], kernel,
                                     stride, padding, dilation);
  if (!shape)
    return shape.problem();
  return TensorType{input.element, *shape};
}

Checked<TensorType> rules::linear(const TensorType &input,
                                  const TensorType &weight,
                                  const TensorType *bias) {
  if (auto problem = rank(weight, 2, "weight"))
    return *problem;
  if (auto problem = sameElement(input, weight, "input", "weight"))
    return *problem;
  if (input.rank() < 1)
    return shapeProblem("input", "input must have rank 1 or more");
  int64_t inFeatures = input.shape.back();
  if (!sizesAgree(inFeatures, weight.shape[1]))
    return shapeProblem("input", "input has " + Twine(inFeatures) +
                                     " features but weight " +
                                     formatShape(weight.shape) + " expects " +
                                     Twine(weight.shape[1]));
  int64_t outFeatures = weight.shape[0];
  if (auto problem = optionalOperand(input, bias, {outFeatures}, "bias"))
    return *problem;
  TensorType result = input;
  result.shape.back() = outFeatures;
  return result;
}

Checked<TensorType> rules::layerNorm(const TensorType &input,
                                     const TensorType *weight,
                                     const TensorType *bias, int64_t a,
                                     double epsilon) {
  Checked<int64_t> normalized = axis(a, input.rank(), "axis");
  if (!normalized)
    return normalized.problem();
  if (bias && !weight)
    return shapeProblem("bias", "has a bias but no weight");
  ArrayRef<int64_t> features = ArrayRef(input.shape).drop_front(*normalized);
  if (auto problem = optionalOperand(input, weight, features, "weight"))
    return *problem;
  if (auto problem = optionalOperand(input, bias, features, "bias"))
    return *problem;
  if (epsilon < 0)
    return shapeProblem("epsilon", "epsilon must not be negative");
  return input;
}

std::optional<ShapeProblem> rules::dropoutProbability(double p,
                                                      llvm::StringRef name) {
  if (p >= 0 && p < 1)
    return std::nullopt;
  return shapeProblem(name,
                      name + " must be in [0, 1), got " + formatNumber(p));
}

Checked<TensorType> rules::dropout(const TensorType &input, double p) {
  if (auto problem = dropoutProbability(p, "p"))
    return *problem;
  return input;
}

Checked<std::vector<TensorType>>
rules::batchNorm(const TensorType &input, const TensorType *weight,
                 const TensorType *bias, const TensorType &runningMean,
                 const TensorType &runningVar,
                 const TensorType &numBatchesTracked, double epsilon,
                 double momentum) {
  if (input.rank() < 2)
    return shapeProblem("input", "input must be [batch, channels, ...], got " +
                                     formatShape(input.shape));
  if (bias && !weight)
    return shapeProblem("bias", "has a bias but no weight");
  int64_t channels = input.shape[1];
  for (auto [operand, name] :
       {std::pair(weight, "weight"), std::pair(bias, "bias"),
        std::pair(&runningMean, "running_mean"),
        std::pair(&runningVar, "running_var")})
    if (auto problem = optionalOperand(input, operand, {channels}, name))
      return *problem;
  if (numBatchesTracked.element != ElementType::I64 ||
      numBatchesTracked.rank() != 0)
    return shapeProblem("num_batches_tracked",
                        "num_batches_tracked must be an i64 scalar, got " +
                            numBatchesTracked.str());
  if (epsilon < 0)
    return shapeProblem("epsilon", "epsilon must not be negative");
  if (!(momentum >= 0 && momentum <= 1))
    return shapeProblem("momentum", "momentum must be in [0, 1], got " +
                                        formatNumber(momentum));
  return std::vector<TensorType>{input, runningMean, runningVar,
                                 numBatchesTracked};
}

/// The rule of a multi-layer recurrent layer whose weights stack `gates`
/// gates: the output sequence, then `states` final states [L, B, H].
static Checked<std::vector<TensorType>>
recurrent(const TensorType &input, ArrayRef<TensorType> weights, int64_t hidden,
          int64_t layers, int64_t gates, int states) {
  if (auto problem = rank(input, 3, "input"))
    return *problem;
  if (hidden <= 0)
    return shapeProblem("hidden_size", "hidden_size must be positive, got " +
                                           Twine(hidden));
  if (layers <= 0)
    return shapeProblem("num_layers", "num_layers must be positive, got " +
                                          Twine(layers));
  if (static_cast<int64_t>(weights.size()) != 4 * layers)
    return shapeProblem("weights", "needs 4 weights per layer (" +
                                       Twine(4 * layers) + " for " +
                                       Twine(layers) + " layers), got " +
                                       Twine(weights.size()));
  for (int64_t layer = 0; layer < layers; ++layer) {
    int64_t inFeatures = layer == 0 ? input.shape[2] : hidden;
    std::string suffix = "_l" + std::to_string(layer);
    Shape expected[] = {{gates * hidden, inFeatures},
                        {gates * hidden, hidden},
                        {gates * hidden},
                        {gates * hidden}};
    const char *names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
    for (int i = 0; i < 4; ++i) {
      std::string name = names[i] + suffix;
      const TensorType &weight = weights[4 * layer + i];
      if (auto problem = sameElement(input, weight, "input", name))
        return *problem;
      if (auto problem = shapeIs(weight, expected[i], name))
        return *problem;
    }
  }
  int64_t batch = input.shape[0], steps = input.shape[1];
  std::vector<TensorType> results = {{input.element, {batch, steps, hidden}}};
  results.insert(results.end(), states,
                 TensorType{input.element, {layers, batch, hidden}});
  return results;
}

Checked<std::vector<TensorType>> rules::lstm(const TensorType &input,
                                             ArrayRef<TensorType> weights,
                                             int64_t hidden, int64_t layers) {
  return recurrent(input, weights, hidden, layers, /*gates=*/4, /*states=*/2);
}

Checked<std::vector<TensorType>> rules::gru(const TensorType &input,
                                            ArrayRef<TensorType> weights,
                                            int64_t hidden, int64_t layers) {
  return recurrent(input, weights, hidden, layers, /*gates=*/3, /*states=*/1);
}

Checked<TensorType> rules::attention(const TensorType &query,
                                     const TensorType &key,
                                     const TensorType &value,
                                     std::optional<double> scale,
                                     double dropout) {
  if (auto problem = sameElement(query, key, "query", "key"))
    return *problem;
  if (auto problem = sameElement(query, value, "query", "value"))
    return *problem;
  int64_t r = query.rank();
  if (r < 2 || key.rank() != r || value.rank() != r)
    return shapeProblem("", "query, key and value must have one rank of 2 or "
                            "more, got " +
                                formatShape(query.shape) + ", " +
                                formatShape(key.shape) + " and " +
                                formatShape(value.shape));
  TensorType result{query.element, {}};
  for (int64_t d = 0; d < r - 2; ++d) {
    int64_t q = query.shape[d], k = key.shape[d], v = value.shape[d];
    if (!sizesAgree(q, k) || !sizesAgree(q, v) || !sizesAgree(k, v))
      return shapeProblem("", "batch dimensions differ: query " +
                                  formatShape(query.shape) + ", key " +
                                  formatShape(key.shape) + ", value " +
                                  formatShape(value.shape));
    result.shape.push_back(mergeSizes(mergeSizes(q, k), v));
  }
  if (!sizesAgree(query.shape[r - 1], key.shape[r - 1]))
    return shapeProblem("key", "query and key embeddings differ: " +
                                   Twine(query.shape[r - 1]) + " and " +
                                   Twine(key.shape[r - 1]));
  if (!sizesAgree(key.shape[r - 2], value.shape[r - 2]))
    return shapeProblem("value", "key and value sequences differ in length: " +
                                     Twine(key.shape[r - 2]) + " and " +
                                     Twine(value.shape[r - 2]));
  if (scale && !(*scale > 0))
    return shapeProblem("scale", "scale must be positive");
  if (auto problem = dropoutProbability(dropout, "dropout"))
    return *problem;
  result.shape.push_back(query.shape[r - 2]);
  result.shape.push_back(value.shape[r - 1]);
  return result;
}

Checked<TensorType> rules::crossEntropy(const TensorType &logits,
                                        const TensorType &labels,
                                        double labelSmoothing) {
  if (auto problem = rank(logits, 2, "logits"))
    return *problem;
  if (auto problem = rank(labels, 1, "labels"))
    return *problem;
  if (!sizesAgree(logits.shape[0], labels.shape[0]))
    return shapeProblem("labels", "has " + Twine(logits.shape[0]) +
                                      " rows of logits but " +
                                      Twine(labels.shape[0]) + " labels");
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    return shapeProblem("label_smoothing",
                        "label_smoothing must be in [0, 1], got " +
                            formatNumber(labelSmoothing));
  return TensorType{logits.element, {}};
}
