//===- RefLSTM.cpp - Reference semantics of the LSTM and its gradient -----===//
//
// PyTorch's LSTM, batch-first, from zero states, layer after layer:
//
//   gates = x W_ih^T + b_ih + h W_hh^T + b_hh, split into i, f, g, o
//   i, f, o = sigmoid(...), g = tanh(...)
//   c' = f * c + i * g,  h' = o * tanh(c')
//
// lstm_backward recomputes this forward from the input and the weights (it
// does not trust the forward results it is given) and backpropagates through
// time through every layer, from the last step to the first.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// One layer's weights: W_ih [4H, in], W_hh [4H, H], b_ih [4H], b_hh [4H].
struct LayerWeights {
  const Tensor &ih, &hh, &biasIh, &biasHh;
};

/// What a layer's forward pass computed, as [B, T, size] arrays: its input,
/// the gates after their activations, and the cell and hidden states.
struct LayerTrace {
  int64_t inputSize;
  std::vector<double> input, i, f, g, o, c, h;
};

/// The sizes shared by every layer.
struct Sizes {
  int64_t batch, steps, hidden;
  /// The position of (b, t, u) in a [B, T, size] array.
  int64_t at(int64_t b, int64_t t, int64_t u, int64_t size) const {
    return (b * steps + t) * size + u;
  }
};

LayerTrace runLayer(const Sizes &n, std::vector<double> input,
                    int64_t inputSize, const LayerWeights &w) {
  int64_t hidden = n.hidden, count = n.batch * n.steps * hidden;
  LayerTrace trace{inputSize, std::move(input), {}, {}, {}, {}, {}, {}};
  for (std::vector<double> *v :
       {&trace.i, &trace.f, &trace.g, &trace.o, &trace.c, &trace.h})
    v->assign(count, 0.0);
  std::vector<double> gates(4 * hidden);
  for (int64_t b = 0; b < n.batch; ++b) {
    for (int64_t t = 0; t < n.steps; ++t) {
      for (int64_t j = 0; j < 4 * hidden; ++j) {
        double sum = w.biasIh.reals[j] + w.biasHh.reals[j];
        for (int64_t k = 0; k < inputSize; ++k)
          sum += w.ih.reals[j * inputSize + k] *
                 trace.input[n.at(b, t, k, inputSize)];
        if (t > 0)
          for (int64_t k = 0; k < hidden; ++k)
            sum +=
                w.hh.reals[j * hidden + k] * trace.h[n.at(b, t - 1, k, hidden)];
        gates[j] = sum;
      }
      for (int64_t u = 0; u < hidden; ++u) {
        int64_t at = n.at(b, t, u, hidden);
        double cPrev = t > 0 ? trace.c[n.at(b, t - 1, u, hidden)] : 0.0;
        trace.i[at] = logistic(gates[u]);
        trace.f[at] = logistic(gates[hidden + u]);
        trace.g[at] = std::tanh(gates[2 * hidden + u]);
        trace.o[at] = logistic(gates[3 * hidden + u]);
        trace.c[at] = trace.f[at] * cPrev + trace.i[at] * trace.g[at];
        trace.h[at] = trace.o[at] * std::tanh(trace.c[at]);
      }
    }
  }
  return trace;
}

/// Every layer's trace; each layer's input is the hidden states of the one
/// before.
template <typename Op>
std::vector<LayerTrace> runForward(Op op, const Frame &frame, const Sizes &n) {
  const Tensor &input = frame[op.getInput()];
  std::vector<LayerTrace> traces;
  std::vector<double> layerInput = input.reals;
  int64_t inputSize = input.shape[2];
  for (int64_t l = 0, e = op.getNumLayers(); l < e; ++l) {
    auto weights = op.getWeights().slice(4 * l, 4);
    LayerWeights w{frame[weights[0]], frame[weights[1]], frame[weights[2]],
                   frame[weights[3]]};
    traces.push_back(runLayer(n, std::move(layerInput), inputSize, w));
    layerInput = traces.back().h;
    inputSize = n.hidden;
  }
  return traces;
}

template <typename Op> Sizes sizesOf(Op op) {
  std::vector<int64_t> input = shapeOf(op.getInput());
  return Sizes{input[0], input[1], static_cast<int64_t>(op.getHiddenSize())};
}

/// The hidden (or cell) state of the last step of every layer, [L, B, H].
Tensor finalStates(const std::vector<LayerTrace> &traces, const Sizes &n,
                   std::vector<double> LayerTrace::*state) {
  int64_t layers = traces.size();
  Tensor result = zeros({layers, n.batch, n.hidden});
  if (n.steps == 0)
    return result;
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t b = 0; b < n.batch; ++b)
      for (int64_t u = 0; u < n.hidden; ++u)
        result.reals[(l * n.batch + b) * n.hidden + u] =
            (traces[l].*state)[n.at(b, n.steps - 1, u, n.hidden)];
  return result;
}

