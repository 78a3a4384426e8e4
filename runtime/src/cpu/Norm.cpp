//===- Norm.cpp - Softmax, log-softmax and layer normalization sites ------===//
//
// Softmax and log-softmax run oneDNN's softmax_v2 along the middle dimension
// of [outer, size, inner]. Layer normalization runs oneDNN's
// layer_normalization; its backward pass needs each row's mean and
// variance, which the forward site keeps when a backward site pairs with
// it, and which a backward site without one computes by running the
// forward pass into scratch.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

#include <cstring>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// config: outer size inner log.
struct SoftmaxShape {
  int64_t outer, size, inner;
  bool log;
  memory::desc data;
  algorithm kind;

  explicit SoftmaxShape(Config &config)
      : outer(config.size("outer")), size(config.size("size")),
        inner(config.size("inner")), log(config.flag("log")),
        data(plainDesc({outer, size, inner})),
        kind(log ? algorithm::softmax_log : algorithm::softmax_accurate) {}

  softmax_v2_forward::primitive_desc forwardDesc() const {
    softmax_v2_forward::desc desc(prop_kind::forward_training, kind, data, data,
                                  1);
    return softmax_v2_forward::primitive_desc(desc, cpuEngine());
  }
};

/// args: x y.
class SoftmaxForward : public Site {
public:
  explicit SoftmaxForward(const SoftmaxShape &s)
      : primitive(s.forwardDesc()), x(s.data), y(s.data) {}

  void execute(void **args) override {
    primitive.execute(cpuStream(), {{DNNL_ARG_SRC, x.bind(args[0])},
                                    {DNNL_ARG_DST, y.bind(args[1])}});
  }

private:
  softmax_v2_forward primitive;
  Input x;
  Output y;
};

/// args: dy y dx. Along contiguous rows (inner = 1), softmaxBackwardRows;
/// otherwise oneDNN's primitive.
class SoftmaxBackward : public Site {
public:
  explicit SoftmaxBackward(const SoftmaxShape &s)
      : shape(s), dy(s.data), y(s.data) {
    if (s.inner != 1) {
      softmax_v2_backward::desc desc(s.kind, s.data, s.data, s.data, 1);
      primitive = softmax_v2_backward(softmax_v2_backward::primitive_desc(
          desc, cpuEngine(), s.forwardDesc()));
    }
    dx = Output(s.data);
  }

  void execute(void **args) override {
    if (shape.inner == 1) {
      softmaxBackwardRows(static_cast<const float *>(args[1]),
                          static_cast<const float *>(args[0]),
                          static_cast<float *>(args[2]), shape.outer,
                          shape.size, shape.log);
      return;
    }
    primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                                    {DNNL_ARG_DST, y.bind(args[1])},
                                    {DNNL_ARG_DIFF_SRC, dx.bind(args[2])}});
  }

private:
  SoftmaxShape shape;
  softmax_v2_backward primitive;
  Input dy, y;
  Output dx;
};

/// config: rows cols f64:epsilon has_weight, then the forward's
/// keeps_statistics or the backward's forward_site.
constexpr size_t kLayerNormConfigSize = 4;

struct LayerNormShape {
  int64_t rows, cols;
  float epsilon;
  bool hasWeight;

  explicit LayerNormShape(Config &config)
      : rows(config.size("rows")), cols(config.size("cols")),
        epsilon(static_cast<float>(config.real("epsilon"))),
        hasWeight(config.flag("has_weight")) {
    if (!(epsilon >= 0))
      config.fail("epsilon is negative");
  }

  memory::desc data() const { return plainDesc({rows, cols}); }
  memory::desc vector() const { return plainDesc({cols}); }
  normalization_flags flags() const {
    return hasWeight
               ? normalization_flags::use_scale | normalization_flags::use_shift
               : normalization_flags::none;
  }
};

/// args: x (w b) y.
class LayerNormForward : public Site {
public:
  LayerNormForward(const LayerNormShape &s, bool keepsStatistics)
      : hasWeight(s.hasWeight), x(s.data()), y(s.data()) {
    // Without a backward site to pair with, the statistics stay inside.
    layer_normalization_forward::desc desc(keepsStatistics
                                               ? prop_kind::forward_training
                                               : prop_kind::forward_inference,
                                           s.data(), s.epsilon, s.flags());
    layer_normalization_forward::primitive_desc pd(desc, cpuEngine());
    primitive = layer_normalization_forward(pd);
    if (hasWeight) {
      w = Input(s.vector());
      b = Input(s.vector());
    }
    if (keepsStatistics) {
      mean = memory(pd.mean_desc(), cpuEngine());
      variance = memory(pd.variance_desc(), cpuEngine());
    }
  }

