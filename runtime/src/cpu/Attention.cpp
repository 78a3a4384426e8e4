//===- Attention.cpp - Scaled dot-product attention sites -----------------===//
//
// softmax(q k^T * scale (+ causal mask)) v with oneDNN matmuls and softmax,
// over [batch, L, E] queries and [batch, S, E] keys. The scale is the score
// matmul's output scale. The causal mask is a separate in-place binary add
// of a [1, L, S] table of 0 and -infinity: as a post-op of the matmul it
// sends oneDNN to its reference kernel. The forward site keeps the
// probabilities, [batch, L, S], for its backward site, which would
// otherwise compute the scores and the softmax again (a backward site
// without a forward site still does). Dropout multiplies the probabilities
// by the mask of kiln.dropout, in a buffer of their own, which a paired
// backward site reuses too; an unpaired one draws the same mask again from
// the same seed and step counter.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"
#include "kiln/Random.h"

#include <cstring>
#include <limits>
#include <optional>
#include <string>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// config: batch L S E EV causal f64:scale f64:dropout seed, which a
/// backward site's config follows with its forward site.
constexpr size_t kAttentionConfigSize = 9;

struct AttentionShape {
  int64_t batch, l, s, e, ev;
  bool causal;
  float scale;
  double dropout;
  uint64_t seed;

  explicit AttentionShape(Config &config)
      : batch(config.size("batch")), l(config.size("L")), s(config.size("S")),
        e(config.size("E")), ev(config.size("EV")),
        causal(config.flag("causal")),
        scale(static_cast<float>(config.real("scale"))),
        dropout(config.real("dropout")),
        seed(static_cast<uint64_t>(config.size("seed", 0))) {
    if (!(dropout >= 0 && dropout < 1))
      config.fail("dropout must be in [0, 1), got " + std::to_string(dropout));
  }

  /// [batch, rows, cols] stored row-major, or its transpose stored.
  memory::desc matrices(int64_t rows, int64_t cols,
                        bool transposed = false) const {
    return f32Desc({batch, rows, cols}, transposed ? Tag::acb : Tag::abc);
  }
};

/// Multiplies the [batch, L, S] floats of `values` by the dropout factors of
/// `s` at step `counter`: 0 where kiln_uniform(seed, counter, i) < dropout,
/// 1 / (1 - dropout) elsewhere, as kiln.dropout.
void dropOut(const AttentionShape &s, const memory &values,
             const void *counter) {
  struct Mask {
    float *data;
    uint64_t seed, counter;
    double p;
    float scale;
  } mask{static_cast<float *>(values.get_data_handle()), s.seed,
         *static_cast<const uint64_t *>(counter), s.dropout,
         static_cast<float>(1 / (1 - s.dropout))};
  kiln_rt_parallel_for(
      [](void *context, int64_t begin, int64_t end) {
        const Mask &m = *static_cast<const Mask *>(context);
        for (int64_t i = begin; i < end; ++i)
          m.data[i] =
              kiln_uniform(m.seed, m.counter, static_cast<uint64_t>(i)) >= m.p
                  ? m.data[i] * m.scale
                  : 0.0f;
      },
      &mask, s.batch * s.l * s.s);
}

matmul product(const memory::desc &a, const memory::desc &b,
               const memory::desc &c, float scale = 1.0f) {
  primitive_attr attr;
  if (scale != 1.0f)
    attr.set_output_scales(0, {scale});
  return matmul(
      matmul::primitive_desc(matmul::desc(a, b, c), attr, cpuEngine()));
}

/// The softmax over the last axis of the [batch, L, S] scores, in place.
softmax_v2_forward::primitive_desc scoresSoftmax(const AttentionShape &s) {
  memory::desc p = s.matrices(s.l, s.s);
  return softmax_v2_forward::primitive_desc(
      softmax_v2_forward::desc(prop_kind::forward_training,
                               algorithm::softmax_accurate, p, p, 2),
      cpuEngine());
}