/// Backpropagates through one layer. `outputGrad` is the gradient of the
/// layer's hidden states at every step, [B, T, H]; `hiddenGrad` and
/// `cellGrad` point at the gradients of its final states, [B, H]. Adds to
/// the four weight gradients and returns the gradient of the layer's input.
std::vector<double> backLayer(const Sizes &n, const LayerTrace &trace,
                              const LayerWeights &w,
                              const std::vector<double> &outputGrad,
                              const double *hiddenGrad, const double *cellGrad,
                              std::vector<Tensor *> grads) {
  int64_t hidden = n.hidden, inputSize = trace.inputSize;
  std::vector<double> inputGrad(trace.input.size(), 0.0);
  std::vector<double> gateGrad(4 * hidden);
  for (int64_t b = 0; b < n.batch; ++b) {
    // The gradients flowing into step t from step t + 1.
    std::vector<double> hNext(hiddenGrad + b * hidden,
                              hiddenGrad + (b + 1) * hidden);
    std::vector<double> cNext(cellGrad + b * hidden,
                              cellGrad + (b + 1) * hidden);
    for (int64_t t = n.steps - 1; t >= 0; --t) {
      for (int64_t u = 0; u < hidden; ++u) {
        int64_t at = n.at(b, t, u, hidden);
        double i = trace.i[at], f = trace.f[at], g = trace.g[at],
               o = trace.o[at], tanhC = std::tanh(trace.c[at]);
        double cPrev = t > 0 ? trace.c[n.at(b, t - 1, u, hidden)] : 0.0;
        double dh = outputGrad[at] + hNext[u];
        double dc = cNext[u] + dh * o * (1 - tanhC * tanhC);
        gateGrad[u] = dc * g * i * (1 - i);
        gateGrad[hidden + u] = dc * cPrev * f * (1 - f);
        gateGrad[2 * hidden + u] = dc * i * (1 - g * g);
        gateGrad[3 * hidden + u] = dh * tanhC * o * (1 - o);
        cNext[u] = dc * f;
      }
      std::fill(hNext.begin(), hNext.end(), 0.0);
      for (int64_t j = 0; j < 4 * hidden; ++j) {
        double dGate = gateGrad[j];
        for (int64_t k = 0; k < inputSize; ++k) {
          int64_t at = n.at(b, t, k, inputSize);
          grads[0]->reals[j * inputSize + k] += dGate * trace.input[at];
          inputGrad[at] += dGate * w.ih.reals[j * inputSize + k];
        }
        // The first step's previous hidden state is the zero initial state.
        if (t > 0) {
          for (int64_t k = 0; k < hidden; ++k) {
            grads[1]->reals[j * hidden + k] +=
                dGate * trace.h[n.at(b, t - 1, k, hidden)];
            hNext[k] += dGate * w.hh.reals[j * hidden + k];
          }
        }
        grads[2]->reals[j] += dGate;
        grads[3]->reals[j] += dGate;
      }
    }
  }
  return inputGrad;
}

} // namespace

static LogicalResult evaluateOp(LSTMOp op, Frame &frame) {
  Sizes n = sizesOf(op);
  std::vector<LayerTrace> traces = runForward(op, frame, n);
  frame.set(op.getOutput(),
            Tensor::real({n.batch, n.steps, n.hidden}, traces.back().h));
  frame.set(op.getFinalHidden(), finalStates(traces, n, &LayerTrace::h));
  frame.set(op.getFinalCell(), finalStates(traces, n, &LayerTrace::c));
  return success();
}

static LogicalResult evaluateOp(LSTMBackwardOp op, Frame &frame) {
  Sizes n = sizesOf(op);
  std::vector<LayerTrace> traces = runForward(op, frame, n);
  std::vector<Tensor> weightGrads;
  for (Value weight : op.getWeights())
    weightGrads.push_back(zeros(frame[weight].shape));
  const Tensor &hiddenGrad = frame[op.getFinalHiddenGrad()];
  const Tensor &cellGrad = frame[op.getFinalCellGrad()];
  // The last layer's outputs are the op's output; each layer below feeds
  // the one above, so its output gradient is the input gradient above it.
  std::vector<double> outputGrad = frame[op.getOutputGrad()].reals;
  for (int64_t l = static_cast<int64_t>(op.getNumLayers()) - 1; l >= 0; --l) {
    auto weights = op.getWeights().slice(4 * l, 4);
    LayerWeights w{frame[weights[0]], frame[weights[1]], frame[weights[2]],
                   frame[weights[3]]};
    std::vector<Tensor *> grads;
    for (int k = 0; k < 4; ++k)
      grads.push_back(&weightGrads[4 * l + k]);
    int64_t offset = l * n.batch * n.hidden;
    outputGrad =
        backLayer(n, traces[l], w, outputGrad, hiddenGrad.reals.data() + offset,
                  cellGrad.reals.data() + offset, grads);
  }
  frame.set(op.getInputGrad(),
            Tensor::real(shapeOf(op.getInput()), std::move(outputGrad)));
  for (auto [result, grad] : llvm::zip(op.getWeightGrads(), weightGrads))
    frame.set(result, std::move(grad));
  return success();
}

void reference::registerLSTMKernels(KernelTable &table) {
  table.add<LSTMOp>(evaluateOp);
  table.add<LSTMBackwardOp>(evaluateOp);
}
