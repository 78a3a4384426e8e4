//===- Recurrent.cpp - Multi-layer GRU sites on oneDNN's RNN primitive ----===//
//
// One oneDNN RNN primitive per layer: oneDNN stacks layers in one primitive
// only when every layer's input is as wide as its hidden state. Sequences
// stay batch first (format tag ntc), the layout generated code passes.
//
// PyTorch's weight [G*H, in] (G gates) is oneDNN's logical [in, G, H] in
// format ldgoi; it is reordered, at each step, into the layout each
// primitive wants (forward and backward want different ones). The backward
// primitive accumulates into its weight gradients, which are zeroed first.
//
// The LSTM runs on Kiln's own products and loops instead (LSTM.cpp), which
// are faster than oneDNN 2.6's primitive here.
//
// - GRU: PyTorch's formula is oneDNN's linear-before-reset GRU, whose gates
//   u, r, o are PyTorch's z, r, n: the first two gates swap places on the
//   way in and out. Its four biases are b_iz + b_hz, b_ir + b_hr, b_in and
//   b_hn.
//
// The backward pass needs the forward's workspace and the output of every
// layer: a backward site paired with the forward site that ran earlier in
// the step reuses them; an unpaired one runs the forward pass again.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

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
  /// [B, T, width] as oneDNN's [T, B, width].
  memory::desc sequence(int64_t width) const {
    return f32Desc({t, b, width}, Tag::ntc);
  }
  /// One layer's slice of h_n.
  memory::desc state() const { return f32Desc({1, 1, b, h}, Tag::ldnc); }
  int64_t stateSize() const { return b * h; }
};

/// The GRU's, linear before reset.
struct GRUCell {
  using Forward = lbr_gru_forward;
  using Backward = lbr_gru_backward;
  static constexpr int64_t kGates = 3, kBiases = 4;
  static constexpr int kStates = 1;
  static constexpr int32_t kForwardKind = KILN_GRU_FORWARD;
  static constexpr bool kMovesGates = true;

  static Forward::desc forward(const RecurrentShape &s, int64_t width,
                               const memory::desc &weightsLayer,
                               const memory::desc &weightsIter,
                               const memory::desc &bias) {
    return Forward::desc(prop_kind::forward_training,
                         rnn_direction::unidirectional_left2right,
                         s.sequence(width), {}, weightsLayer, weightsIter, bias,
                         s.sequence(s.h), s.state());
  }
  static Backward::desc backward(const RecurrentShape &s, int64_t width,
                                 const memory::desc &weightsLayer,
                                 const memory::desc &weightsIter,
                                 const memory::desc &bias) {
    memory::desc none;
    return Backward::desc(
        prop_kind::backward, rnn_direction::unidirectional_left2right,
        s.sequence(width), none, weightsLayer, weightsIter, bias,
        s.sequence(s.h), s.state(), s.sequence(width), none, weightsLayer,
        weightsIter, bias, s.sequence(s.h), s.state());
  }

  /// Swaps the first two gates of [3, rows] blocks of `size` floats each:
  /// r, z, n and u, r, o are each other's order.
  static void swapGates(const float *from, float *to, int64_t size) {
    std::memcpy(to, from + size, size * sizeof(float));
    std::memcpy(to + size, from, size * sizeof(float));
    std::memcpy(to + 2 * size, from + 2 * size, size * sizeof(float));
  }
  /// `weights` [3H, width] in oneDNN's gate order, in `scratch`; `size` is
  /// one gate's H * width.
  static const float *gatesIn(const float *weights, float *scratch,
                              int64_t size) {
    swapGates(weights, scratch, size);
    return scratch;
  }
  /// Where the primitive's gradient goes before gatesOut() moves it.
  static float *gatesOutScratch(float *, float *scratch) { return scratch; }
  static void gatesOut(const float *scratch, float *gradient, int64_t size) {
    swapGates(scratch, gradient, size);
  }

  static void biasIn(float *bias, const float *bih, const float *bhh,
                     int64_t h) {
    for (int64_t i = 0; i < h; ++i) {
      bias[i] = bih[h + i] + bhh[h + i]; // u: z
      bias[h + i] = bih[i] + bhh[i];     // r
      bias[2 * h + i] = bih[2 * h + i];  // o: b_in
      bias[3 * h + i] = bhh[2 * h + i];  // b_hn, inside r * (...)
    }
  }
  static void biasOut(const float *dbias, float *dbih, float *dbhh, int64_t h) {
    for (int64_t i = 0; i < h; ++i) {
      dbih[i] = dbhh[i] = dbias[h + i];
      dbih[h + i] = dbhh[h + i] = dbias[i];
      dbih[2 * h + i] = dbias[2 * h + i];
      dbhh[2 * h + i] = dbias[3 * h + i];
    }
  }
};

