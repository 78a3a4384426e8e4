//===- DecomposeLSTM.cpp - The LSTM and its gradient, unrolled ------------===//
//
// The sequence length is static, so the recurrence unrolls into matrix
// products and gate arithmetic. The gradient recomputes the forward through
// the same function, op for op, so that CSE merges the recomputation with
// the forward of the training step and nothing is computed twice.
//
//===----------------------------------------------------------------------===//

#include "Decompose/TensorBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::decompose;

namespace {

/// What one step of one layer computed.
struct StepValues {
  Value input, forget, cell, output; // activated gates i, f, g, o
  Value c, tanhC, h;                 // [B, H]
};

/// One layer's forward over all steps.
struct LayerValues {
  Value input;  // [B, T, in]
  Value output; // [B, T, H]
  std::vector<StepValues> steps;
};

/// The forward of every layer of an LSTM with input `x` [B, T, I].
std::vector<LayerValues> forward(TensorBuilder &t, Value x, ValueRange weights,
                                 int64_t hidden, int64_t layers) {
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t batch = shape[0], length = shape[1], h4 = 4 * hidden;
  std::vector<LayerValues> result;
  Value input = x;
  for (int64_t l = 0; l < layers; ++l) {
    Value wih = weights[4 * l], whh = weights[4 * l + 1],
          bih = weights[4 * l + 2], bhh = weights[4 * l + 3];
    int64_t in = shapeOf(input)[2];
    // Every step's input projection in one product.
    Value projected =
        t.matmul(t.reshape(input, {batch * length, in}), wih, false, true);
    projected =
        t.reshape(t.add(t.add(projected, bih), bhh), {batch, length, h4});
    LayerValues layer;
    layer.input = input;
    Value h, c;
    SmallVector<Value> outputs;
    for (int64_t s = 0; s < length; ++s) {
      Value gates =
          t.reshape(t.slice(projected, {0, s, 0}, {batch, 1, h4}), {batch, h4});
      if (h)
        gates = t.add(gates, t.matmul(h, whh, false, true));
      auto gate = [&](int64_t k) {
        return t.slice(gates, {0, k * hidden}, {batch, hidden});
      };
      StepValues step;
      step.input = t.sigmoid(gate(0));
      step.forget = t.sigmoid(gate(1));
      step.cell = t.tanh(gate(2));
      step.output = t.sigmoid(gate(3));
      Value update = t.mul(step.input, step.cell);
      step.c = c ? t.add(t.mul(step.forget, c), update) : update;
      step.tanhC = t.tanh(step.c);
      step.h = t.mul(step.output, step.tanhC);
      h = step.h;
      c = step.c;
      outputs.push_back(t.reshape(h, {batch, 1, hidden}));
      layer.steps.push_back(step);
    }
    layer.output = t.concat(outputs, 1);
    input = layer.output;
    result.push_back(std::move(layer));
  }
  return result;
}

Decomposition decomposeLSTM(LSTMOp op, TensorBuilder &t) {
  if (failed(checkUnrollable(op, op.getInput(), op.getNumLayers())))
    return failure();
  std::vector<LayerValues> layers = forward(
      t, op.getInput(), op.getWeights(), op.getHiddenSize(), op.getNumLayers());
  SmallVector<Value> hs, cs;
  for (const LayerValues &layer : layers) {
    hs.push_back(layer.steps.back().h);
    cs.push_back(layer.steps.back().c);
  }
  return SmallVector<Value>{layers.back().output, t.stack(hs), t.stack(cs)};
}

Decomposition decomposeLSTMBackward(LSTMBackwardOp op, TensorBuilder &t) {
  if (failed(checkUnrollable(op, op.getInput(), op.getNumLayers())))
    return failure();
  int64_t hidden = op.getHiddenSize(), numLayers = op.getNumLayers();
  ValueRange weights = op.getWeights();
  std::vector<LayerValues> layers =
      forward(t, op.getInput(), weights, hidden, numLayers);
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t batch = shape[0], length = shape[1], h4 = 4 * hidden;
  Type element =
      cast<RankedTensorType>(op.getInput().getType()).getElementType();

  SmallVector<Value> weightGrads(weights.size());
  // The gradient of the current layer's output sequence, [B, T, H].
  Value outputGrad = op.getOutputGrad();
  Value inputGrad;
  for (int64_t l = numLayers - 1; l >= 0; --l) {
    const LayerValues &layer = layers[l];
    Value wih = weights[4 * l], whh = weights[4 * l + 1];
    auto ofLayer = [&](Value stacked) {
      return t.reshape(t.slice(stacked, {l, 0, 0}, {1, batch, hidden}),
                       {batch, hidden});
    };
    Value dhNext = ofLayer(op.getFinalHiddenGrad());
    Value dcNext = ofLayer(op.getFinalCellGrad());
    SmallVector<Value> gateGrads(length);
    for (int64_t s = length - 1; s >= 0; --s) {
      const StepValues &step = layer.steps[s];
      Value dh = t.add(
          dhNext, t.reshape(t.slice(outputGrad, {0, s, 0}, {batch, 1, hidden}),
                            {batch, hidden}));
      Value o = step.output, i = step.input, g = step.cell, f = step.forget;
      Value dOut = t.mul(t.mul(dh, step.tanhC), t.mul(o, t.oneMinus(o)));
      Value dc =
          t.add(dcNext,
                t.mul(t.mul(dh, o), t.oneMinus(t.mul(step.tanhC, step.tanhC))));
      Value dIn = t.mul(t.mul(dc, g), t.mul(i, t.oneMinus(i)));
      Value dCell = t.mul(t.mul(dc, i), t.oneMinus(t.mul(g, g)));
      // The initial cell state is zero, so the first forget gate has none.
      Value dForget = s > 0 ? t.mul(t.mul(dc, layer.steps[s - 1].c),
                                    t.mul(f, t.oneMinus(f)))
                            : t.splat({batch, hidden}, element, 0);
      dcNext = t.mul(dc, f);
      Value dGates = t.concat({dIn, dForget, dCell, dOut}, 1);
      if (s > 0)
        dhNext = t.matmul(dGates, whh, false, false);
      gateGrads[s] = t.reshape(dGates, {batch, 1, h4});
    }
    Value dGates = t.reshape(t.concat(gateGrads, 1), {batch * length, h4});
    // h_{s-1} for every step s: zeros, then the outputs but the last.
    Value previous = t.splat({batch, 1, hidden}, element, 0);
    if (length > 1)
      previous = t.concat({previous, t.slice(layer.output, {0, 0, 0},
                                             {batch, length - 1, hidden})},
                          1);
    int64_t in = shapeOf(layer.input)[2];
    Value inputs = t.reshape(layer.input, {batch * length, in});
    weightGrads[4 * l] = t.matmul(dGates, inputs, true, false);
    weightGrads[4 * l + 1] = t.matmul(
        dGates, t.reshape(previous, {batch * length, hidden}), true, false);
    Value biasGrad = t.reduceSum(dGates, {0}, false);
    weightGrads[4 * l + 2] = biasGrad;
    weightGrads[4 * l + 3] = biasGrad;
    inputGrad =
        t.reshape(t.matmul(dGates, wih, false, false), {batch, length, in});
    outputGrad = inputGrad;
  }
  SmallVector<Value> results = {inputGrad};
  llvm::append_range(results, weightGrads);
  return results;
}

} // namespace

void kiln::decompose::attachLSTMDecompositions(MLIRContext &context) {
  attachDecomposition<LSTMOp, decomposeLSTM>(context);
  attachDecomposition<LSTMBackwardOp, decomposeLSTMBackward>(context);
}
