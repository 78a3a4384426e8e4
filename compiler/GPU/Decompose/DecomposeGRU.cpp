//===- DecomposeGRU.cpp - The GRU and its gradient, unrolled --------------===//
//
// As the LSTM's (DecomposeLSTM.cpp): the static sequence length unrolls the
// recurrence into matrix products and gate arithmetic, and the gradient
// recomputes the forward through the same function, op for op, so that CSE
// merges the recomputation with the forward of the training step.
//
// PyTorch's GRU keeps W_hn h + b_hn apart from the input's projection, since
// the reset gate scales it alone:
//
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//
//===----------------------------------------------------------------------===//

#include "Decompose/TensorBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::decompose;

namespace {

/// What one step of one layer computed.
struct StepValues {
  Value reset, update, candidate; // activated gates r, z, n, [B, H]
  Value hiddenN;                  // W_hn h + b_hn: [B, H], or [H] at step 0
  Value h;                        // [B, H]
};

/// One layer's forward over all steps.
struct LayerValues {
  Value input;  // [B, T, in]
  Value output; // [B, T, H]
  std::vector<StepValues> steps;
};

/// The forward of every layer of a GRU with input `x` [B, T, I].
std::vector<LayerValues> forward(TensorBuilder &t, Value x, ValueRange weights,
                                 int64_t hidden, int64_t layers) {
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t batch = shape[0], length = shape[1], h3 = 3 * hidden;
  std::vector<LayerValues> result;
  Value input = x;
  for (int64_t l = 0; l < layers; ++l) {
    Value wih = weights[4 * l], whh = weights[4 * l + 1],
          bih = weights[4 * l + 2], bhh = weights[4 * l + 3];
    int64_t in = shapeOf(input)[2];
    // Every step's input projection in one product.
    Value projected =
        t.matmul(t.reshape(input, {batch * length, in}), wih, false, true);
    projected = t.reshape(t.add(projected, bih), {batch, length, h3});
    LayerValues layer;
    layer.input = input;
    Value h;
    SmallVector<Value> outputs;
    for (int64_t s = 0; s < length; ++s) {
      Value fromInput =
          t.reshape(t.slice(projected, {0, s, 0}, {batch, 1, h3}), {batch, h3});
      // The initial state is zero: the first step's W_hh h + b_hh is b_hh,
      // which broadcasts over the batch.
      Value fromHidden = h ? t.add(t.matmul(h, whh, false, true), bhh) : bhh;
      auto gate = [&](Value gates, int64_t k) {
        if (shapeOf(gates).size() == 1)
          return t.slice(gates, {k * hidden}, {hidden});
        return t.slice(gates, {0, k * hidden}, {batch, hidden});
      };
      StepValues step;
      step.reset = t.sigmoid(t.add(gate(fromInput, 0), gate(fromHidden, 0)));
      step.update = t.sigmoid(t.add(gate(fromInput, 1), gate(fromHidden, 1)));
      step.hiddenN = gate(fromHidden, 2);
      step.candidate =
          t.tanh(t.add(gate(fromInput, 2), t.mul(step.reset, step.hiddenN)));
      Value kept = t.mul(t.oneMinus(step.update), step.candidate);
      step.h = h ? t.add(kept, t.mul(step.update, h)) : kept;
      h = step.h;
      outputs.push_back(t.reshape(h, {batch, 1, hidden}));
      layer.steps.push_back(step);
    }
    layer.output = t.concat(outputs, 1);
    input = layer.output;
    result.push_back(std::move(layer));
  }
  return result;
}

Decomposition decomposeGRU(GRUOp op, TensorBuilder &t) {
  if (failed(checkUnrollable(op, op.getInput(), op.getNumLayers())))
    return failure();
  std::vector<LayerValues> layers = forward(
      t, op.getInput(), op.getWeights(), op.getHiddenSize(), op.getNumLayers());
  SmallVector<Value> hs;
  for (const LayerValues &layer : layers)
    hs.push_back(layer.steps.back().h);
  return SmallVector<Value>{layers.back().output, t.stack(hs)};
}

Decomposition decomposeGRUBackward(GRUBackwardOp op, TensorBuilder &t) {
  if (failed(checkUnrollable(op, op.getInput(), op.getNumLayers())))
    return failure();
  int64_t hidden = op.getHiddenSize(), numLayers = op.getNumLayers();
  ValueRange weights = op.getWeights();
  std::vector<LayerValues> layers =
      forward(t, op.getInput(), weights, hidden, numLayers);
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t batch = shape[0], length = shape[1], h3 = 3 * hidden;
  Type element =
      cast<RankedTensorType>(op.getInput().getType()).getElementType();

  SmallVector<Value> weightGrads(weights.size());
  // The gradient of the current layer's output sequence, [B, T, H].
  Value outputGrad = op.getOutputGrad();
  Value inputGrad;
  for (int64_t l = numLayers - 1; l >= 0; --l) {
    const LayerValues &layer = layers[l];
    Value wih = weights[4 * l], whh = weights[4 * l + 1];
    Value dhNext = t.reshape(
        t.slice(op.getFinalHiddenGrad(), {l, 0, 0}, {1, batch, hidden}),
        {batch, hidden});
    // The gradients of every step's x W_ih^T + b_ih and h W_hh^T + b_hh;
    // they differ in the n rows only, which r scales on the hidden side.
    SmallVector<Value> inputSide(length), hiddenSide(length);
    for (int64_t s = length - 1; s >= 0; --s) {
      const StepValues &step = layer.steps[s];
      Value dh = t.add(
          dhNext, t.reshape(t.slice(outputGrad, {0, s, 0}, {batch, 1, hidden}),
                            {batch, hidden}));
      Value r = step.reset, z = step.update, n = step.candidate;
      Value dN = t.mul(t.mul(dh, t.oneMinus(z)), t.oneMinus(t.mul(n, n)));
      Value dR = t.mul(t.mul(dN, step.hiddenN), t.mul(r, t.oneMinus(r)));
      // h' - n = z * (h - n), and the first step's h is zero.
      Value previous = s > 0 ? t.sub(layer.steps[s - 1].h, n) : t.neg(n);
      Value dZ = t.mul(t.mul(dh, previous), t.mul(z, t.oneMinus(z)));
      Value dHidden = t.concat({dR, dZ, t.mul(dN, r)}, 1);
      if (s > 0)
        dhNext = t.add(t.mul(dh, z), t.matmul(dHidden, whh, false, false));
      inputSide[s] = t.reshape(t.concat({dR, dZ, dN}, 1), {batch, 1, h3});
      hiddenSide[s] = t.reshape(dHidden, {batch, 1, h3});
    }
    Value dInput = t.reshape(t.concat(inputSide, 1), {batch * length, h3});
    Value dHidden = t.reshape(t.concat(hiddenSide, 1), {batch * length, h3});
    // h_{s-1} for every step s: zeros, then the outputs but the last.
    Value previous = t.splat({batch, 1, hidden}, element, 0);
    if (length > 1)
      previous = t.concat({previous, t.slice(layer.output, {0, 0, 0},
                                             {batch, length - 1, hidden})},
                          1);
    int64_t in = shapeOf(layer.input)[2];
    Value inputs = t.reshape(layer.input, {batch * length, in});
    weightGrads[4 * l] = t.matmul(dInput, inputs, true, false);
    weightGrads[4 * l + 1] = t.matmul(
        dHidden, t.reshape(previous, {batch * length, hidden}), true, false);
    weightGrads[4 * l + 2] = t.reduceSum(dInput, {0}, false);
    weightGrads[4 * l + 3] = t.reduceSum(dHidden, {0}, false);
    inputGrad =
        t.reshape(t.matmul(dInput, wih, false, false), {batch, length, in});
    outputGrad = inputGrad;
  }
  SmallVector<Value> results = {inputGrad};
  llvm::append_range(results, weightGrads);
  return results;
}

} // namespace

void kiln::decompose::attachGRUDecompositions(MLIRContext &context) {
  attachDecomposition<GRUOp, decomposeGRU>(context);
  attachDecomposition<GRUBackwardOp, decomposeGRUBackward>(context);
}
