//===- LSTM.cpp - Multi-layer LSTM sites, forward and backward ------------===//
//
// One oneDNN LSTM primitive per layer: oneDNN stacks layers in one primitive
// only when every layer's input is as wide as its hidden state. Sequences
// stay batch first (format tag ntc), the layout generated code passes.
//
// PyTorch's gates i, f, g, o are oneDNN's i, f, c~, o, in the same order.
// PyTorch's weight [4H, in] is oneDNN's logical [in, 4, H] in format ldgoi;
// it is reordered, at each step, into the layout each primitive wants
// (forward and backward want different ones). oneDNN has one bias per gate:
// the forward uses b_ih + b_hh, and both get the bias gradient. The backward
// primitive accumulates into its weight gradients, which are zeroed first.
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

/// The configuration shared by both kinds: B T I H L.
constexpr size_t kForwardConfigSize = 5;

struct LSTMShape {
  int64_t b, t, i, h, l;

  explicit LSTMShape(Config &config)
      : b(config.size("B")), t(config.size("T")), i(config.size("I")),
        h(config.size("H")), l(config.size("L")) {}

  int64_t inputWidth(int64_t layer) const { return layer ? h : i; }
  /// [B, T, width] as oneDNN's [T, B, width].
  memory::desc sequence(int64_t width) const {
    return f32Desc({t, b, width}, Tag::ntc);
  }
  /// One layer's slice of h_n or c_n.
  memory::desc state() const { return f32Desc({1, 1, b, h}, Tag::ldnc); }
  memory::desc weights(int64_t width, Tag tag) const {
    return f32Desc({1, 1, width, 4, h}, tag);
  }
  memory::desc bias() const { return f32Desc({1, 1, 4, h}, Tag::ldgo); }
  int64_t stateSize() const { return b * h; }

  lstm_forward::primitive_desc forwardDesc(int64_t layer) const {
    int64_t width = inputWidth(layer);
    lstm_forward::desc desc(prop_kind::forward_training,
                            rnn_direction::unidirectional_left2right,
                            sequence(width), memory::desc(), memory::desc(),
                            weights(width, Tag::any), weights(h, Tag::any),
                            bias(), sequence(h), state(), state());
    return lstm_forward::primitive_desc(desc, cpuEngine());
  }
};

/// Writes b_ih + b_hh of one layer into `sum`.
void sumBiases(const memory &sum, void *bih, void *bhh, int64_t count) {
  auto *out = static_cast<float *>(sum.get_data_handle());
  const auto *first = static_cast<const float *>(bih);
  const auto *second = static_cast<const float *>(bhh);
  for (int64_t i = 0; i < count; ++i)
    out[i] = first[i] + second[i];
}

/// The forward pass of every layer. Keeps, for the backward pass, each
/// layer's workspace and the output of every layer but the last (which is
/// the caller's `out`).
class LSTMForwardPass {
public:
  explicit LSTMForwardPass(const LSTMShape &s) : shape(s) {
    for (int64_t layer = 0; layer < s.l; ++layer) {
      auto pd = s.forwardDesc(layer);
      int64_t width = s.inputWidth(layer);
      Layer &l = layers.emplace_back();
      l.primitive = lstm_forward(pd);
      l.input = Input(pd.src_layer_desc());
      l.weightsLayer =
          Input(s.weights(width, Tag::ldgoi), pd.weights_layer_desc());
      l.weightsIter = Input(s.weights(s.h, Tag::ldgoi), pd.weights_iter_desc());
      l.bias = memory(pd.bias_desc(), cpuEngine());
      l.output = Output(pd.dst_layer_desc());
      l.hidden = Output(pd.dst_iter_desc());
      l.cell = Output(pd.dst_iter_c_desc());
      l.workspace = memory(pd.workspace_desc(), cpuEngine());
      if (layer + 1 < s.l)
        l.between = memory(pd.dst_layer_desc(), cpuEngine());
    }
  }

