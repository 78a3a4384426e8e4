//===- Conv.cpp - 2-D convolution sites: forward, backward data, weights --===//
//
// oneDNN picks each convolution's memory formats (format_tag::any): its
// blocked layouts (nChw16c on AVX-512, nChw8c on AVX2) run the JIT kernels,
// while plain NCHW falls back to a GEMM-based convolution, 2 to 12 times slower
// for the seed CNN's shapes. Generated code's plain buffers are reordered into
// those formats at execution. The exceptions are the gradients of a convolution
// of an input of few channels (an image's), which blocking pads to 8 or 16
// channels: the input gradient runs on plain layouts (the GEMM path was up to
// 10 times faster), and the weight gradient on channels-last ones (NHWC: 3.8
// against 1.0 ms for the seed CNN's first layer on the AVX2 machine, 2
// threads; the image of 1 channel is then read as it is). Arguments that
// generated code passes in the blocked layout (blockedTag()) need no reorder
// when the primitive chose that layout.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// The configuration shared by the three kinds:
/// N C H W O KH KW SH SW PH PW DH DW.
struct ConvShape {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;

  explicit ConvShape(Config &config)
      : n(config.size("N")), c(config.size("C")), h(config.size("H")),
        w(config.size("W")), o(config.size("O")), kh(config.size("KH")),
        kw(config.size("KW")), sh(config.size("SH")), sw(config.size("SW")),
        ph(config.size("PH", 0)), pw(config.size("PW", 0)),
        dh(config.size("DH")), dw(config.size("DW")) {
    oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    if (h + 2 * ph < dh * (kh - 1) + 1 || w + 2 * pw < dw * (kw - 1) + 1)
      config.fail("the kernel is larger than the padded image");
  }

  Dims src() const { return {n, c, h, w}; }
  Dims weights() const { return {o, c, kh, kw}; }
  Dims bias() const { return {o}; }
  Dims dst() const { return {n, o, oh, ow}; }
  Dims strides() const { return {sh, sw}; }
  // oneDNN counts dilation from 0.
  Dims dilation() const { return {dh - 1, dw - 1}; }
  // The right padding equal to the left one gives PyTorch's rounded-down
  // output size, which is oneDNN's check.
  Dims padding() const { return {ph, pw}; }
};

/// Below this many input channels the gradients run on plain or
/// channels-last layouts instead of blocked ones.
constexpr int64_t kBlockedGradientChannels = 8;

/// How a convolution's operands are laid out.
enum class Layout {
  Chosen,       ///< oneDNN's choice (blocked)
  Plain,        ///< row-major NCHW (OIHW for weights)
  ChannelsLast, ///< NHWC for the data, oneDNN's choice for the weights
};

memory::desc dataDesc(const Dims &dims, Layout layout) {
  switch (layout) {
  case Layout::Chosen:
    return f32Desc(dims, Tag::any);
  case Layout::Plain:
    return plainDesc(dims);
  case Layout::ChannelsLast:
    return f32Desc(dims, Tag::nhwc);
  }
  return {};
}

memory::desc weightsDesc(const Dims &dims, Layout layout) {
  return layout == Layout::Plain ? plainDesc(dims) : f32Desc(dims, Tag::any);
}

