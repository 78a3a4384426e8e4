//===- KilnFlops.cpp - Floating-point operations of kiln ops --------------===//
//
// The FlopCountOpInterface of the ops that count their own operations, and
// the default of the others. Counts multiply-adds as two operations and
// every other elementwise operation (including a transcendental function)
// as one, as benchmarks usually count: the figure against which achieved
// GFLOP/s are reported.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;

namespace {

int64_t elements(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() ? type.getNumElements() : 0;
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// 2 * output elements * input channels * kernel area: a convolution's
/// multiply-adds, which each of its gradients repeats.
int64_t convolution(Value output, int64_t channels, int64_t kh, int64_t kw) {
  return 2 * elements(output) * channels * kh * kw;
}

/// A recurrent layer of `gates` gates: the gate products, then `pointwise`
/// elementwise operations per unit and step (about ten for the LSTM's
/// activations and state update, eight for the GRU's).
int64_t recurrent(ArrayRef<int64_t> input, int64_t hidden, int64_t layers,
                  int64_t gates, int64_t pointwise) {
  int64_t batch = input[0], steps = input[1], total = 0;
  for (int64_t layer = 0; layer < layers; ++layer) {
    int64_t in = layer ? hidden : input[2];
    total += steps * (2 * batch * gates * hidden * (in + hidden) +
                      pointwise * batch * hidden);
  }
  return total;
}

int64_t lstm(ArrayRef<int64_t> input, int64_t hidden, int64_t layers) {
  return recurrent(input, hidden, layers, 4, 10);
}

int64_t gru(ArrayRef<int64_t> input, int64_t hidden, int64_t layers) {
  return recurrent(input, hidden, layers, 3, 8);
}

int64_t attention(Value query, Value key, Value value) {
  ArrayRef<int64_t> q = shapeOf(query), k = shapeOf(key), v = shapeOf(value);
  int64_t batch = 1;
  for (int64_t size : q.drop_back(2))
    batch *= size;
  int64_t l = q[q.size() - 2], s = k[k.size() - 2];
  // Scores, softmax, weighted sum.
  return batch * l * s * (2 * q.back() + 5 + 2 * v.back());
}

} // namespace

int64_t kiln::countElementFlops(Operation *op) {
  int64_t total = 0;
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<RankedTensorType>(operand.getType());
        type && isa<FloatType>(type.getElementType()))
      total = std::max(total, elements(operand));
  return total;
}

int64_t kiln::countFlops(Operation *op) {
  auto counted = dyn_cast<FlopCountOpInterface>(op);
  return counted ? counted.countFlops() : 0;
}

//===----------------------------------------------------------------------===//
// Convolutions and pooling
//===----------------------------------------------------------------------===//

int64_t Conv2DOp::countFlops() {
  ArrayRef<int64_t> w = shapeOf(getWeight());
  return convolution(getResult(), w[1], w[2], w[3]);
}

int64_t Conv2DBackwardInputOp::countFlops() {
  ArrayRef<int64_t> w = shapeOf(getWeight());
  return convolution(getGrad(), w[1], w[2], w[3]);
}

int64_t Conv2DBackwardWeightOp::countFlops() {
  return convolution(getGrad(), shapeOf(getInput())[1], getKernel()[0],
                     getKernel()[1]);
}

int64_t MaxPool2DOp::countFlops() {
  return elements(getResult()) * getKernel()[0] * getKernel()[1];
}

int64_t AvgPool2DOp::countFlops() {
  return elements(getResult()) * getKernel()[0] * getKernel()[1];
}

//===----------------------------------------------------------------------===//
// Products
//===----------------------------------------------------------------------===//

int64_t MatmulOp::countFlops() {
  ArrayRef<int64_t> lhs = shapeOf(getLhs());
  int64_t k = getTransposeLhs() ? lhs[lhs.size() - 2] : lhs.back();
  return 2 * elements(getResult()) * k;
}

int64_t LinearOp::countFlops() {
  int64_t in = shapeOf(getWeight())[1];
  return 2 * elements(getResult()) * in +
         (getBias() ? elements(getResult()) : 0);
}

//===----------------------------------------------------------------------===//
// Sequence layers
//===----------------------------------------------------------------------===//

int64_t LSTMOp::countFlops() {
  return lstm(shapeOf(getInput()), getHiddenSize(), getNumLayers());
}

int64_t LSTMBackwardOp::countFlops() {
  return 2 * lstm(shapeOf(getInput()), getHiddenSize(), getNumLayers());
}

int64_t GRUOp::countFlops() {
  return gru(shapeOf(getInput()), getHiddenSize(), getNumLayers());
}

int64_t GRUBackwardOp::countFlops() {
  return 2 * gru(shapeOf(getInput()), getHiddenSize(), getNumLayers());
}

int64_t AttentionOp::countFlops() {
  return attention(getQuery(), getKey(), getValue());
}

int64_t AttentionBackwardOp::countFlops() {
  return 2 * attention(getQuery(), getKey(), getValue());
}

//===----------------------------------------------------------------------===//
// Normalization and optimizer updates: a few operations per element
//===----------------------------------------------------------------------===//

int64_t LayerNormOp::countFlops() { return 8 * elements(getInput()); }

int64_t LayerNormBackwardOp::countFlops() { return 8 * elements(getGrad()); }

int64_t SGDOp::countFlops() { return 6 * elements(getParam()); }

int64_t AdamOp::countFlops() { return 12 * elements(getParam()); }

int64_t AdamWOp::countFlops() { return 12 * elements(getParam()); }
