//===- SemaConvolutions.cpp - The convolution layers ----------------------===//
//
// conv2d is the kiln op; conv1d is conv2d over [N, C, 1, L], with PyTorch's
// [out, C, k] weight reshaped to [out, C, 1, k]; conv_transpose2d is the
// gradient of a convolution with respect to its input (conv2d_backward_input),
// whose weight layout [in, out, KH, KW] is PyTorch's ConvTranspose2d's.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include <cmath>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using Kind = LayerInstance::Kind;

namespace {

std::vector<int64_t> vec(const std::array<int64_t, 2> &pair) {
  return {pair[0], pair[1]};
}

/// The layer's parameters, made at its first call: PyTorch's default bounds
/// are 1 / sqrt(fan_in), with fan_in from the weight's dimension 1 (which for
/// a transposed convolution is its output channels).
void makeParams(Elaborator &e, LayerInstance &layer,
                const std::vector<int64_t> &weightShape) {
  int64_t fanIn = 1;
  for (size_t d = 1; d < weightShape.size(); ++d)
    fanIn *= weightShape[d];
  double bound = 1 / std::sqrt(static_cast<double>(fanIn));
  e.newParam(layer, "weight", weightShape,
             weightInit(layer, weightShape, uniform(bound)));
  if (layer.bias)
    e.newParam(layer, "bias", {layer.out}, uniform(bound));
}

} // namespace

std::optional<Value> Elaborator::callConvolution(LayerInstance &layer,
                                                 ValueId x, SMLoc loc) {
  std::string what = "layer '" + layer.path + "'";
  TensorType type = typeOf(x);
  bool oneD = layer.kind == Kind::Conv1D;
  if (type.element != ElementType::F32 || type.rank() != (oneD ? 3 : 4))
    return error(loc, what + (oneD ? " convolves f32[batch, channels, length] "
                                     "sequences, got "
                                   : " convolves f32[batch, channels, height, "
                                     "width] images, got ") +
                          type.str());
  int64_t in = type.shape[1];
  if (!checkInputSize(*this, layer, in, loc, "input channels"))
    return std::nullopt;
  std::vector<int64_t> kernel = vec(layer.kernel);
  if (layer.params.empty()) {
    if (layer.kind == Kind::ConvTranspose2D)
      makeParams(*this, layer, {in, layer.out, kernel[0], kernel[1]});
    else if (oneD)
      makeParams(*this, layer, {layer.out, in, kernel[1]});
    else
      makeParams(*this, layer, {layer.out, in, kernel[0], kernel[1]});
  }
  std::vector<int64_t> stride = vec(layer.stride), padding = vec(layer.padding),
                       dilation = vec(layer.dilation);
  std::vector<std::pair<std::string, AttrValue>> window = {
      {"stride", stride}, {"padding", padding}, {"dilation", dilation}};
  ValueId weight = layer.params[0];
  // A copy: emitting ops grows the table of types that typeOf refers into.
  std::optional<TensorType> biasType;
  if (layer.bias)
    biasType = typeOf(layer.params[1]);
  const TensorType *bias = biasType ? &*biasType : nullptr;

  if (layer.kind == Kind::ConvTranspose2D) {
    Checked<TensorType> result =
        rules::convTranspose2d(type, typeOf(weight), stride, padding,
                               vec(layer.outputPadding), dilation);
    if (!result)
      return error(loc, what + ": " + result.problem().message);
    window.push_back({"input_shape", result->shape});
    std::optional<ValueId> y = emitChecked(
        OpKind::Conv2DBackwardInput, {x, weight}, std::move(window), *result,
        loc, what);
    if (!y || !bias)
      return Value::ofEmitted(y);
    ValueId channels = reshape(layer.params[1], {1, layer.out, 1, 1}, loc);
    return Value::ofEmitted(emitChecked(
        OpKind::Add, {*y, channels}, {},
        rules::broadcast(typeOf(*y), typeOf(channels)), loc, what));
  }

  std::vector<ValueId> operands = {x, weight};
  if (oneD) {
    operands = {reshape(x, {type.shape[0], in, 1, type.shape[2]}, loc),
                reshape(weight, {layer.out, in, 1, kernel[1]}, loc)};
    type = typeOf(operands[0]);
  }
  if (bias)
    operands.push_back(layer.params[1]);
  std::optional<ValueId> y = emitChecked(
      OpKind::Conv2D, operands, std::move(window),
      rules::conv2d(type, typeOf(operands[1]), bias, stride, padding,
                    dilation),
      loc, what, "pad the input or use a smaller kernel");
  if (!y || !oneD)
    return Value::ofEmitted(y);
  const TensorType &out = typeOf(*y);
  return Value::ofTensor(
      reshape(*y, {out.shape[0], out.shape[1], out.shape[3]}, loc));
}