/// The attention probabilities P = softmax(q k^T * scale + mask), [batch, L,
/// S], in a buffer of their own.
class Probabilities {
public:
  explicit Probabilities(const AttentionShape &s)
      : q(s.matrices(s.l, s.e)), k(s.matrices(s.e, s.s, true)) {
    memory::desc p = s.matrices(s.l, s.s);
    scores =
        product(s.matrices(s.l, s.e), s.matrices(s.e, s.s, true), p, s.scale);
    values = memory(p, cpuEngine());
    if (s.causal) {
      mask = memory(f32Desc({1, s.l, s.s}, Tag::abc), cpuEngine());
      auto *table = static_cast<float *>(mask.get_data_handle());
      for (int64_t i = 0; i < s.l; ++i)
        for (int64_t j = 0; j < s.s; ++j)
          table[i * s.s + j] =
              j <= i ? 0.0f : -std::numeric_limits<float>::infinity();
      masking = binary(binary::primitive_desc(
          binary::desc(algorithm::binary_add, p, mask.get_desc(), p),
          cpuEngine()));
    }
    softmax = softmax_v2_forward(scoresSoftmax(s));
  }

  void run(void *query, void *key) {
    scores.execute(cpuStream(), {{DNNL_ARG_SRC, q.bind(query)},
                                 {DNNL_ARG_WEIGHTS, k.bind(key)},
                                 {DNNL_ARG_DST, values}});
    if (mask)
      masking.execute(cpuStream(), {{DNNL_ARG_SRC_0, values},
                                    {DNNL_ARG_SRC_1, mask},
                                    {DNNL_ARG_DST, values}});
    softmax.execute(cpuStream(),
                    {{DNNL_ARG_SRC, values}, {DNNL_ARG_DST, values}});
  }

  const memory &get() const { return values; }

private:
  Input q, k;
  matmul scores;
  memory values, mask;
  binary masking;
  softmax_v2_forward softmax;
};

/// D(P): the probabilities dropped out at the step of `counter`, in
/// `dropped`, a buffer of their shape.
void copyDroppedOut(const AttentionShape &s, const memory &probabilities,
                    const memory &dropped, const void *counter) {
  std::memcpy(dropped.get_data_handle(), probabilities.get_data_handle(),
              dropped.get_desc().get_size());
  dropOut(s, dropped, counter);
}

/// args: q k v (counter if dropout) out.
class AttentionForward : public Site {
public:
  explicit AttentionForward(const AttentionShape &s)
      : shape(s), probabilities(s), v(s.matrices(s.s, s.ev)),
        out(s.matrices(s.l, s.ev)) {
    weighted = product(s.matrices(s.l, s.s), s.matrices(s.s, s.ev),
                       s.matrices(s.l, s.ev));
    if (s.dropout > 0)
      dropped = memory(s.matrices(s.l, s.s), cpuEngine());
  }

  void execute(void **args) override {
    probabilities.run(args[0], args[1]);
    bool dropout = shape.dropout > 0;
    if (dropout)
      copyDroppedOut(shape, probabilities.get(), dropped, args[3]);
    weighted.execute(cpuStream(),
                     {{DNNL_ARG_SRC, dropout ? dropped : probabilities.get()},
                      {DNNL_ARG_WEIGHTS, v.bind(args[2])},
                      {DNNL_ARG_DST, out.bind(args[dropout ? 4 : 3])}});
  }

  /// The probabilities of the last execution, before dropout, and (with
  /// dropout) after.
  Probabilities &kept() { return probabilities; }
  const memory &keptDropped() const { return dropped; }

private:
  AttentionShape shape;
  Probabilities probabilities;
  matmul weighted;
  Input v;
  Output out;
  memory dropped;
};