  /// Runs on x, the 4L weights, and the results out, h_n and c_n.
  void run(void *x, void *const *weights, void *out, void *hN, void *cN) {
    for (int64_t layer = 0; layer < shape.l; ++layer) {
      Layer &l = layers[layer];
      void *const *w = weights + 4 * layer;
      sumBiases(l.bias, w[2], w[3], 4 * shape.h);
      int64_t offset = layer * shape.stateSize();
      l.primitive.execute(
          cpuStream(),
          {{DNNL_ARG_SRC_LAYER, l.input.bind(layerInput(layer, x))},
           {DNNL_ARG_WEIGHTS_LAYER, l.weightsLayer.bind(w[0])},
           {DNNL_ARG_WEIGHTS_ITER, l.weightsIter.bind(w[1])},
           {DNNL_ARG_BIAS, l.bias},
           {DNNL_ARG_DST_LAYER, l.output.bind(layerOutput(layer, out))},
           {DNNL_ARG_DST_ITER, l.hidden.bind(offsetFloats(hN, offset))},
           {DNNL_ARG_DST_ITER_C, l.cell.bind(offsetFloats(cN, offset))},
           {DNNL_ARG_WORKSPACE, l.workspace}});
    }
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
    lstm_forward primitive;
    Input input, weightsLayer, weightsIter;
    memory bias;
    Output output, hidden, cell;
    memory workspace, between;
  };
  LSTMShape shape;
  std::vector<Layer> layers;
};

/// args: x, the 4L weights, out h_n c_n.
class LSTMForward : public Site {
public:
  explicit LSTMForward(const LSTMShape &s) : numLayers(s.l), pass(s) {}

  void execute(void **args) override {
    void **results = args + 1 + 4 * numLayers;
    pass.run(args[0], args + 1, results[0], results[1], results[2]);
  }

  LSTMForwardPass &getPass() { return pass; }

private:
  int64_t numLayers;
  LSTMForwardPass pass;
};

/// args: x out h_n c_n dout dh_n dc_n, the 4L weights, dx, the 4L weight
/// gradients.
class LSTMBackward : public Site {
public:
  LSTMBackward(const LSTMShape &s, Pairing<LSTMForward> pairing)
      : shape(s), pairing(std::move(pairing)) {
    for (int64_t layer = 0; layer < s.l; ++layer) {
      int64_t width = s.inputWidth(layer);
      memory::desc none; // zero initial states, and so no gradient of them
      lstm_backward::desc desc(
          prop_kind::backward, rnn_direction::unidirectional_left2right,
          s.sequence(width), none, none, s.weights(width, Tag::any),
          s.weights(s.h, Tag::any), s.bias(), s.sequence(s.h), s.state(),
          s.state(), s.sequence(width), none, none, s.weights(width, Tag::any),
          s.weights(s.h, Tag::any), s.bias(), s.sequence(s.h), s.state(),
          s.state());
      lstm_backward::primitive_desc pd(desc, cpuEngine(), s.forwardDesc(layer));
      Layer &l = layers.emplace_back();
      l.primitive = lstm_backward(pd);
      l.input = Input(pd.src_layer_desc());
      l.weightsLayer =
          Input(s.weights(width, Tag::ldgoi), pd.weights_layer_desc());
      l.weightsIter = Input(s.weights(s.h, Tag::ldgoi), pd.weights_iter_desc());
      l.bias = memory(pd.bias_desc(), cpuEngine());
      l.output = Input(pd.dst_layer_desc());
      l.hidden = Input(pd.dst_iter_desc());
      l.cell = Input(pd.dst_iter_c_desc());
      l.outputGrad = Input(pd.diff_dst_layer_desc());
      l.hiddenGrad = Input(pd.diff_dst_iter_desc());
      l.cellGrad = Input(pd.diff_dst_iter_c_desc());
      l.inputGrad = Output(pd.diff_src_layer_desc());
      l.weightsLayerGrad =
          Output(s.weights(width, Tag::ldgoi), pd.diff_weights_layer_desc());
      l.weightsIterGrad =
          Output(s.weights(s.h, Tag::ldgoi), pd.diff_weights_iter_desc());
      l.biasGrad = memory(pd.diff_bias_desc(), cpuEngine());
      if (layer > 0)
        l.inputGradScratch = memory(pd.diff_src_layer_desc(), cpuEngine());
    }
    if (!this->pairing.paired()) {
      recompute = std::make_unique<LSTMForwardPass>(s);
      out = memory(s.sequence(s.h), cpuEngine());
      hN = memory(f32Desc({s.l, 1, s.b, s.h}, Tag::ldnc), cpuEngine());
      cN = memory(f32Desc({s.l, 1, s.b, s.h}, Tag::ldnc), cpuEngine());
    }
  }