/// The layouts of one layer's weights and biases.
template <typename Cell> struct LayerDescs {
  const RecurrentShape &s;

  memory::desc weights(int64_t width, Tag tag) const {
    return f32Desc({1, 1, width, Cell::kGates, s.h}, tag);
  }
  memory::desc bias() const {
    return f32Desc({1, 1, Cell::kBiases, s.h}, Tag::ldgo);
  }
  typename Cell::Forward::primitive_desc forward(int64_t layer) const {
    int64_t width = s.inputWidth(layer);
    return typename Cell::Forward::primitive_desc(
        Cell::forward(s, width, weights(width, Tag::any),
                      weights(s.h, Tag::any), bias()),
        cpuEngine());
  }
  typename Cell::Backward::primitive_desc backward(int64_t layer) const {
    int64_t width = s.inputWidth(layer);
    return typename Cell::Backward::primitive_desc(
        Cell::backward(s, width, weights(width, Tag::any),
                       weights(s.h, Tag::any), bias()),
        cpuEngine(), forward(layer));
  }
};

/// Room for a layer's weights [G*H, width] and [G*H, H] (or their
/// gradients) in oneDNN's gate order, when the gates move.
template <typename Cell> struct GateOrder {
  std::vector<float> layer, iter;
  int64_t layerGate = 0, iterGate = 0; // the floats of one gate

  GateOrder() = default;
  GateOrder(const RecurrentShape &s, int64_t width)
      : layerGate(s.h * width), iterGate(s.h * s.h) {
    if (Cell::kMovesGates) {
      layer.resize(Cell::kGates * layerGate);
      iter.resize(Cell::kGates * iterGate);
    }
  }
  void *layerIn(void *weights) { return in(weights, layer, layerGate); }
  void *iterIn(void *weights) { return in(weights, iter, iterGate); }

private:
  static void *in(void *weights, std::vector<float> &scratch, int64_t gate) {
    return const_cast<float *>(
        Cell::gatesIn(static_cast<float *>(weights), scratch.data(), gate));
  }
};

/// The forward pass of every layer. Keeps, for the backward pass, each
/// layer's workspace and the output of every layer but the last (which is
/// the caller's `out`).
template <typename Cell> class ForwardPass {
public:
  explicit ForwardPass(const RecurrentShape &s) : shape(s) {
    LayerDescs<Cell> descs{s};
    for (int64_t layer = 0; layer < s.l; ++layer) {
      auto pd = descs.forward(layer);
      int64_t width = s.inputWidth(layer);
      Layer &l = layers.emplace_back();
      l.order = GateOrder<Cell>(s, width);
      l.primitive = typename Cell::Forward(pd);
      l.input = Input(pd.src_layer_desc());
      l.weightsLayer =
          Input(descs.weights(width, Tag::ldgoi), pd.weights_layer_desc());
      l.weightsIter =
          Input(descs.weights(s.h, Tag::ldgoi), pd.weights_iter_desc());
      l.bias = memory(pd.bias_desc(), cpuEngine());
      l.output = Output(pd.dst_layer_desc());
      l.hidden = Output(pd.dst_iter_desc());
      l.workspace = memory(pd.workspace_desc(), cpuEngine());
      if (layer + 1 < s.l)
        l.between = memory(pd.dst_layer_desc(), cpuEngine());
    }
  }

  /// Runs on x, the 4L weights, and the results: out, then h_n.
  void run(void *x, void *const *weights, void *out, void *const *states) {
    for (int64_t layer = 0; layer < shape.l; ++layer) {
      Layer &l = layers[layer];
      void *const *w = weights + 4 * layer;
      setBias(l.bias, w);
      int64_t offset = layer * shape.stateSize();
      ExecArgs args = {
          {DNNL_ARG_SRC_LAYER, l.input.bind(layerInput(layer, x))},
          {DNNL_ARG_WEIGHTS_LAYER, l.weightsLayer.bind(l.order.layerIn(w[0]))},
          {DNNL_ARG_WEIGHTS_ITER, l.weightsIter.bind(l.order.iterIn(w[1]))},
          {DNNL_ARG_BIAS, l.bias},
          {DNNL_ARG_DST_LAYER, l.output.bind(layerOutput(layer, out))},
          {DNNL_ARG_DST_ITER, l.hidden.bind(offsetFloats(states[0], offset))},
          {DNNL_ARG_WORKSPACE, l.workspace}};
      l.primitive.execute(cpuStream(), args);
    }
  }

  /// oneDNN's biases of the layer whose weights are `w`.
  void setBias(const memory &bias, void *const *w) const {
    Cell::biasIn(static_cast<float *>(bias.get_data_handle()),
                 static_cast<const float *>(w[2]),
                 static_cast<const float *>(w[3]), shape.h);
  }
  void *layerInput(int64_t layer, void *x) const {
    return layer ? layers[layer - 1].between.get_data_handle() : x;
  }
  void *layerOutput(int64_t layer, void *out) const {
    return layer + 1 < shape.l ? layers[layer].between.get_data_handle() : out;
  }
  const memory &workspace(int64_t layer) const {
    return layers[layer].workspace;
  }

private:
  struct Layer {
    typename Cell::Forward primitive;
    Input input, weightsLayer, weightsIter;
    memory bias;
    Output output, hidden;
    memory workspace, between;
    GateOrder<Cell> order;
  };
  RecurrentShape shape;
  std::vector<Layer> layers;
};

