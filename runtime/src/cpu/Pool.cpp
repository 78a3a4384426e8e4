//===- Pool.cpp - 2-D max and average pooling sites -----------------------===//
//
// Pooling runs on the plain NCHW buffers directly (oneDNN has JIT kernels
// for them). The backward pass of max pooling needs the forward's workspace,
// the position of each window's maximum: a backward site paired with the
// forward site that pooled the same input earlier in the step reuses that
// site's workspace; an unpaired one pools the input again into scratch.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// The configuration shared by both kinds:
/// N C H W KH KW SH SW PH PW algorithm.
constexpr size_t kForwardConfigSize = 11;

struct PoolShape {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
  algorithm kind;

  explicit PoolShape(Config &config)
      : n(config.size("N")), c(config.size("C")), h(config.size("H")),
        w(config.size("W")), kh(config.size("KH")), kw(config.size("KW")),
        sh(config.size("SH")), sw(config.size("SW")), ph(config.size("PH", 0)),
        pw(config.size("PW", 0)) {
    static const algorithm kinds[] = {algorithm::pooling_max,
                                      algorithm::pooling_avg_include_padding,
                                      algorithm::pooling_avg_exclude_padding};
    kind = kinds[config.choice("algorithm", 3)];
    if (2 * ph > kh || 2 * pw > kw)
      config.fail("padding is more than half the kernel");
    if (h + 2 * ph < kh || w + 2 * pw < kw)
      config.fail("the kernel is larger than the padded image");
    oh = (h + 2 * ph - kh) / sh + 1;
    ow = (w + 2 * pw - kw) / sw + 1;
  }

  bool isMax() const { return kind == algorithm::pooling_max; }
  Dims src() const { return {n, c, h, w}; }
  Dims dst() const { return {n, c, oh, ow}; }
  Dims strides() const { return {sh, sw}; }
  Dims kernel() const { return {kh, kw}; }
  Dims padding() const { return {ph, pw}; }
};

pooling_forward::primitive_desc forwardDesc(const PoolShape &s) {
  pooling_forward::desc desc(prop_kind::forward_training, s.kind,
                             plainDesc(s.src()), plainDesc(s.dst()),
                             s.strides(), s.kernel(), s.padding(), s.padding());
  return pooling_forward::primitive_desc(desc, cpuEngine());
}

/// args: x y. Keeps the workspace of its last execution.
class PoolForward : public Site {
public:
  explicit PoolForward(const PoolShape &s) {
    auto pd = forwardDesc(s);
    primitive = pooling_forward(pd);
    x = Input(pd.src_desc());
    y = Output(pd.dst_desc());
    if (s.isMax())
      workspace = memory(pd.workspace_desc(), cpuEngine());
  }

  void execute(void **args) override { run(args[0], args[1]); }

  void run(void *input, void *output) {
    ExecArgs exec{{DNNL_ARG_SRC, x.bind(input)},
                  {DNNL_ARG_DST, y.bind(output)}};
    if (workspace)
      exec[DNNL_ARG_WORKSPACE] = workspace;
    primitive.execute(cpuStream(), exec);
  }

  const memory &getWorkspace() const { return workspace; }

private:
  pooling_forward primitive;
  Input x;
  Output y;
  memory workspace;
};

/// args: dy x dx.
class PoolBackward : public Site {
public:
  PoolBackward(const PoolShape &s, Pairing<PoolForward> pairing)
      : pairing(std::move(pairing)), isMax(s.isMax()) {
    pooling_backward::desc desc(s.kind, plainDesc(s.src()), plainDesc(s.dst()),
                                s.strides(), s.kernel(), s.padding(),
                                s.padding());
    pooling_backward::primitive_desc pd(desc, cpuEngine(), forwardDesc(s));
    primitive = pooling_backward(pd);
    dy = Input(pd.diff_dst_desc());
    dx = Output(pd.diff_src_desc());
    // Average pooling needs no workspace, and so no forward pass.
    if (isMax && !this->pairing.paired()) {
      recompute = std::make_unique<PoolForward>(s);
      scratch = memory(plainDesc(s.dst()), cpuEngine());
    }
  }

  void execute(void **args) override {
    ExecArgs exec{{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                  {DNNL_ARG_DIFF_SRC, dx.bind(args[2])}};
    if (isMax) {
      PoolForward *forward = recompute.get();
      if (forward)
        forward->run(args[1], scratch.get_data_handle());
      else
        forward = &pairing.get();
      exec[DNNL_ARG_WORKSPACE] = forward->getWorkspace();
    }
    primitive.execute(cpuStream(), exec);
  }

private:
  Pairing<PoolForward> pairing;
  pooling_backward primitive;
  Input dy;
  Output dx;
  bool isMax;
  std::unique_ptr<PoolForward> recompute;
  memory scratch;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createPool2DForward(Config &config) {
  return std::make_unique<PoolForward>(PoolShape(config));
}

std::unique_ptr<Site> kiln::cpu::createPool2DBackward(Config &config) {
  PoolShape shape(config);
  Pairing<PoolForward> pairing(config, config.siteNumber("forward_site"),
                               KILN_POOL2D_FORWARD, kForwardConfigSize);
  return std::make_unique<PoolBackward>(shape, std::move(pairing));
}
