//===- LSTM.cpp - Multi-layer LSTM sites: products and cell loops ---------===//
//
// Kiln's own LSTM, PyTorch's formula and weight layout (gates i, f, g, o;
// w_ih [4H, in], w_hh [4H, H]), batch first, zero initial state. oneDNN 2.6's
// RNN primitive computes the weight gradients as products with a transposed
// A (K = time x batch), which its sgemm runs at 34-45 GFLOP/s on one AVX2
// core against 75-86 for the other products; it cannot be told otherwise.
// Here every product is a plain sgemm call in a form that runs at full
// speed:
//
// - forward, per layer: the input projection of all steps at once
//   (x w_ih^T, [B*T, 4H]), then per step h_{t-1} w_hh^T added to its rows
//   and the cell's elementwise loop;
// - backward, per layer, from the last step: the cell's gradient loop, then
//   dh_{t-1} = dgates_t w_hh; after the loop dx = dgates w_ih, and the
//   weight gradients from dgates reordered into [4H, B*T] once:
//   dw_ih = dgates^T x, dw_hh = dgates^T h_prev.
//
// Rows of [B*T, ...] matrices are (batch, step) pairs, b * T + t: the
// layout of the batch-first sequences that generated code passes, so no
// sequence is reordered. The forward pass keeps the activated gates, the
// cells, their tanh and every layer's output for the backward pass; a
// backward site paired with the forward site that ran earlier in the step
// reuses them, an unpaired one runs the forward pass again.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"
#include "cpu/VectorMath.h"

#include <algorithm>
#include <cstring>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

constexpr int64_t kGates = 4;
/// The configuration shared by both kinds: B T I H L.
constexpr size_t kForwardConfigSize = 5;

struct LSTMShape {
  int64_t b, t, i, h, l;

  explicit LSTMShape(Config &config)
      : b(config.size("B")), t(config.size("T")), i(config.size("I")),
        h(config.size("H")), l(config.size("L")) {}

  int64_t inputWidth(int64_t layer) const { return layer ? h : i; }
  int64_t rows() const { return b * t; }
};

/// Row-major C = op(A) op(B) + beta C through oneDNN's sgemm.
void sgemm(bool transposeA, bool transposeB, int64_t m, int64_t n, int64_t k,
           const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
           float *c, int64_t ldc) {
  dnnl_status_t status =
      dnnl_sgemm(transposeA ? 'T' : 'N', transposeB ? 'T' : 'N', m, n, k, 1.0f,
                 a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success)
    fatal("oneDNN's sgemm failed on an LSTM product (" + std::to_string(m) +
              "x" + std::to_string(k) + " by " + std::to_string(k) + "x" +
              std::to_string(n) + ")",
          "run again with ONEDNN_VERBOSE=all, and report it with the model");
}

/// What a forward pass keeps of each layer for the backward pass.
struct LayerState {
  std::vector<float> gates;     // [B*T, 4H]: the sum, then i f g o activated
  std::vector<float> cells;     // [B*T, H]
  std::vector<float> tanhCells; // [B*T, H]
  std::vector<float> output;    // [B*T, H], but the last layer's is `out`
};

struct CellStep {
  const LSTMShape &s;
  LayerState &state;
  const float *bias; // b_ih + b_hh
  float *out;        // this layer's output [B*T, H]
  int64_t step;
};

/// Applies `function` to [begin, end) in place.
template <typename Function>
void mapInPlace(float *begin, float *end, Function function) {
  for (float *value = begin; value < end; ++value)
    *value = function(*value);
}

