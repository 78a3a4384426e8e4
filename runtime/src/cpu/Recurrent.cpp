//===- Recurrent.cpp - Multi-layer LSTM and GRU sites ---------------------===//
//
// Kiln's own recurrent layers, PyTorch's formulas and weight layouts
// (w_ih [G*H, in], w_hh [G*H, H]; LSTM gates i, f, g, o, GRU gates r, z, n),
// batch first, zero initial state. oneDNN 2.6's RNN primitives compute the
// weight gradients as products with a transposed A (K = time x batch),
// which its sgemm runs at 34-45 GFLOP/s on one AVX2 core against 75-86 for
// the other products, and cannot be told otherwise. Here every product is a
// plain sgemm call in a form that runs at full speed:
//
// - forward, per layer: the input projection of all steps at once
//   (x w_ih^T, [B*T, G*H]), then per step the recurrent product
//   h_{t-1} w_hh^T and the cell's elementwise loops;
// - backward, per layer, from the last step: the cell's gradient loops, then
//   the recurrent product's gradient into dh_{t-1}; after the loop
//   dx = dgates w_ih, and the weight gradients from the gate gradients
//   reordered once into [G*H, B*T]: dw_ih = dgates^T x, dw_hh = dgates^T
//   h_prev.
//
// Rows of [B*T, ...] matrices are (batch, step) pairs, b * T + t: the layout
// of the batch-first sequences that generated code passes, so that no
// sequence is reordered. The forward pass keeps what the backward pass needs
// (activated gates, cells, every layer's output); a backward site paired
// with the forward site that ran earlier in the step reuses it, an unpaired
// one runs the forward pass again.
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

/// The configuration shared by both kinds of both cells: B T I H L.
constexpr size_t kForwardConfigSize = 5;

struct RecurrentShape {
  int64_t b, t, i, h, l;

  explicit RecurrentShape(Config &config)
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
    fatal("oneDNN's sgemm failed on a recurrent layer's product (" +
              std::to_string(m) + "x" + std::to_string(k) + " by " +
              std::to_string(k) + "x" + std::to_string(n) + ")",
          "run again with ONEDNN_VERBOSE=all, and report it with the model");
}

/// Applies `function` to [begin, end) in place.
template <typename Function>
void mapInPlace(float *begin, float *end, Function function) {
  for (float *value = begin; value < end; ++value)
    *value = function(*value);
}

/// What a forward pass keeps of each layer for the backward pass.
struct LayerState {
  /// [B*T, G*H]: the input projections, then the activated gates.
  std::vector<float> gates;
  /// GRU: [B*T, 3H], h_{t-1} w_hh^T + b_hh (its n part is inside r * (...)).
  std::vector<float> hiddenGates;
  /// LSTM: [B*T, H] each, the cells and their tanh.
  std::vector<float> cells, tanhCells;
  /// [B*T, H], but the last layer's is the caller's `out`.
  std::vector<float> output;
};

/// One step of one layer, for the cell loops (items: batch rows).
struct Step {
  const RecurrentShape &s;
  LayerState &state;
  const float *const *weights; // w_ih w_hh b_ih b_hh
  const float *biasSum;        // LSTM: b_ih + b_hh, once per layer
  float *output;               // the layer's [B*T, H]
  int64_t step;
  // Backward only:
  const float *outputGrad = nullptr; // [B*T, H]
  float *hiddenGrad = nullptr;       // [B, H]: dh from step t + 1, in and out
  float *cellGrad = nullptr;  // LSTM: [B, H], dc from step t + 1, in and out
  float *gatesGrad = nullptr; // [B*T, G*H], of the input projections
  float *hiddenGatesGrad = nullptr; // GRU: [B*T, 3H], of the recurrent product
};

// The cell loops: simple loops of few pointers each, so that every one of
// them vectorizes, with an AVX2 clone.