/// args: dout q k v (counter if dropout) dq dk dv. With P the
/// probabilities, D the dropout (the identity without) and dS the gradient
/// of the scaled, masked scores: dv = D(P)^T dout, dP = D(dout v^T),
/// dS = softmax_backward(dP, P), dq = scale dS k, dk = scale dS^T q. P is
/// the paired forward site's, or computed here without one.
class AttentionBackward : public Site {
public:
  AttentionBackward(const AttentionShape &s, Pairing<AttentionForward> pairing)
      : shape(s), pairing(std::move(pairing)),
        dout(s.matrices(s.l, s.ev)), vT(s.matrices(s.ev, s.s, true)),
        q(s.matrices(s.l, s.e)), k(s.matrices(s.s, s.e)),
        dq(s.matrices(s.l, s.e)), dk(s.matrices(s.s, s.e)),
        dv(s.matrices(s.s, s.ev)) {
    memory::desc scores = s.matrices(s.l, s.s);
    memory::desc scoresT = s.matrices(s.s, s.l, true);
    valueGrad = product(scoresT, s.matrices(s.l, s.ev), s.matrices(s.s, s.ev));
    probabilityGrad =
        product(s.matrices(s.l, s.ev), s.matrices(s.ev, s.s, true), scores);
    if (!this->pairing.paired())
      own.emplace(s);
    queryGrad =
        product(scores, s.matrices(s.s, s.e), s.matrices(s.l, s.e), s.scale);
    keyGrad =
        product(scoresT, s.matrices(s.l, s.e), s.matrices(s.s, s.e), s.scale);
    // dP, then dS in place.
    grads = memory(scores, cpuEngine());
    transposedGrads = memory(scoresT, cpuEngine(), grads.get_data_handle());
    // Unpaired, D(P) beside P, which the softmax gradient needs as it is.
    if (s.dropout > 0 && own)
      dropped = memory(scores, cpuEngine());
  }

  void execute(void **args) override {
    Probabilities &probabilities = own ? *own : pairing.get().kept();
    bool dropout = shape.dropout > 0;
    void **outputs = args + (dropout ? 5 : 4);
    if (own) {
      own->run(args[1], args[2]);
      if (dropout)
        copyDroppedOut(shape, own->get(), dropped, args[4]);
    }
    // D(P), the forward site's when paired (drawn at the same step), seen
    // as D(P)^T.
    const memory &weighted = !dropout ? probabilities.get()
                             : own    ? dropped
                                      : pairing.get().keptDropped();
    memory weightedT(shape.matrices(shape.s, shape.l, true), cpuEngine(),
                     weighted.get_data_handle());
    const memory &gradOut = dout.bind(args[0]);
    valueGrad.execute(cpuStream(), {{DNNL_ARG_SRC, weightedT},
                                    {DNNL_ARG_WEIGHTS, gradOut},
                                    {DNNL_ARG_DST, dv.bind(outputs[2])}});
    probabilityGrad.execute(cpuStream(), {{DNNL_ARG_SRC, gradOut},
                                          {DNNL_ARG_WEIGHTS, vT.bind(args[3])},
                                          {DNNL_ARG_DST, grads}});
    if (dropout)
      dropOut(shape, grads, args[4]);
    auto *dScores = static_cast<float *>(grads.get_data_handle());
    softmaxBackwardRows(
        static_cast<const float *>(probabilities.get().get_data_handle()),
        dScores, dScores, shape.batch * shape.l, shape.s, /*log=*/false);
    queryGrad.execute(cpuStream(), {{DNNL_ARG_SRC, grads},
                                    {DNNL_ARG_WEIGHTS, k.bind(args[2])},
                                    {DNNL_ARG_DST, dq.bind(outputs[0])}});
    keyGrad.execute(cpuStream(), {{DNNL_ARG_SRC, transposedGrads},
                                  {DNNL_ARG_WEIGHTS, q.bind(args[1])},
                                  {DNNL_ARG_DST, dk.bind(outputs[1])}});
  }

private:
  AttentionShape shape;
  Pairing<AttentionForward> pairing;
  /// The probabilities computed here when there is no forward site to pair
  /// with.
  std::optional<Probabilities> own;
  memory dropped;
  matmul valueGrad, probabilityGrad, queryGrad, keyGrad;
  memory grads, transposedGrads;
  Input dout, vT, q, k;
  Output dq, dk, dv;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createAttentionForward(Config &config) {
  return std::make_unique<AttentionForward>(AttentionShape(config));
}

std::unique_ptr<Site> kiln::cpu::createAttentionBackward(Config &config) {
  AttentionShape shape(config);
  Pairing<AttentionForward> pairing(config, config.siteNumber("forward_site"),
                                    KILN_ATTENTION_FORWARD,
                                    kAttentionConfigSize);
  return std::make_unique<AttentionBackward>(shape, std::move(pairing));
}
