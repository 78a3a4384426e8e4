//===- Attention.cpp - Scaled dot-product attention sites -----------------===//
//
// softmax(q k^T * scale (+ causal mask)) v with oneDNN matmuls and softmax,
// over [batch, L, E] queries and [batch, S, E] keys. The scale is the score
// matmul's output scale. The causal mask is a separate in-place binary add
// of a [1, L, S] table of 0 and -infinity: as a post-op of the matmul it
// sends oneDNN to its reference kernel. The backward site recomputes the
// probabilities rather than keeping [batch, L, S] per forward site.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

#include <limits>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// config: batch L S E EV causal f64:scale.
struct AttentionShape {
  int64_t batch, l, s, e, ev;
  bool causal;
  float scale;

  explicit AttentionShape(Config &config)
      : batch(config.size("batch")), l(config.size("L")), s(config.size("S")),
        e(config.size("E")), ev(config.size("EV")),
        causal(config.flag("causal")),
        scale(static_cast<float>(config.real("scale"))) {}

  /// [batch, rows, cols] stored row-major, or its transpose stored.
  memory::desc matrices(int64_t rows, int64_t cols,
                        bool transposed = false) const {
    return f32Desc({batch, rows, cols}, transposed ? Tag::acb : Tag::abc);
  }
};

matmul product(const memory::desc &a, const memory::desc &b,
               const memory::desc &c, float scale = 1.0f) {
  primitive_attr attr;
  if (scale != 1.0f)
    attr.set_output_scales(0, {scale});
  return matmul(
      matmul::primitive_desc(matmul::desc(a, b, c), attr, cpuEngine()));
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
    softmaxDesc = softmax_v2_forward::primitive_desc(
        softmax_v2_forward::desc(prop_kind::forward_training,
                                 algorithm::softmax_accurate, p, p, 2),
        cpuEngine());
    softmax = softmax_v2_forward(softmaxDesc);
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
  /// The same buffer viewed as P^T, [batch, S, L].
  memory transposed(const AttentionShape &s) const {
    return memory(s.matrices(s.s, s.l, true), cpuEngine(),
                  values.get_data_handle());
  }
  const softmax_v2_forward::primitive_desc &getSoftmaxDesc() const {
    return softmaxDesc;
  }

private:
  Input q, k;
  matmul scores;
  memory values, mask;
  binary masking;
  softmax_v2_forward::primitive_desc softmaxDesc;
  softmax_v2_forward softmax;
};

/// args: q k v out.
class AttentionForward : public Site {
public:
  explicit AttentionForward(const AttentionShape &s)
      : probabilities(s), v(s.matrices(s.s, s.ev)), out(s.matrices(s.l, s.ev)) {
    weighted = product(s.matrices(s.l, s.s), s.matrices(s.s, s.ev),
                       s.matrices(s.l, s.ev));
  }

  void execute(void **args) override {
    probabilities.run(args[0], args[1]);
    weighted.execute(cpuStream(), {{DNNL_ARG_SRC, probabilities.get()},
                                   {DNNL_ARG_WEIGHTS, v.bind(args[2])},
                                   {DNNL_ARG_DST, out.bind(args[3])}});
  }

private:
  Probabilities probabilities;
  matmul weighted;
  Input v;
  Output out;
};

/// args: dout q k v dq dk dv. With P the probabilities and dS the gradient
/// of the scaled, masked scores: dv = P^T dout, dP = dout v^T,
/// dS = softmax_backward(dP, P), dq = scale dS k, dk = scale dS^T q.
class AttentionBackward : public Site {
public:
  explicit AttentionBackward(const AttentionShape &s)
      : probabilities(s), transposedP(probabilities.transposed(s)),
        dout(s.matrices(s.l, s.ev)), vT(s.matrices(s.ev, s.s, true)),
        q(s.matrices(s.l, s.e)), k(s.matrices(s.s, s.e)),
        dq(s.matrices(s.l, s.e)), dk(s.matrices(s.s, s.e)),
        dv(s.matrices(s.s, s.ev)) {
    memory::desc scores = s.matrices(s.l, s.s);
    memory::desc scoresT = s.matrices(s.s, s.l, true);
    valueGrad = product(scoresT, s.matrices(s.l, s.ev), s.matrices(s.s, s.ev));
    probabilityGrad =
        product(s.matrices(s.l, s.ev), s.matrices(s.ev, s.s, true), scores);
    softmaxGrad = softmax_v2_backward(softmax_v2_backward::primitive_desc(
        softmax_v2_backward::desc(algorithm::softmax_accurate, scores, scores,
                                  scores, 2),
        cpuEngine(), probabilities.getSoftmaxDesc()));
    queryGrad =
        product(scores, s.matrices(s.s, s.e), s.matrices(s.l, s.e), s.scale);
    keyGrad =
        product(scoresT, s.matrices(s.l, s.e), s.matrices(s.s, s.e), s.scale);
    // dP, then dS in place.
    grads = memory(scores, cpuEngine());
    transposedGrads = memory(scoresT, cpuEngine(), grads.get_data_handle());
  }

  void execute(void **args) override {
    probabilities.run(args[1], args[2]);
    const memory &gradOut = dout.bind(args[0]);
    valueGrad.execute(cpuStream(), {{DNNL_ARG_SRC, transposedP},
                                    {DNNL_ARG_WEIGHTS, gradOut},
                                    {DNNL_ARG_DST, dv.bind(args[6])}});
    probabilityGrad.execute(cpuStream(), {{DNNL_ARG_SRC, gradOut},
                                          {DNNL_ARG_WEIGHTS, vT.bind(args[3])},
                                          {DNNL_ARG_DST, grads}});
    softmaxGrad.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, grads},
                                      {DNNL_ARG_DST, probabilities.get()},
                                      {DNNL_ARG_DIFF_SRC, grads}});
    queryGrad.execute(cpuStream(), {{DNNL_ARG_SRC, grads},
                                    {DNNL_ARG_WEIGHTS, k.bind(args[2])},
                                    {DNNL_ARG_DST, dq.bind(args[4])}});
    keyGrad.execute(cpuStream(), {{DNNL_ARG_SRC, transposedGrads},
                                  {DNNL_ARG_WEIGHTS, q.bind(args[1])},
                                  {DNNL_ARG_DST, dk.bind(args[5])}});
  }

private:
  Probabilities probabilities;
  memory transposedP;
  matmul valueGrad, probabilityGrad, queryGrad, keyGrad;
  softmax_v2_backward softmaxGrad;
  memory grads, transposedGrads;
  Input dout, vT, q, k;
  Output dq, dk, dv;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createAttentionForward(Config &config) {
  return std::make_unique<AttentionForward>(AttentionShape(config));
}

std::unique_ptr<Site> kiln::cpu::createAttentionBackward(Config &config) {
  return std::make_unique<AttentionBackward>(AttentionShape(config));
}