/// c = f c_prev + i g, h = o tanh c, on the gates x w_ih^T + h w_hh^T.
__attribute__((target_clones("avx2", "default"))) void
lstmForwardRows(void *context, int64_t begin, int64_t end) {
  const Step &c = *static_cast<const Step *>(context);
  int64_t h = c.s.h;
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    float *gates = c.state.gates.data() + row * 4 * h;
    float *cell = c.state.cells.data() + row * h;
    float *tanhCell = c.state.tanhCells.data() + row * h;
    float *hidden = c.output + row * h;
    for (int64_t j = 0; j < 4 * h; ++j)
      gates[j] += c.biasSum[j];
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

/// The gate gradients of one step, and dc for the step before; dh_{t-1}
/// is the recurrent product's gradient alone, done after.
__attribute__((target_clones("avx2", "default"))) void
lstmBackwardRows(void *context, int64_t begin, int64_t end) {
  const Step &c = *static_cast<const Step *>(context);
  int64_t h = c.s.h;
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    const float *gates = c.state.gates.data() + row * 4 * h;
    const float *tanhCell = c.state.tanhCells.data() + row * h;
    const float *previous =
        c.step ? c.state.cells.data() + (row - 1) * h : nullptr;
    const float *dOut = c.outputGrad + row * h;
    float *dh = c.hiddenGrad + b * h, *dc = c.cellGrad + b * h;
    float *dGates = c.gatesGrad + row * 4 * h;
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

/// r and z = sigmoid(x w_i. + b_i. + h w_h. + b_h.),
/// n = tanh(x w_in + b_in + r (h w_hn + b_hn)), h = (1 - z) n + z h_prev.
__attribute__((target_clones("avx2", "default"))) void
gruForwardRows(void *context, int64_t begin, int64_t end) {
  const Step &c = *static_cast<const Step *>(context);
  int64_t h = c.s.h;
  const float *bih = c.weights[2], *bhh = c.weights[3];
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    float *gates = c.state.gates.data() + row * 3 * h;
    float *hiddenGates = c.state.hiddenGates.data() + row * 3 * h;
    float *hidden = c.output + row * h;
    for (int64_t j = 0; j < 3 * h; ++j)
      gates[j] += bih[j];
    if (c.step) {
      for (int64_t j = 0; j < 3 * h; ++j)
        hiddenGates[j] += bhh[j];
    } else {
      std::memcpy(hiddenGates, bhh, 3 * h * sizeof(float));
    }
    for (int64_t j = 0; j < 2 * h; ++j)
      gates[j] += hiddenGates[j];
    mapInPlace(gates, gates + 2 * h, vectorSigmoid);
    const float *reset = gates, *update = gates + h;
    float *candidate = gates + 2 * h;
    for (int64_t j = 0; j < h; ++j)
      candidate[j] += reset[j] * hiddenGates[2 * h + j];
    mapInPlace(candidate, candidate + h, vectorTanh);
    for (int64_t j = 0; j < h; ++j)
      hidden[j] = (1.0f - update[j]) * candidate[j];
    if (c.step) {
      const float *previous = hidden - h;
      for (int64_t j = 0; j < h; ++j)
        hidden[j] += update[j] * previous[j];
    }
  }
}

/// The gradients of one step's input projections and recurrent product,
/// and dh_{t-1} but for the recurrent product's share, added after.
__attribute__((target_clones("avx2", "default"))) void
gruBackwardRows(void *context, int64_t begin, int64_t end) {
  const Step &c = *static_cast<const Step *>(context);
  int64_t h = c.s.h;
  for (int64_t b = begin; b < end; ++b) {
    int64_t row = b * c.s.t + c.step;
    const float *gates = c.state.gates.data() + row * 3 * h;
    const float *hiddenGates = c.state.hiddenGates.data() + row * 3 * h;
    const float *previous = c.step ? c.output + (row - 1) * h : nullptr;
    const float *dOut = c.outputGrad + row * h;
    float *dh = c.hiddenGrad + b * h;
    float *dInput = c.gatesGrad + row * 3 * h;
    float *dHidden = c.hiddenGatesGrad + row * 3 * h;
    for (int64_t j = 0; j < h; ++j) {
      float reset = gates[j], update = gates[h + j],
            candidate = gates[2 * h + j];
      float hidden = dOut[j] + dh[j];
      float before = previous ? previous[j] : 0.0f;
      float dCandidate =
          hidden * (1.0f - update) * (1.0f - candidate * candidate);
      float dUpdate = hidden * (before - candidate) * update * (1.0f - update);
      float dReset =
          dCandidate * hiddenGates[2 * h + j] * reset * (1.0f - reset);
      dInput[j] = dHidden[j] = dReset;
      dInput[h + j] = dHidden[h + j] = dUpdate;
      dInput[2 * h + j] = dCandidate;
      dHidden[2 * h + j] = dCandidate * reset;
      dh[j] = hidden * update;
    }
  }
}

struct LSTMCell {
  static constexpr int64_t kGates = 4;
  /// Results besides the output: h_n, c_n.
  static constexpr int kStates = 2;
  static constexpr int32_t kForwardKind = KILN_LSTM_FORWARD;
  /// The recurrent product adds to the gates; its gradient is theirs.
  static constexpr bool kSeparateHiddenGates = false;
  static constexpr auto forwardRows = lstmForwardRows;
  static constexpr auto backwardRows = lstmBackwardRows;
};

struct GRUCell {
  static constexpr int64_t kGates = 3;
  static constexpr int kStates = 1;
  static constexpr int32_t kForwardKind = KILN_GRU_FORWARD;
  /// The recurrent product stays apart: r multiplies its n part.
  static constexpr bool kSeparateHiddenGates = true;
  static constexpr auto forwardRows = gruForwardRows;
  static constexpr auto backwardRows = gruBackwardRows;
};

/// The forward pass of every layer, and what it keeps.
template <typename Cell> class ForwardPass {
public:
  explicit ForwardPass(const RecurrentShape &s)
      : shape(s), biasSum(Cell::kGates * s.h) {
    int64_t rows = s.rows(), gates = Cell::kGates * s.h;
    for (int64_t layer = 0; layer < s.l; ++layer) {
      LayerState &state = layers.emplace_back();
      state.gates.resize(rows * gates);
      if (Cell::kSeparateHiddenGates)
        state.hiddenGates.resize(rows * gates);
      if (Cell::kStates == 2) {
        state.cells.resize(rows * s.h);
        state.tanhCells.resize(rows * s.h);
      }
      if (layer + 1 < s.l)
        state.output.resize(rows * s.h);
    }
  }

  /// x [B, T, I], the 4L weights (w_ih w_hh b_ih b_hh per layer), and the
  /// results out [B, T, H], then h_n (and c_n) [L, B, H].
  void run(const float *x, void *const *weights, float *out,
           float *const *states) {
    const RecurrentShape &s = shape;
    int64_t h = s.h, gates = Cell::kGates * h;
    for (int64_t layer = 0; layer < s.l; ++layer) {
      auto *const *w =
          reinterpret_cast<const float *const *>(weights) + 4 * layer;
      LayerState &state = layers[layer];
      int64_t width = s.inputWidth(layer);
      float *output = layerOutput(layer, out);
      for (size_t j = 0; j < biasSum.size(); ++j)
        biasSum[j] = w[2][j] + w[3][j];
      // Every step's input projection, then step by step the recurrence.
      sgemm(false, true, s.rows(), gates, width, layerInput(layer, x), width,
            w[0], width, 0.0f, state.gates.data(), gates);
      float *recurrent = Cell::kSeparateHiddenGates ? state.hiddenGates.data()
                                                    : state.gates.data();
      for (int64_t step = 0; step < s.t; ++step) {
        if (step)
          sgemm(false, true, s.b, gates, h, output + (step - 1) * h, s.t * h,
                w[1], h, Cell::kSeparateHiddenGates ? 0.0f : 1.0f,
                recurrent + step * gates, s.t * gates);
        Step context{s, state, w, biasSum.data(), output, step};
        kiln_rt_parallel_for(Cell::forwardRows, &context, s.b);
      }
      // The last step's hidden state (and cell).
      for (int64_t b = 0; b < s.b; ++b) {
        int64_t last = (b * s.t + s.t - 1) * h;
        int64_t to = (layer * s.b + b) * h;
        std::memcpy(states[0] + to, output + last, h * sizeof(float));
        if (Cell::kStates == 2)
          std::memcpy(states[1] + to, state.cells.data() + last,
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
  RecurrentShape shape;
  std::vector<float> biasSum;
  std::vector<LayerState> layers;
};

/// args: x, the 4L weights, out, then h_n (and c_n).
template <typename Cell> class RecurrentForward : public Site {
public:
  explicit RecurrentForward(const RecurrentShape &s)
      : numLayers(s.l), pass(s) {}

  void execute(void **args) override {
    void **results = args + 1 + 4 * numLayers;
    pass.run(static_cast<const float *>(args[0]), args + 1,
             static_cast<float *>(results[0]),
             reinterpret_cast<float *const *>(results + 1));
  }

  ForwardPass<Cell> &getPass() { return pass; }

private:
  int64_t numLayers;
  ForwardPass<Cell> pass;
};

/// Reorders a [rows, cols] matrix into [cols, rows] (oneDNN's reorder).
class Transposer {
public:
  Transposer(float *source, int64_t rows, int64_t cols)
      : from(f32Desc({rows, cols}, Tag::ab), cpuEngine(), source),
        to(f32Desc({rows, cols}, Tag::ba), cpuEngine()), primitive(from, to) {}

  const float *run() {
    primitive.execute(cpuStream(), from, to);
    return static_cast<const float *>(to.get_data_handle());
  }

private:
  memory from, to;
  reorder primitive;
};

/// Σ over rows of [rows, cols] into sum[cols].
void sumRows(const float *matrix, int64_t rows, int64_t cols, float *sum) {
  std::fill(sum, sum + cols, 0.0f);
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t j = 0; j < cols; ++j)
      sum[j] += matrix[row * cols + j];
}

/// args: x, out, the states (h_n, and c_n), dout, their gradients, the 4L
/// weights, dx, the 4L weight gradients.
template <typename Cell> class RecurrentBackward : public Site {
  static constexpr int kStates = Cell::kStates;
  /// x, out, the states, dout and the states' gradients.
  static constexpr int kLeading = 3 + 2 * kStates;

public:
  RecurrentBackward(const RecurrentShape &s,
                    Pairing<RecurrentForward<Cell>> pairing)
      : shape(s), pairing(std::move(pairing)),
        gatesGrad(s.rows() * Cell::kGates * s.h), hiddenGrad(s.b * s.h),
        previousHidden(s.rows() * s.h),
        inputGates(gatesGrad.data(), s.rows(), Cell::kGates * s.h) {
    int64_t rows = s.rows(), gates = Cell::kGates * s.h;
    if (Cell::kStates == 2)
      cellGrad.resize(s.b * s.h);
    if (Cell::kSeparateHiddenGates) {
      hiddenGatesGrad.resize(rows * gates);
      hiddenGates =
          std::make_unique<Transposer>(hiddenGatesGrad.data(), rows, gates);
    }
    if (s.l > 1) {
      inputGrad.resize(rows * s.h);
      lowerOutputGrad.resize(rows * s.h);
    }
    if (!this->pairing.paired()) {
      recompute = std::make_unique<ForwardPass<Cell>>(s);
      out.resize(rows * s.h);
      for (auto &state : finalStates)
        state.resize(s.l * s.b * s.h);
    }
  }

  void execute(void **args) override {
    const RecurrentShape &s = shape;
    const auto *x = static_cast<const float *>(args[0]);
    auto *output = static_cast<float *>(args[1]);
    const auto *outGrad = static_cast<const float *>(args[2 + kStates]);
    void *const *stateGrads = args + 3 + kStates;
    void *const *weights = args + kLeading;
    auto *dx = static_cast<float *>(args[kLeading + 4 * s.l]);
    auto *const *weightGrads =
        reinterpret_cast<float *const *>(args + kLeading + 1 + 4 * s.l);
    ForwardPass<Cell> *pass = recompute.get();
    if (pass) {
      output = out.data();
      float *states[kStates];
      for (int state = 0; state < kStates; ++state)
        states[state] = finalStates[state].data();
      pass->run(x, weights, output, states);
    } else {
      pass = &pairing.get().getPass();
    }

    int64_t h = s.h, gates = Cell::kGates * h, rows = s.rows();
    float *recurrentGrad =
        Cell::kSeparateHiddenGates ? hiddenGatesGrad.data() : gatesGrad.data();
    // From the last layer down: each layer's input gradient is the output
    // gradient of the layer below.
    for (int64_t layer = s.l - 1; layer >= 0; --layer) {
      auto *const *w =
          reinterpret_cast<const float *const *>(weights) + 4 * layer;
      float *const *dw = weightGrads + 4 * layer;
      int64_t width = s.inputWidth(layer);
      LayerState &state = pass->state(layer);
      const float *input = pass->layerInput(layer, x);
      float *layerOut = pass->layerOutput(layer, output);
      const float *dOut = layer + 1 < s.l ? lowerOutputGrad.data() : outGrad;
      int64_t stateOffset = layer * s.b * h;
      std::memcpy(hiddenGrad.data(),
                  static_cast<const float *>(stateGrads[0]) + stateOffset,
                  s.b * h * sizeof(float));
      if (Cell::kStates == 2)
        std::memcpy(cellGrad.data(),
                    static_cast<const float *>(stateGrads[1]) + stateOffset,
                    s.b * h * sizeof(float));
      for (int64_t step = s.t - 1; step >= 0; --step) {
        Step context{s,
                     state,
                     w,
                     nullptr,
                     layerOut,
                     step,
                     dOut,
                     hiddenGrad.data(),
                     cellGrad.data(),
                     gatesGrad.data(),
                     hiddenGatesGrad.data()};
        kiln_rt_parallel_for(Cell::backwardRows, &context, s.b);
        // dh_{t-1} gets the recurrent product's gradient.
        if (step)
          sgemm(false, false, s.b, h, gates, recurrentGrad + step * gates,
                s.t * gates, w[1], h, Cell::kSeparateHiddenGates ? 1.0f : 0.0f,
                hiddenGrad.data(), h);
      }
      // dx of this layer: the caller's, or the next lower layer's dout.
      float *inputGradient = layer ? inputGrad.data() : dx;
      sgemm(false, false, rows, width, gates, gatesGrad.data(), gates, w[0],
            width, 0.0f, inputGradient, width);
      if (layer)
        std::swap(inputGrad, lowerOutputGrad);

      // The weight gradients, from the gate gradients as [G*H, B*T] rows.
      const float *byGate = inputGates.run();
      sgemm(false, false, gates, width, rows, byGate, rows, input, width, 0.0f,
            dw[0], width);
      if (Cell::kSeparateHiddenGates)
        byGate = hiddenGates->run();
      // h_{t-1} for each row (0 at the first step).
      for (int64_t b = 0; b < s.b; ++b) {
        float *first = previousHidden.data() + b * s.t * h;
        std::fill(first, first + h, 0.0f);
        std::memcpy(first + h, layerOut + b * s.t * h,
                    (s.t - 1) * h * sizeof(float));
      }
      sgemm(false, false, gates, h, rows, byGate, rows, previousHidden.data(),
            h, 0.0f, dw[1], h);
      sumRows(gatesGrad.data(), rows, gates, dw[2]);
      sumRows(recurrentGrad, rows, gates, dw[3]);
    }
  }

private:
  RecurrentShape shape;
  Pairing<RecurrentForward<Cell>> pairing;
  std::vector<float> gatesGrad, hiddenGatesGrad, hiddenGrad, cellGrad,
      previousHidden;
  // The input gradient of the layer being done, and the output gradient of
  // the layer below it (the last layer done's input gradient).
  std::vector<float> inputGrad, lowerOutputGrad;
  Transposer inputGates;
  std::unique_ptr<Transposer> hiddenGates;
  // An unpaired site's own forward pass and results.
  std::unique_ptr<ForwardPass<Cell>> recompute;
  std::vector<float> out, finalStates[kStates];
};

template <typename Cell> std::unique_ptr<Site> createBackward(Config &config) {
  RecurrentShape shape(config);
  Pairing<RecurrentForward<Cell>> pairing(
      config, config.siteNumber("forward_site"), Cell::kForwardKind,
      kForwardConfigSize);
  return std::make_unique<RecurrentBackward<Cell>>(shape, std::move(pairing));
}

} // namespace

std::unique_ptr<Site> kiln::cpu::createLSTMForward(Config &config) {
  return std::make_unique<RecurrentForward<LSTMCell>>(RecurrentShape(config));
}

std::unique_ptr<Site> kiln::cpu::createLSTMBackward(Config &config) {
  return createBackward<LSTMCell>(config);
}

std::unique_ptr<Site> kiln::cpu::createGRUForward(Config &config) {
  return std::make_unique<RecurrentForward<GRUCell>>(RecurrentShape(config));
}

std::unique_ptr<Site> kiln::cpu::createGRUBackward(Config &config) {
  return createBackward<GRUCell>(config);
}