/// args: x, the 4L weights, out, h_n.
template <typename Cell> class RecurrentForward : public Site {
public:
  explicit RecurrentForward(const RecurrentShape &s)
      : numLayers(s.l), pass(s) {}

  void execute(void **args) override {
    void **results = args + 1 + 4 * numLayers;
    pass.run(args[0], args + 1, results[0], results + 1);
  }

  ForwardPass<Cell> &getPass() { return pass; }

private:
  int64_t numLayers;
  ForwardPass<Cell> pass;
};

/// args: x, out, the states (h_n), dout, their gradients, the 4L weights,
/// dx, the 4L weight gradients.
template <typename Cell> class RecurrentBackward : public Site {
  static constexpr int kStates = Cell::kStates;
  /// x, out, the states, dout and the states' gradients.
  static constexpr int kLeading = 3 + 2 * kStates;

public:
  RecurrentBackward(const RecurrentShape &s,
                    Pairing<RecurrentForward<Cell>> pairing)
      : shape(s), pairing(std::move(pairing)) {
    LayerDescs<Cell> descs{s};
    for (int64_t layer = 0; layer < s.l; ++layer) {
      int64_t width = s.inputWidth(layer);
      auto pd = descs.backward(layer);
      Layer &l = layers.emplace_back();
      l.order = GateOrder<Cell>(s, width);
      l.primitive = typename Cell::Backward(pd);
      l.input = Input(pd.src_layer_desc());
      l.weightsLayer =
          Input(descs.weights(width, Tag::ldgoi), pd.weights_layer_desc());
      l.weightsIter =
          Input(descs.weights(s.h, Tag::ldgoi), pd.weights_iter_desc());
      l.bias = memory(pd.bias_desc(), cpuEngine());
      l.output = Input(pd.dst_layer_desc());
      l.hidden = Input(pd.dst_iter_desc());
      l.outputGrad = Input(pd.diff_dst_layer_desc());
      l.hiddenGrad = Input(pd.diff_dst_iter_desc());
      l.inputGrad = Output(pd.diff_src_layer_desc());
      l.weightsLayerGrad = Output(descs.weights(width, Tag::ldgoi),
                                  pd.diff_weights_layer_desc());
      l.weightsIterGrad =
          Output(descs.weights(s.h, Tag::ldgoi), pd.diff_weights_iter_desc());
      l.biasGrad = memory(pd.diff_bias_desc(), cpuEngine());
      if (layer > 0)
        l.inputGradScratch = memory(pd.diff_src_layer_desc(), cpuEngine());
    }
    if (!this->pairing.paired()) {
      recompute = std::make_unique<ForwardPass<Cell>>(s);
      out = memory(s.sequence(s.h), cpuEngine());
      for (int state = 0; state < kStates; ++state)
        states[state] =
            memory(f32Desc({s.l, 1, s.b, s.h}, Tag::ldnc), cpuEngine());
    }
  }

  void execute(void **args) override {
    void *x = args[0];
    void *const *weights = args + kLeading;
    void *dx = args[kLeading + 4 * shape.l];
    void *const *weightGrads = args + kLeading + 1 + 4 * shape.l;
    void *output = args[1];
    void *finalStates[kStates];
    for (int state = 0; state < kStates; ++state)
      finalStates[state] = args[2 + state];
    void *outputGradArg = args[2 + kStates];
    void *const *stateGrads = args + 3 + kStates;
    ForwardPass<Cell> *pass = recompute.get();
    if (pass) {
      output = out.get_data_handle();
      for (int state = 0; state < kStates; ++state)
        finalStates[state] = states[state].get_data_handle();
      pass->run(x, weights, output, finalStates);
    } else {
      pass = &pairing.get().getPass();
    }

    // From the last layer down: each layer's input gradient is the output
    // gradient of the layer below.
    for (int64_t layer = shape.l - 1; layer >= 0; --layer) {
      Layer &l = layers[layer];
      void *const *w = weights + 4 * layer;
      float *const *dw =
          reinterpret_cast<float *const *>(weightGrads + 4 * layer);
      int64_t offset = layer * shape.stateSize();
      void *outputGrad =
          layer + 1 < shape.l
              ? layers[layer + 1].inputGradScratch.get_data_handle()
              : outputGradArg;
      void *inputGrad = layer ? l.inputGradScratch.get_data_handle() : dx;
      pass->setBias(l.bias, w);
      std::memset(l.biasGrad.get_data_handle(), 0,
                  l.biasGrad.get_desc().get_size());
      float *dwLayer = Cell::gatesOutScratch(dw[0], l.order.layer.data());
      float *dwIter = Cell::gatesOutScratch(dw[1], l.order.iter.data());
      ExecArgs execArgs = {
          {DNNL_ARG_SRC_LAYER, l.input.bind(pass->layerInput(layer, x))},
          {DNNL_ARG_WEIGHTS_LAYER, l.weightsLayer.bind(l.order.layerIn(w[0]))},
          {DNNL_ARG_WEIGHTS_ITER, l.weightsIter.bind(l.order.iterIn(w[1]))},
          {DNNL_ARG_BIAS, l.bias},
          {DNNL_ARG_DST_LAYER, l.output.bind(pass->layerOutput(layer, output))},
          {DNNL_ARG_DST_ITER,
           l.hidden.bind(offsetFloats(finalStates[0], offset))},
          {DNNL_ARG_WORKSPACE, pass->workspace(layer)},
          {DNNL_ARG_DIFF_DST_LAYER, l.outputGrad.bind(outputGrad)},
          {DNNL_ARG_DIFF_DST_ITER,
           l.hiddenGrad.bind(offsetFloats(stateGrads[0], offset))},
          {DNNL_ARG_DIFF_SRC_LAYER, l.inputGrad.bind(inputGrad)},
          {DNNL_ARG_DIFF_WEIGHTS_LAYER, l.weightsLayerGrad.bindZeroed(dwLayer)},
          {DNNL_ARG_DIFF_WEIGHTS_ITER, l.weightsIterGrad.bindZeroed(dwIter)},
          {DNNL_ARG_DIFF_BIAS, l.biasGrad}};
      l.primitive.execute(cpuStream(), execArgs);
      l.weightsLayerGrad.flush();
      l.weightsIterGrad.flush();
      Cell::gatesOut(dwLayer, dw[0], l.order.layerGate);
      Cell::gatesOut(dwIter, dw[1], l.order.iterGate);
      Cell::biasOut(static_cast<const float *>(l.biasGrad.get_data_handle()),
                    dw[2], dw[3], shape.h);
    }
  }

private:
  struct Layer {
    GateOrder<Cell> order;
    typename Cell::Backward primitive;
    Input input, weightsLayer, weightsIter, output, hidden;
    Input outputGrad, hiddenGrad;
    memory bias, biasGrad, inputGradScratch;
    Output inputGrad, weightsLayerGrad, weightsIterGrad;
  };
  RecurrentShape shape;
  Pairing<RecurrentForward<Cell>> pairing;
  std::vector<Layer> layers;
  // An unpaired site's own forward pass and results.
  std::unique_ptr<ForwardPass<Cell>> recompute;
  memory out, states[kStates];
};

template <typename Cell> std::unique_ptr<Site> createBackward(Config &config) {
  RecurrentShape shape(config);
  Pairing<RecurrentForward<Cell>> pairing(
      config, config.siteNumber("forward_site"), Cell::kForwardKind,
      kForwardConfigSize);
  return std::make_unique<RecurrentBackward<Cell>>(shape, std::move(pairing));
}

} // namespace

std::unique_ptr<Site> kiln::cpu::createGRUForward(Config &config) {
  return std::make_unique<RecurrentForward<GRUCell>>(RecurrentShape(config));
}

std::unique_ptr<Site> kiln::cpu::createGRUBackward(Config &config) {
  return createBackward<GRUCell>(config);
}