/// Items: batch rows of one step. Simple loops of few pointers each, so that
/// every one of them vectorizes.
__attribute__((target_clones("avx2", "default"))) void
cellForward(void *context, int64_t begin, int64_t end) {
  const CellStep &c = *static_cast<const CellStep *>(context);
  int64_t h = c.s.h;
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    float *gates = c.state.gates.data() + row * kGates * h;
    float *cell = c.state.cells.data() + row * h;
    float *tanhCell = c.state.tanhCells.data() + row * h;
    float *hidden = c.out + row * h;
    for (int64_t j = 0; j < kGates * h; ++j)
      gates[j] += c.bias[j];
    const float *in = gates, *forget = gates + h, *candidate = gates + 2 * h,
                *outGate = gates + 3 * h;
    mapInPlace(gates, gates + 2 * h, vectorSigmoid);
    mapInPlace(gates + 2 * h, gates + 3 * h, vectorTanh);
    mapInPlace(gates + 3 * h, gates + 4 * h, vectorSigmoid);
    for (int64_t j = 0; j < h; ++j)
      cell[j] = in[j] * candidate[j];
    if (c.step) {
      const float *previous = cell - h;
      for (int64_t j = 0; j < h; ++j)
        cell[j] += forget[j] * previous[j];
    }
    for (int64_t j = 0; j < h; ++j)
      tanhCell[j] = vectorTanh(cell[j]);
    for (int64_t j = 0; j < h; ++j)
      hidden[j] = outGate[j] * tanhCell[j];
  }
}

/// The forward pass of every layer, and what it keeps.
class ForwardPass {
public:
  explicit ForwardPass(const LSTMShape &s) : shape(s), bias(kGates * s.h) {
    for (int64_t layer = 0; layer < s.l; ++layer) {
      LayerState &state = layers.emplace_back();
      state.gates.resize(s.rows() * kGates * s.h);
      state.cells.resize(s.rows() * s.h);
      state.tanhCells.resize(s.rows() * s.h);
      if (layer + 1 < s.l)
        state.output.resize(s.rows() * s.h);
    }
  }

  /// x [B, T, I], the 4L weights (w_ih w_hh b_ih b_hh per layer), and the
  /// results out [B, T, H], h_n and c_n [L, B, H].
  void run(const float *x, void *const *weights, float *out, float *hN,
           float *cN) {
    const LSTMShape &s = shape;
    int64_t h = s.h, rows = s.rows();
    for (int64_t layer = 0; layer < s.l; ++layer) {
      auto *const *w =
          reinterpret_cast<const float *const *>(weights) + 4 * layer;
      LayerState &state = layers[layer];
      int64_t width = s.inputWidth(layer);
      float *output = layerOutput(layer, out);
      for (int64_t j = 0; j < kGates * h; ++j)
        bias[j] = w[2][j] + w[3][j];
      // Every step's input projection, then step by step the recurrence.
      sgemm(false, true, rows, kGates * h, width, layerInput(layer, x), width,
            w[0], width, 0.0f, state.gates.data(), kGates * h);
      for (int64_t step = 0; step < s.t; ++step) {
        if (step)
          sgemm(false, true, s.b, kGates * h, h, output + (step - 1) * h,
                s.t * h, w[1], h, 1.0f, state.gates.data() + step * kGates * h,
                s.t * kGates * h);
        CellStep context{s, state, bias.data(), output, step};
        kiln_rt_parallel_for(cellForward, &context, s.b);
      }
      for (int64_t b = 0; b < s.b; ++b) {
        int64_t last = (b * s.t + s.t - 1) * h;
        std::memcpy(hN + (layer * s.b + b) * h, output + last,
                    h * sizeof(float));
        std::memcpy(cN + (layer * s.b + b) * h, state.cells.data() + last,
                    h * sizeof(float));
      }
    }
  }

  const float *layerInput(int64_t layer, const float *x) const {
    return layer ? layers[layer - 1].output.data() : x;
  }
  float *layerOutput(int64_t layer, float *out) {
    return layer + 1 < shape.l ? layers[layer].output.data() : out;
  }
  LayerState &state(int64_t layer) { return layers[layer]; }

private:
  LSTMShape shape;
  std::vector<float> bias;
  std::vector<LayerState> layers;
};

/// args: x, the 4L weights, out, h_n, c_n.
class LSTMForward : public Site {
public:
  explicit LSTMForward(const LSTMShape &s) : numLayers(s.l), pass(s) {}

  void execute(void **args) override {
    void **results = args + 1 + 4 * numLayers;
    pass.run(static_cast<const float *>(args[0]), args + 1,
             static_cast<float *>(results[0]), static_cast<float *>(results[1]),
             static_cast<float *>(results[2]));
  }

