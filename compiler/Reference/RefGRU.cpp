//===- RefGRU.cpp - Reference semantics of the GRU and its gradient -------===//
//
// PyTorch's GRU, batch-first, from a zero state, layer after layer:
//
//   a = x W_ih^T + b_ih,  b = h W_hh^T + b_hh, each split into r, z, n
//   r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z)
//   n = tanh(a_n + r * b_n),  h' = (1 - z) * n + z * h
//
// b_n stays apart from a_n because r scales it alone, so b_hh's gradient
// differs from b_ih's in the n rows. gru_backward recomputes this forward
// from the input and the weights (it does not trust the forward results it
// is given) and backpropagates through time through every layer, from the
// last step to the first.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// One layer's weights: W_ih [3H, in], W_hh [3H, H], b_ih [3H], b_hh [3H].
struct LayerWeights {
  const Tensor &ih, &hh, &biasIh, &biasHh;
};

/// What a layer's forward pass computed, as [B, T, size] arrays: its input,
/// the gates after their activations, W_hn h + b_hn, and the hidden states.
struct LayerTrace {
  int64_t inputSize;
  std::vector<double> input, r, z, n, hn, h;
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
  LayerTrace trace{inputSize, std::move(input), {}, {}, {}, {}, {}};
  for (std::vector<double> *v :
       {&trace.r, &trace.z, &trace.n, &trace.hn, &trace.h})
    v->assign(count, 0.0);
  std::vector<double> fromInput(3 * hidden), fromHidden(3 * hidden);
  for (int64_t b = 0; b < n.batch; ++b) {
    for (int64_t t = 0; t < n.steps; ++t) {
      for (int64_t j = 0; j < 3 * hidden; ++j) {
        double sum = w.biasIh.reals[j];
        for (int64_t k = 0; k < inputSize; ++k)
          sum += w.ih.reals[j * inputSize + k] *
                 trace.input[n.at(b, t, k, inputSize)];
        fromInput[j] = sum;
        sum = w.biasHh.reals[j];
        if (t > 0)
          for (int64_t k = 0; k < hidden; ++k)
            sum +=
                w.hh.reals[j * hidden + k] * trace.h[n.at(b, t - 1, k, hidden)];
        fromHidden[j] = sum;
      }
      for (int64_t u = 0; u < hidden; ++u) {
        int64_t at = n.at(b, t, u, hidden);
        double hPrev = t > 0 ? trace.h[n.at(b, t - 1, u, hidden)] : 0.0;
        trace.r[at] = logistic(fromInput[u] + fromHidden[u]);
        trace.z[at] = logistic(fromInput[hidden + u] + fromHidden[hidden + u]);
        trace.hn[at] = fromHidden[2 * hidden + u];
        trace.n[at] =
            std::tanh(fromInput[2 * hidden + u] + trace.r[at] * trace.hn[at]);
        trace.h[at] = (1 - trace.z[at]) * trace.n[at] + trace.z[at] * hPrev;
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

/// The hidden state of the last step of every layer, [L, B, H].
Tensor finalHidden(const std::vector<LayerTrace> &traces, const Sizes &n) {
  int64_t layers = traces.size();
  Tensor result = zeros({layers, n.batch, n.hidden});
  if (n.steps == 0)
    return result;
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t b = 0; b < n.batch; ++b)
      for (int64_t u = 0; u < n.hidden; ++u)
        result.reals[(l * n.batch + b) * n.hidden + u] =
            traces[l].h[n.at(b, n.steps - 1, u, n.hidden)];
  return result;
}

/// Backpropagates through one layer. `outputGrad` is the gradient of the
/// layer's hidden states at every step, [B, T, H]; `hiddenGrad` points at
/// the gradient of its final state, [B, H]. Adds to the four weight
/// gradients and returns the gradient of the layer's input.
std::vector<double> backLayer(const Sizes &n, const LayerTrace &trace,
                              const LayerWeights &w,
                              const std::vector<double> &outputGrad,
                              const double *hiddenGrad,
                              std::vector<Tensor *> grads) {
  int64_t hidden = n.hidden, inputSize = trace.inputSize;
  std::vector<double> inputGrad(trace.input.size(), 0.0);
  // The gradients of x W_ih^T + b_ih and of h W_hh^T + b_hh; they differ
  // only in the n rows, which r scales on the hidden side.
  std::vector<double> inputSide(3 * hidden), hiddenSide(3 * hidden);
  for (int64_t b = 0; b < n.batch; ++b) {
    // The gradient flowing into step t from step t + 1.
    std::vector<double> hNext(hiddenGrad + b * hidden,
                              hiddenGrad + (b + 1) * hidden);
    for (int64_t t = n.steps - 1; t >= 0; --t) {
      for (int64_t u = 0; u < hidden; ++u) {
        int64_t at = n.at(b, t, u, hidden);
        double r = trace.r[at], z = trace.z[at], nn = trace.n[at];
        double hPrev = t > 0 ? trace.h[n.at(b, t - 1, u, hidden)] : 0.0;
        double dh = outputGrad[at] + hNext[u];
        double dN = dh * (1 - z) * (1 - nn * nn);
        double dR = dN * trace.hn[at] * r * (1 - r);
        double dZ = dh * (hPrev - nn) * z * (1 - z);
        inputSide[u] = hiddenSide[u] = dR;
        inputSide[hidden + u] = hiddenSide[hidden + u] = dZ;
        inputSide[2 * hidden + u] = dN;
        hiddenSide[2 * hidden + u] = dN * r;
        hNext[u] = dh * z;
      }
      for (int64_t j = 0; j < 3 * hidden; ++j) {
        double dIn = inputSide[j], dHid = hiddenSide[j];
        for (int64_t k = 0; k < inputSize; ++k) {
          int64_t at = n.at(b, t, k, inputSize);
          grads[0]->reals[j * inputSize + k] += dIn * trace.input[at];
          inputGrad[at] += dIn * w.ih.reals[j * inputSize + k];
        }
        // The first step's previous hidden state is the zero initial state.
        if (t > 0) {
          for (int64_t k = 0; k < hidden; ++k) {
            grads[1]->reals[j * hidden + k] +=
                dHid * trace.h[n.at(b, t - 1, k, hidden)];
            hNext[k] += dHid * w.hh.reals[j * hidden + k];
          }
        }
        grads[2]->reals[j] += dIn;
        grads[3]->reals[j] += dHid;
      }
    }
  }
  return inputGrad;
}

} // namespace

static LogicalResult evaluateOp(GRUOp op, Frame &frame) {
  Sizes n = sizesOf(op);
  std::vector<LayerTrace> traces = runForward(op, frame, n);
  frame.set(op.getOutput(),
            Tensor::real({n.batch, n.steps, n.hidden}, traces.back().h));
  frame.set(op.getFinalHidden(), finalHidden(traces, n));
  return success();
}

static LogicalResult evaluateOp(GRUBackwardOp op, Frame &frame) {
  Sizes n = sizesOf(op);
  std::vector<LayerTrace> traces = runForward(op, frame, n);
  std::vector<Tensor> weightGrads;
  for (Value weight : op.getWeights())
    weightGrads.push_back(zeros(frame[weight].shape));
  const Tensor &hiddenGrad = frame[op.getFinalHiddenGrad()];
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
    outputGrad =
        backLayer(n, traces[l], w, outputGrad,
                  hiddenGrad.reals.data() + l * n.batch * n.hidden, grads);
  }
  frame.set(op.getInputGrad(),
            Tensor::real(shapeOf(op.getInput()), std::move(outputGrad)));
  for (auto [result, grad] : llvm::zip(op.getWeightGrads(), weightGrads))
    frame.set(result, std::move(grad));
  return success();
}

void reference::registerGRUKernels(KernelTable &table) {
  table.add<GRUOp>(evaluateOp);
  table.add<GRUBackwardOp>(evaluateOp);
}