convolution_forward::primitive_desc
forwardDesc(const ConvShape &s, bool hasBias, bool relu,
            Layout layout = Layout::Chosen) {
  memory::desc bias = hasBias ? plainDesc(s.bias()) : memory::desc();
  convolution_forward::desc desc(
      prop_kind::forward_training, algorithm::convolution_direct,
      dataDesc(s.src(), layout), weightsDesc(s.weights(), layout), bias,
      dataDesc(s.dst(), layout), s.strides(), s.dilation(), s.padding(),
      s.padding());
  primitive_attr attr;
  if (relu) {
    post_ops ops;
    ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return convolution_forward::primitive_desc(desc, attr, cpuEngine());
}

/// args: x w (b) y; x and y may be blocked.
class ConvForward : public Site {
public:
  ConvForward(const Config &config, const ConvShape &s, bool hasBias, bool relu,
              uint32_t blocked)
      : hasBias(hasBias) {
    auto pd = forwardDesc(s, hasBias, relu);
    primitive = convolution_forward(pd);
    x = Input(argumentDesc(config, s.src(), blocked & 1), pd.src_desc());
    w = Input(plainDesc(s.weights()), pd.weights_desc());
    if (hasBias)
      b = Input(plainDesc(s.bias()), pd.bias_desc());
    y = Output(argumentDesc(config, s.dst(), blocked >> (hasBias ? 3 : 2) & 1),
               pd.dst_desc());
  }

  void execute(void **args) override {
    ExecArgs exec{{DNNL_ARG_SRC, x.bind(args[0])},
                  {DNNL_ARG_WEIGHTS, w.bind(args[1])},
                  {DNNL_ARG_DST, y.bind(args[hasBias ? 3 : 2])}};
    if (hasBias)
      exec[DNNL_ARG_BIAS] = b.bind(args[2]);
    primitive.execute(cpuStream(), exec);
    y.flush();
  }

private:
  bool hasBias;
  convolution_forward primitive;
  Input x, w, b;
  Output y;
};

/// args: dy w dx; dy and dx may be blocked.
class ConvBackwardData : public Site {
public:
  ConvBackwardData(const Config &config, const ConvShape &s,
                   uint32_t blockedArgs) {
    Layout layout =
        s.c < kBlockedGradientChannels ? Layout::Plain : Layout::Chosen;
    convolution_backward_data::desc desc(
        algorithm::convolution_direct, dataDesc(s.src(), layout),
        weightsDesc(s.weights(), layout), dataDesc(s.dst(), layout),
        s.strides(), s.dilation(), s.padding(), s.padding());
    convolution_backward_data::primitive_desc pd(
        desc, cpuEngine(), forwardDesc(s, false, false, layout));
    primitive = convolution_backward_data(pd);
    dy = Input(argumentDesc(config, s.dst(), blockedArgs & 1),
               pd.diff_dst_desc());
    w = Input(plainDesc(s.weights()), pd.weights_desc());
    dx = Output(argumentDesc(config, s.src(), blockedArgs >> 2 & 1),
                pd.diff_src_desc());
  }

  void execute(void **args) override {
    primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                                    {DNNL_ARG_WEIGHTS, w.bind(args[1])},
                                    {DNNL_ARG_DIFF_SRC, dx.bind(args[2])}});
    dx.flush();
  }

private:
  convolution_backward_data primitive;
  Input dy, w;
  Output dx;
};

/// args: dy x dw (db); dy and x may be blocked.
class ConvBackwardWeights : public Site {
public:
  ConvBackwardWeights(const Config &config, const ConvShape &s, bool hasBias,
                      uint32_t blocked)
      : hasBias(hasBias) {
    Layout layout =
        s.c < kBlockedGradientChannels ? Layout::ChannelsLast : Layout::Chosen;
    memory::desc bias = hasBias ? plainDesc(s.bias()) : memory::desc();
    convolution_backward_weights::desc desc(
        algorithm::convolution_direct, dataDesc(s.src(), layout),
        weightsDesc(s.weights(), layout), bias, dataDesc(s.dst(), layout),
        s.strides(), s.dilation(), s.padding(), s.padding());
    convolution_backward_weights::primitive_desc pd(
        desc, cpuEngine(), forwardDesc(s, hasBias, false, layout));
    primitive = convolution_backward_weights(pd);
    dy = Input(argumentDesc(config, s.dst(), blocked & 1), pd.diff_dst_desc());
    x = Input(argumentDesc(config, s.src(), blocked >> 1 & 1), pd.src_desc());
    dw = Output(plainDesc(s.weights()), pd.diff_weights_desc());
    if (hasBias)
      db = Output(plainDesc(s.bias()), pd.diff_bias_desc());
  }

  void execute(void **args) override {
    ExecArgs exec{{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                  {DNNL_ARG_SRC, x.bind(args[1])},
                  {DNNL_ARG_DIFF_WEIGHTS, dw.bind(args[2])}};
    if (hasBias)
      exec[DNNL_ARG_DIFF_BIAS] = db.bind(args[3]);
    primitive.execute(cpuStream(), exec);
    dw.flush();
    if (hasBias)
      db.flush();
  }

private:
  bool hasBias;
  convolution_backward_weights primitive;
  Input dy, x;
  Output dw, db;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createConv2DForward(Config &config) {
  ConvShape shape(config);
  bool hasBias = config.flag("has_bias");
  bool relu = config.flag("relu");
  uint32_t blocked = config.blockedArguments(hasBias ? 4 : 3);
  return std::make_unique<ConvForward>(config, shape, hasBias, relu, blocked);
}

std::unique_ptr<Site> kiln::cpu::createConv2DBackwardData(Config &config) {
  ConvShape shape(config);
  uint32_t blocked = config.blockedArguments(3);
  return std::make_unique<ConvBackwardData>(config, shape, blocked);
}

std::unique_ptr<Site> kiln::cpu::createConv2DBackwardWeights(Config &config) {
  ConvShape shape(config);
  bool hasBias = config.flag("has_bias");
  uint32_t blocked = config.blockedArguments(hasBias ? 4 : 3);
  return std::make_unique<ConvBackwardWeights>(config, shape, hasBias, blocked);
}