  ForwardPass &getPass() { return pass; }

private:
  int64_t numLayers;
  ForwardPass pass;
};

struct CellGradient {
  const LSTMShape &s;
  const LayerState &state;
  const float *outputGrad; // [B*T, H]
  float *hiddenGrad;       // [B, H]: dh from step t + 1, in and out
  float *cellGrad;         // [B, H]: dc from step t + 1, in and out
  float *gatesGrad;        // [B*T, 4H]
  int64_t step;
};

/// Items: batch rows of one step. Writes the step's gate gradients and the
/// cell gradient that flows to the step before.
__attribute__((target_clones("avx2", "default"))) void
cellBackward(void *context, int64_t begin, int64_t end) {
  const CellGradient &c = *static_cast<const CellGradient *>(context);
  int64_t h = c.s.h;
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    const float *gates = c.state.gates.data() + row * kGates * h;
    const float *tanhCell = c.state.tanhCells.data() + row * h;
    const float *previous =
        c.step ? c.state.cells.data() + (row - 1) * h : nullptr;
    const float *dOut = c.outputGrad + row * h;
    float *dh = c.hiddenGrad + b * h, *dc = c.cellGrad + b * h;
    float *dGates = c.gatesGrad + row * kGates * h;
    for (int64_t j = 0; j < h; ++j) {
      float in = gates[j], forget = gates[h + j], candidate = gates[2 * h + j],
            outGate = gates[3 * h + j], squashed = tanhCell[j];
      float hidden = dOut[j] + dh[j];
      float cell = dc[j] + hidden * outGate * (1.0f - squashed * squashed);
      float before = previous ? previous[j] : 0.0f;
      dGates[j] = cell * candidate * in * (1.0f - in);
      dGates[h + j] = cell * before * forget * (1.0f - forget);
      dGates[2 * h + j] = cell * in * (1.0f - candidate * candidate);
      dGates[3 * h + j] = hidden * squashed * outGate * (1.0f - outGate);
      dc[j] = cell * forget;
    }
  }
}

/// args: x, out, h_n, c_n, dout, dh_n, dc_n, the 4L weights, dx, the 4L
/// weight gradients.
class LSTMBackward : public Site {
public:
  LSTMBackward(const LSTMShape &s, Pairing<LSTMForward> pairing)
      : shape(s), pairing(std::move(pairing)),
        gatesGrad(s.rows() * kGates * s.h), hiddenGrad(s.b * s.h),
        cellGrad(s.b * s.h), previousHidden(s.rows() * s.h) {
    int64_t rows = s.rows(), gates = kGates * s.h;
    memory::desc rowMajor = f32Desc({rows, gates}, Tag::ab);
    memory::desc columnMajor = f32Desc({rows, gates}, Tag::ba);
    gatesByRow = memory(rowMajor, cpuEngine(), gatesGrad.data());
    gatesByGate = memory(columnMajor, cpuEngine());
    transposeGates = reorder(gatesByRow, gatesByGate);
    if (s.l > 1) {
      inputGrad.resize(rows * s.h);
      lowerOutputGrad.resize(rows * s.h);
    }
    if (!this->pairing.paired()) {
      recompute = std::make_unique<ForwardPass>(s);
      out.resize(rows * s.h);
      finalHidden.resize(s.l * s.b * s.h);
      finalCell.resize(s.l * s.b * s.h);
    }
  }