  void execute(void **args) override {
    ExecArgs exec{{DNNL_ARG_SRC, x.bind(args[0])},
                  {DNNL_ARG_DST, y.bind(args[hasWeight ? 3 : 1])}};
    if (hasWeight) {
      exec[DNNL_ARG_SCALE] = w.bind(args[1]);
      exec[DNNL_ARG_SHIFT] = b.bind(args[2]);
    }
    if (mean) {
      exec[DNNL_ARG_MEAN] = mean;
      exec[DNNL_ARG_VARIANCE] = variance;
    }
    primitive.execute(cpuStream(), exec);
  }

  /// The rows' means and variances of the last execution.
  const memory &keptMean() const { return mean; }
  const memory &keptVariance() const { return variance; }

private:
  bool hasWeight;
  layer_normalization_forward primitive;
  Input x, w, b;
  Output y;
  memory mean, variance;
};

/// args: dy x (w) dx (dw db). The rows' statistics are the paired forward
/// site's, or computed here without one.
class LayerNormBackward : public Site {
public:
  LayerNormBackward(const LayerNormShape &s, Pairing<LayerNormForward> pairing)
      : hasWeight(s.hasWeight), pairing(std::move(pairing)), dy(s.data()),
        x(s.data()), dx(s.data()) {
    if (!this->pairing.paired()) {
      // The statistics do not depend on the weight: the forward pass that
      // recomputes them runs without one.
      layer_normalization_forward::desc statsDesc(prop_kind::forward_training,
                                                  s.data(), s.epsilon,
                                                  normalization_flags::none);
      layer_normalization_forward::primitive_desc statsPD(statsDesc,
                                                          cpuEngine());
      statistics = layer_normalization_forward(statsPD);
      scratch = memory(statsPD.dst_desc(), cpuEngine());
      mean = memory(statsPD.mean_desc(), cpuEngine());
      variance = memory(statsPD.variance_desc(), cpuEngine());
    }

    layer_normalization_forward::desc hintDesc(prop_kind::forward_training,
                                               s.data(), s.epsilon, s.flags());
    layer_normalization_backward::desc desc(
        hasWeight ? prop_kind::backward : prop_kind::backward_data, s.data(),
        s.data(), s.epsilon, s.flags());
    primitive = layer_normalization_backward(
        layer_normalization_backward::primitive_desc(
            desc, cpuEngine(),
            layer_normalization_forward::primitive_desc(hintDesc,
                                                        cpuEngine())));
    if (hasWeight) {
      w = Input(s.vector());
      dw = Output(s.vector());
      db = Output(s.vector());
      // oneDNN insists on a shift, which the gradients do not depend on.
      shift = memory(s.vector(), cpuEngine());
      std::memset(shift.get_data_handle(), 0, s.vector().get_size());
    }
  }

  void execute(void **args) override {
    const memory &input = x.bind(args[1]);
    if (statistics)
      statistics.execute(cpuStream(), {{DNNL_ARG_SRC, input},
                                       {DNNL_ARG_DST, scratch},
                                       {DNNL_ARG_MEAN, mean},
                                       {DNNL_ARG_VARIANCE, variance}});
    const LayerNormForward *forward =
        pairing.paired() ? &pairing.get() : nullptr;
    ExecArgs exec{
        {DNNL_ARG_DIFF_DST, dy.bind(args[0])},
        {DNNL_ARG_SRC, input},
        {DNNL_ARG_MEAN, forward ? forward->keptMean() : mean},
        {DNNL_ARG_VARIANCE, forward ? forward->keptVariance() : variance},
        {DNNL_ARG_DIFF_SRC, dx.bind(args[hasWeight ? 3 : 2])}};
    if (hasWeight) {
      exec[DNNL_ARG_SCALE] = w.bind(args[2]);
      exec[DNNL_ARG_SHIFT] = shift;
      exec[DNNL_ARG_DIFF_SCALE] = dw.bind(args[4]);
      exec[DNNL_ARG_DIFF_SHIFT] = db.bind(args[5]);
    }
    primitive.execute(cpuStream(), exec);
  }

private:
  bool hasWeight;
  Pairing<LayerNormForward> pairing;
  layer_normalization_forward statistics;
  layer_normalization_backward primitive;
  memory scratch, mean, variance, shift;
  Input dy, x, w;
  Output dx, dw, db;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createSoftmaxForward(Config &config) {
  return std::make_unique<SoftmaxForward>(SoftmaxShape(config));
}

std::unique_ptr<Site> kiln::cpu::createSoftmaxBackward(Config &config) {
  return std::make_unique<SoftmaxBackward>(SoftmaxShape(config));
}

std::unique_ptr<Site> kiln::cpu::createLayerNormForward(Config &config) {
  LayerNormShape shape(config);
  return std::make_unique<LayerNormForward>(shape,
                                            config.flag("keeps_statistics"));
}

std::unique_ptr<Site> kiln::cpu::createLayerNormBackward(Config &config) {
  LayerNormShape shape(config);
  Pairing<LayerNormForward> pairing(config, config.siteNumber("forward_site"),
                                    KILN_LAYER_NORM_FORWARD,
                                    kLayerNormConfigSize);
  return std::make_unique<LayerNormBackward>(shape, std::move(pairing));
}
