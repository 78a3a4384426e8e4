//===- Pool.cpp - 2-D max and average pooling sites -----------------------===//
//
// Pooling runs in the layout of its input: the plain NCHW buffers directly
// (oneDNN has JIT kernels for them), or the blocked layout, where it is
// faster, when generated code passes the input blocked. The backward pass of
// max pooling needs the forward's workspace, the position of each window's
// maximum: a backward site paired with the forward site that pooled the same
// input earlier in the step reuses that site's workspace; an unpaired one pools
// the input again into scratch. A forward site that no backward site pairs
// with (evaluation, prediction) pools in inference mode, without one. Both run in the layout of the input x that they
// share, so that the workspace fits both.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
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

/// The pooling in the blocked layout or the plain one; for training, a max
/// pooling also writes the workspace that its backward pass reads.
pooling_forward::primitive_desc forwardDesc(const Config &config,
                                            const PoolShape &s, bool blocked,
                                            bool training) {
  pooling_forward::desc desc(training ? prop_kind::forward_training
                                      : prop_kind::forward_inference,
                             s.kind,
                             argumentDesc(config, s.src(), blocked),
                             argumentDesc(config, s.dst(), blocked),
                             s.strides(), s.kernel(), s.padding(), s.padding());
  return pooling_forward::primitive_desc(desc, cpuEngine());
}

/// args: x y, either may be blocked. With `keepWorkspace`, a max pooling
/// keeps the workspace of its last execution for a backward site; without,
/// it runs in inference mode, which writes none and takes half the time.
class PoolForward : public Site {
public:
  PoolForward(const Config &config, const PoolShape &s, uint32_t blocked,
              bool keepWorkspace)
      : inBlocks(blocked & 1) {
    auto pd = forwardDesc(config, s, inBlocks, keepWorkspace);
    primitive = pooling_forward(pd);
    x = Input(pd.src_desc());
    y = Output(argumentDesc(config, s.dst(), blocked >> 1 & 1), pd.dst_desc());
    if (s.isMax() && keepWorkspace)
      workspace = memory(pd.workspace_desc(), cpuEngine());
  }

  void execute(void **args) override { run(args[0], args[1]); }

  void run(void *input, void *output) {
    ExecArgs exec{{DNNL_ARG_SRC, x.bind(input)},
                  {DNNL_ARG_DST, y.bind(output)}};
    if (workspace)
      exec[DNNL_ARG_WORKSPACE] = workspace;
    primitive.execute(cpuStream(), exec);
    y.flush();
  }

  bool runsInBlocks() const { return inBlocks; }
  const memory &getWorkspace() const { return workspace; }

private:
  bool inBlocks;
  pooling_forward primitive;
  Input x;
  Output y;
  memory workspace;
};

/// args: dy x dx, any of them blocked; runs in the layout of x, as the
/// forward site does.
class PoolBackward : public Site {
public:
  PoolBackward(const Config &config, const PoolShape &s,
               Pairing<PoolForward> pairing, uint32_t blocked)
      : pairing(std::move(pairing)), isMax(s.isMax()),
        inBlocks(blocked >> 1 & 1) {
    pooling_backward::desc desc(s.kind, argumentDesc(config, s.src(), inBlocks),
                                argumentDesc(config, s.dst(), inBlocks),
                                s.strides(), s.kernel(), s.padding(),
                                s.padding());
    pooling_backward::primitive_desc pd(
        desc, cpuEngine(), forwardDesc(config, s, inBlocks, /*training=*/true));
    primitive = pooling_backward(pd);
    dy = Input(argumentDesc(config, s.dst(), blocked & 1), pd.diff_dst_desc());
    dx = Output(argumentDesc(config, s.src(), blocked >> 2 & 1),
                pd.diff_src_desc());
    // Average pooling needs no workspace, and so no forward pass.
    if (isMax && !this->pairing.paired()) {
      // Its input and output in the layout it pools in: no reorder.
      recompute = std::make_unique<PoolForward>(config, s, inBlocks ? 3 : 0,
                                                /*keepWorkspace=*/true);
      scratch = memory(argumentDesc(config, s.dst(), inBlocks), cpuEngine());
    }
  }

  void execute(void **args) override {
    ExecArgs exec{{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                  {DNNL_ARG_DIFF_SRC, dx.bind(args[2])}};
    if (isMax) {
      PoolForward *forward = recompute.get();
      if (forward) {
        forward->run(args[1], scratch.get_data_handle());
      } else {
        forward = &pairing.get();
        if (forward->runsInBlocks() != inBlocks)
          fatal("a pool2d backward site and the forward site whose workspace "
                "it reuses pool in different layouts",
                "the trainer and this runtime disagree on the call; rebuild "
                "the trainer with the kilnc that comes with this runtime");
        if (!forward->getWorkspace())
          fatal("a pool2d backward site reuses a forward site that keeps no "
                "workspace",
                "the trainer and this runtime disagree on the call; rebuild "
                "the trainer with the kilnc that comes with this runtime");
      }
      exec[DNNL_ARG_WORKSPACE] = forward->getWorkspace();
    }
    primitive.execute(cpuStream(), exec);
    dx.flush();
  }

private:
  Pairing<PoolForward> pairing;
  pooling_backward primitive;
  Input dy;
  Output dx;
  bool isMax, inBlocks;
  std::unique_ptr<PoolForward> recompute;
  memory scratch;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createPool2DForward(Config &config) {
  PoolShape shape(config);
  bool keepWorkspace = config.flag("keeps_workspace");
  uint32_t blocked = config.blockedArguments(2);
  return std::make_unique<PoolForward>(config, shape, blocked, keepWorkspace);
}

std::unique_ptr<Site> kiln::cpu::createPool2DBackward(Config &config) {
  PoolShape shape(config);
  Pairing<PoolForward> pairing(config, config.siteNumber("forward_site"),
                               KILN_POOL2D_FORWARD, kForwardConfigSize);
  uint32_t blocked = config.blockedArguments(3);
  return std::make_unique<PoolBackward>(config, shape, std::move(pairing),
                                        blocked);
}