  void execute(void **args) override {
    const LSTMShape &s = shape;
    const auto *x = static_cast<const float *>(args[0]);
    auto *output = static_cast<float *>(args[1]);
    const auto *outGrad = static_cast<const float *>(args[4]);
    const auto *hiddenGradN = static_cast<const float *>(args[5]);
    const auto *cellGradN = static_cast<const float *>(args[6]);
    void *const *weights = args + 7;
    auto *dx = static_cast<float *>(args[7 + 4 * s.l]);
    auto *const *weightGrads =
        reinterpret_cast<float *const *>(args + 8 + 4 * s.l);
    ForwardPass *pass = recompute.get();
    if (pass) {
      output = out.data();
      pass->run(x, weights, output, finalHidden.data(), finalCell.data());
    } else {
      pass = &pairing.get().getPass();
    }

    int64_t h = s.h, gates = kGates * h, rows = s.rows();
    // From the last layer down: each layer's input gradient is the output
    // gradient of the layer below.
    for (int64_t layer = s.l - 1; layer >= 0; --layer) {
      auto *const *w =
          reinterpret_cast<const float *const *>(weights) + 4 * layer;
      float *const *dw = weightGrads + 4 * layer;
      int64_t width = s.inputWidth(layer);
      const LayerState &state = pass->state(layer);
      const float *input = pass->layerInput(layer, x);
      const float *layerOut = pass->layerOutput(layer, output);
      const float *dOut = layer + 1 < s.l ? lowerOutputGrad.data() : outGrad;
      std::memcpy(hiddenGrad.data(), hiddenGradN + layer * s.b * h,
                  s.b * h * sizeof(float));
      std::memcpy(cellGrad.data(), cellGradN + layer * s.b * h,
                  s.b * h * sizeof(float));
      for (int64_t step = s.t - 1; step >= 0; --step) {
        CellGradient context{s,
                             state,
                             dOut,
                             hiddenGrad.data(),
                             cellGrad.data(),
                             gatesGrad.data(),
                             step};
        kiln_rt_parallel_for(cellBackward, &context, s.b);
        if (step)
          sgemm(false, false, s.b, h, gates, gatesGrad.data() + step * gates,
                s.t * gates, w[1], h, 0.0f, hiddenGrad.data(), h);
      }
      // dx of this layer: the caller's, or the next lower layer's dout.
      float *inputGradient = layer ? inputGrad.data() : dx;
      sgemm(false, false, rows, width, gates, gatesGrad.data(), gates, w[0],
            width, 0.0f, inputGradient, width);
      if (layer)
        std::swap(inputGrad, lowerOutputGrad);

      // The weight gradients, from the gate gradients as [4H, B*T] rows.
      transposeGates.execute(cpuStream(), gatesByRow, gatesByGate);
      const auto *byGate =
          static_cast<const float *>(gatesByGate.get_data_handle());
      sgemm(false, false, gates, width, rows, byGate, rows, input, width, 0.0f,
            dw[0], width);
      // h_{t-1} for each row (0 at the first step).
      for (int64_t b = 0; b < s.b; ++b) {
        float *first = previousHidden.data() + b * s.t * h;
        std::fill(first, first + h, 0.0f);
        std::memcpy(first + h, layerOut + b * s.t * h,
                    (s.t - 1) * h * sizeof(float));
      }
      sgemm(false, false, gates, h, rows, byGate, rows, previousHidden.data(),
            h, 0.0f, dw[1], h);
      // Both biases get the gates' gradient, summed over the rows.
      std::fill(dw[2], dw[2] + gates, 0.0f);
      for (int64_t row = 0; row < rows; ++row) {
        const float *g = gatesGrad.data() + row * gates;
        for (int64_t j = 0; j < gates; ++j)
          dw[2][j] += g[j];
      }
      std::memcpy(dw[3], dw[2], gates * sizeof(float));
    }
  }

private:
  LSTMShape shape;
  Pairing<LSTMForward> pairing;
  std::vector<float> gatesGrad, hiddenGrad, cellGrad, previousHidden;
  // The input gradient of the layer being done, and the output gradient of
  // the layer below it (the last layer done's input gradient).
  std::vector<float> inputGrad, lowerOutputGrad;
  memory gatesByRow, gatesByGate;
  reorder transposeGates;
  // An unpaired site's own forward pass and results.
  std::unique_ptr<ForwardPass> recompute;
  std::vector<float> out, finalHidden, finalCell;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createLSTMForward(Config &config) {
  return std::make_unique<LSTMForward>(LSTMShape(config));
}

std::unique_ptr<Site> kiln::cpu::createLSTMBackward(Config &config) {
  LSTMShape shape(config);
  Pairing<LSTMForward> pairing(config, config.siteNumber("forward_site"),
                               KILN_LSTM_FORWARD, kForwardConfigSize);
  return std::make_unique<LSTMBackward>(shape, std::move(pairing));
}
