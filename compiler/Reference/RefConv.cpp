//===- RefConv.cpp - Reference semantics of convolution and pooling -------===//
//
// A convolution is a sum over (output position, kernel tap) pairs. The
// forward op and both gradients visit exactly the same pairs, through one
// loop nest, so that they are each other's adjoints by construction; the
// pooling ops share a loop nest over windows the same way.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// Where a 2-D window with these attributes reads an input of `height` x
/// `width`: tap (i, j) of output position (y, x) is input (row, col).
struct Window {
  ArrayRef<int64_t> stride, padding, dilation;
  int64_t height, width;

  int64_t row(int64_t y, int64_t i) const {
    return y * stride[0] - padding[0] + i * dilation[0];
  }
  int64_t col(int64_t x, int64_t j) const {
    return x * stride[1] - padding[1] + j * dilation[1];
  }
  /// Whether (row, col) lies in the input rather than in its padding.
  bool inside(int64_t r, int64_t c) const {
    return r >= 0 && r < height && c >= 0 && c < width;
  }
};

/// Calls fn(inputIndex, weightIndex, outputIndex) for every product of the
/// convolution of an input [N, C, H, W] by a weight [O, C, KH, KW] into an
/// output [N, O, OH, OW]; taps that fall in the zero padding are skipped.
template <typename Fn>
void forEachConvTap(ArrayRef<int64_t> input, ArrayRef<int64_t> weight,
                    ArrayRef<int64_t> output, const Window &window, Fn fn) {
  for (int64_t n = 0; n < input[0]; ++n)
    for (int64_t o = 0; o < weight[0]; ++o)
      for (int64_t y = 0; y < output[2]; ++y)
        for (int64_t x = 0; x < output[3]; ++x)
          for (int64_t c = 0; c < input[1]; ++c)
            for (int64_t i = 0; i < weight[2]; ++i)
              for (int64_t j = 0; j < weight[3]; ++j) {
                int64_t r = window.row(y, i), s = window.col(x, j);
                if (window.inside(r, s))
                  fn(flatten({n, c, r, s}, input),
                     flatten({o, c, i, j}, weight),
                     flatten({n, o, y, x}, output));
              }
}

/// Calls fn(outputIndex, taps) for every window of pooling an input
/// [N, C, H, W] into an output [N, C, OH, OW], where `taps` lists the input
/// positions of the window that are not padding, in row-major order.
template <typename Fn>
void forEachPoolWindow(ArrayRef<int64_t> input, ArrayRef<int64_t> output,
                       ArrayRef<int64_t> kernel, const Window &window, Fn fn) {
  for (int64_t n = 0; n < input[0]; ++n)
    for (int64_t c = 0; c < input[1]; ++c)
      for (int64_t y = 0; y < output[2]; ++y)
        for (int64_t x = 0; x < output[3]; ++x) {
          llvm::SmallVector<int64_t, 16> taps;
          for (int64_t i = 0; i < kernel[0]; ++i)
            for (int64_t j = 0; j < kernel[1]; ++j) {
              int64_t r = window.row(y, i), s = window.col(x, j);
              if (window.inside(r, s))
                taps.push_back(flatten({n, c, r, s}, input));
            }
          fn(flatten({n, c, y, x}, output), ArrayRef<int64_t>(taps));
        }
}

/// The tap holding the window's maximum, the first one on ties. Padding is
/// -infinity, so it never wins, and a window always holds an input element
/// because padding is at most half the kernel.
int64_t maxTap(const Tensor &input, ArrayRef<int64_t> taps) {
  int64_t best = taps.front();
  for (int64_t tap : taps)
    if (isGreater(input.reals[tap], input.reals[best]))
      best = tap;
  return best;
}

/// What avg_pool2d divides a window's sum by.
int64_t poolDivisor(ArrayRef<int64_t> kernel, ArrayRef<int64_t> taps,
                    bool countIncludePad) {
  return countIncludePad ? kernel[0] * kernel[1] : taps.size();
}

Window makeWindow(ArrayRef<int64_t> input, ArrayRef<int64_t> stride,
                  ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation) {
  return Window{stride, padding, dilation, input[2], input[3]};
}

constexpr int64_t kNoDilation[] = {1, 1};

} // namespace

