//===- KilnFlops.cpp - Floating-point operations of kiln ops --------------===//
//
// Counts multiply-adds as two operations and every other elementwise
// operation (including a transcendental function) as one, as benchmarks
// usually count: the figure against which achieved GFLOP/s are reported.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

#include "llvm/ADT/TypeSwitch.h"

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

int64_t kiln::countFlops(Operation *op) {
  return llvm::TypeSwitch<Operation *, int64_t>(op)
      .Case([](Conv2DOp conv) {
        ArrayRef<int64_t> w = shapeOf(conv.getWeight());
        return convolution(conv.getResult(), w[1], w[2], w[3]);
      })
      .Case([](Conv2DBackwardInputOp conv) {
        ArrayRef<int64_t> w = shapeOf(conv.getWeight());
        return convolution(conv.getGrad(), w[1], w[2], w[3]);
      })
      .Case([](Conv2DBackwardWeightOp conv) {
        return convolution(conv.getGrad(), shapeOf(conv.getInput())[1],
                           conv.getKernel()[0], conv.getKernel()[1]);
      })
      .Case([](MatmulOp matmul) {
        ArrayRef<int64_t> lhs = shapeOf(matmul.getLhs());
        int64_t k = matmul.getTransposeLhs() ? lhs[lhs.size() - 2] : lhs.back();
        return 2 * elements(matmul.getResult()) * k;
      })
      .Case([](LinearOp linear) {
        int64_t in = shapeOf(linear.getWeight())[1];
        return 2 * elements(linear.getResult()) * in +
               (linear.getBias() ? elements(linear.getResult()) : 0);
      })
      .Case([](LSTMOp op) {
        return lstm(shapeOf(op.getInput()), op.getHiddenSize(),
                    op.getNumLayers());
      })
      .Case([](LSTMBackwardOp op) {
        return 2 * lstm(shapeOf(op.getInput()), op.getHiddenSize(),
                        op.getNumLayers());
      })
      .Case([](GRUOp op) {
        return gru(shapeOf(op.getInput()), op.getHiddenSize(),
                   op.getNumLayers());
      })
      .Case([](GRUBackwardOp op) {
        return 2 * gru(shapeOf(op.getInput()), op.getHiddenSize(),
                       op.getNumLayers());
      })
      .Case([](AttentionOp op) {
        return attention(op.getQuery(), op.getKey(), op.getValue());
      })
      .Case([](AttentionBackwardOp op) {
        return 2 * attention(op.getQuery(), op.getKey(), op.getValue());
      })
      .Case([](MaxPool2DOp pool) {
        return elements(pool.getResult()) * pool.getKernel()[0] *
               pool.getKernel()[1];
      })
      .Case([](AvgPool2DOp pool) {
        return elements(pool.getResult()) * pool.getKernel()[0] *
               pool.getKernel()[1];
      })
      .Case<LayerNormOp, LayerNormBackwardOp>(
          [](Operation *norm) { return 8 * elements(norm->getOperand(0)); })
      .Case<AdamOp, AdamWOp>(
          [](Operation *update) { return 12 * elements(update->getOperand(0)); })
      .Case([](SGDOp sgd) { return 6 * elements(sgd.getParam()); })
      .Default([](Operation *other) -> int64_t {
        // Everything else: about one operation per element it reads.
        int64_t total = 0;
        for (Value operand : other->getOperands())
          if (auto type = dyn_cast<RankedTensorType>(operand.getType());
              type && isa<FloatType>(type.getElementType()))
            total = std::max(total, elements(operand));
        return total;
      });
}