  void execute(void **args) override {
    void *x = args[0];
    void *const *weights = args + 7;
    void *dx = args[7 + 4 * shape.l];
    void *const *weightGrads = args + 8 + 4 * shape.l;
    void *output = args[1], *hidden = args[2], *cell = args[3];
    LSTMForwardPass *pass = recompute.get();
    if (pass) {
      output = out.get_data_handle();
      hidden = hN.get_data_handle();
      cell = cN.get_data_handle();
      pass->run(x, weights, output, hidden, cell);
    } else {
      pass = &pairing.get().getPass();
    }

    // From the last layer down: each layer's input gradient is the output
    // gradient of the layer below.
    for (int64_t layer = shape.l - 1; layer >= 0; --layer) {
      Layer &l = layers[layer];
      void *const *w = weights + 4 * layer;
      void *const *dw = weightGrads + 4 * layer;
      int64_t offset = layer * shape.stateSize();
      void *outputGrad =
          layer + 1 < shape.l
              ? layers[layer + 1].inputGradScratch.get_data_handle()
              : args[4];
      void *inputGrad = layer ? l.inputGradScratch.get_data_handle() : dx;
      sumBiases(l.bias, w[2], w[3], 4 * shape.h);
      std::memset(l.biasGrad.get_data_handle(), 0,
                  l.biasGrad.get_desc().get_size());
      l.primitive.execute(
          cpuStream(),
          {{DNNL_ARG_SRC_LAYER, l.input.bind(pass->layerInput(layer, x))},
           {DNNL_ARG_WEIGHTS_LAYER, l.weightsLayer.bind(w[0])},
           {DNNL_ARG_WEIGHTS_ITER, l.weightsIter.bind(w[1])},
           {DNNL_ARG_BIAS, l.bias},
           {DNNL_ARG_DST_LAYER,
            l.output.bind(pass->layerOutput(layer, output))},
           {DNNL_ARG_DST_ITER, l.hidden.bind(offsetFloats(hidden, offset))},
           {DNNL_ARG_DST_ITER_C, l.cell.bind(offsetFloats(cell, offset))},
           {DNNL_ARG_WORKSPACE, pass->workspace(layer)},
           {DNNL_ARG_DIFF_DST_LAYER, l.outputGrad.bind(outputGrad)},
           {DNNL_ARG_DIFF_DST_ITER,
            l.hiddenGrad.bind(offsetFloats(args[5], offset))},
           {DNNL_ARG_DIFF_DST_ITER_C,
            l.cellGrad.bind(offsetFloats(args[6], offset))},
           {DNNL_ARG_DIFF_SRC_LAYER, l.inputGrad.bind(inputGrad)},
           {DNNL_ARG_DIFF_WEIGHTS_LAYER, l.weightsLayerGrad.bindZeroed(dw[0])},
           {DNNL_ARG_DIFF_WEIGHTS_ITER, l.weightsIterGrad.bindZeroed(dw[1])},
           {DNNL_ARG_DIFF_BIAS, l.biasGrad}});
      l.weightsLayerGrad.flush();
      l.weightsIterGrad.flush();
      size_t biasBytes = 4 * shape.h * sizeof(float);
      std::memcpy(dw[2], l.biasGrad.get_data_handle(), biasBytes);
      std::memcpy(dw[3], l.biasGrad.get_data_handle(), biasBytes);
    }
  }

private:
  struct Layer {
    lstm_backward primitive;
    Input input, weightsLayer, weightsIter, output, hidden, cell;
    Input outputGrad, hiddenGrad, cellGrad;
    memory bias, biasGrad, inputGradScratch;
    Output inputGrad, weightsLayerGrad, weightsIterGrad;
  };
  LSTMShape shape;
  Pairing<LSTMForward> pairing;
  std::vector<Layer> layers;
  // An unpaired site's own forward pass and results.
  std::unique_ptr<LSTMForwardPass> recompute;
  memory out, hN, cN;
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