static LogicalResult evaluateOp(Conv2DOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()], &weight = frame[op.getWeight()];
  std::vector<int64_t> shape = shapeOf(op.getResult());
  Tensor result = zeros(shape);
  forEachConvTap(input.shape, weight.shape, shape,
                 makeWindow(input.shape, op.getStride(), op.getPadding(),
                            op.getDilation()),
                 [&](int64_t in, int64_t w, int64_t out) {
                   result.reals[out] += input.reals[in] * weight.reals[w];
                 });
  if (Value biasValue = op.getBias()) {
    const Tensor &bias = frame[biasValue];
    for (int64_t j = 0, e = result.numElements(); j < e; ++j)
      result.reals[j] += bias.reals[unflatten(j, shape)[1]];
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(Conv2DBackwardInputOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &weight = frame[op.getWeight()];
  ArrayRef<int64_t> inputShape = op.getInputShape();
  Tensor result = zeros(inputShape);
  forEachConvTap(
      inputShape, weight.shape, grad.shape,
      makeWindow(inputShape, op.getStride(), op.getPadding(), op.getDilation()),
      [&](int64_t in, int64_t w, int64_t out) {
        result.reals[in] += grad.reals[out] * weight.reals[w];
      });
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(Conv2DBackwardWeightOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  std::vector<int64_t> shape = shapeOf(op.getResult());
  Tensor result = zeros(shape);
  forEachConvTap(input.shape, shape, grad.shape,
                 makeWindow(input.shape, op.getStride(), op.getPadding(),
                            op.getDilation()),
                 [&](int64_t in, int64_t w, int64_t out) {
                   result.reals[w] += grad.reals[out] * input.reals[in];
                 });
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(MaxPool2DOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  std::vector<int64_t> shape = shapeOf(op.getResult());
  Tensor result = zeros(shape);
  forEachPoolWindow(input.shape, shape, op.getKernel(),
                    makeWindow(input.shape, op.getEffectiveStride(),
                               op.getPadding(), kNoDilation),
                    [&](int64_t out, ArrayRef<int64_t> taps) {
                      result.reals[out] = input.reals[maxTap(input, taps)];
                    });
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(MaxPool2DBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  ArrayRef<int64_t> kernel = op.getKernel();
  Tensor result = zeros(input.shape);
  forEachPoolWindow(input.shape, grad.shape, kernel,
                    makeWindow(input.shape, op.getStride().value_or(kernel),
                               op.getPadding(), kNoDilation),
                    [&](int64_t out, ArrayRef<int64_t> taps) {
                      result.reals[maxTap(input, taps)] += grad.reals[out];
                    });
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(AvgPool2DOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  ArrayRef<int64_t> kernel = op.getKernel();
  std::vector<int64_t> shape = shapeOf(op.getResult());
  Tensor result = zeros(shape);
  forEachPoolWindow(input.shape, shape, kernel,
                    makeWindow(input.shape, op.getEffectiveStride(),
                               op.getPadding(), kNoDilation),
                    [&](int64_t out, ArrayRef<int64_t> taps) {
                      double sum = 0;
                      for (int64_t tap : taps)
                        sum += input.reals[tap];
                      result.reals[out] =
                          sum /
                          poolDivisor(kernel, taps, op.getCountIncludePad());
                    });
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(AvgPool2DBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()];
  ArrayRef<int64_t> kernel = op.getKernel(), inputShape = op.getInputShape();
  Tensor result = zeros(inputShape);
  forEachPoolWindow(inputShape, grad.shape, kernel,
                    makeWindow(inputShape, op.getStride().value_or(kernel),
                               op.getPadding(), kNoDilation),
                    [&](int64_t out, ArrayRef<int64_t> taps) {
                      double share =
                          grad.reals[out] /
                          poolDivisor(kernel, taps, op.getCountIncludePad());
                      for (int64_t tap : taps)
                        result.reals[tap] += share;
                    });
  frame.set(op.getResult(), std::move(result));
  return success();
}

void reference::registerConvKernels(KernelTable &table) {
  table.add<Conv2DOp>(evaluateOp);
  table.add<Conv2DBackwardInputOp>(evaluateOp);
  table.add<Conv2DBackwardWeightOp>(evaluateOp);
  table.add<MaxPool2DOp>(evaluateOp);
  table.add<MaxPool2DBackwardOp>(evaluateOp);
  table.add<AvgPool2DOp>(evaluateOp);
  table.add<AvgPool2DBackwardOp>(evaluateOp);
}
