//===- Pool.cpp - 2-D max and average pooling sites -----------------------===//
//
// Pooling runs in the layout of its input: the plain NCHW buffers directly,
// or the blocked layout, where it is faster, when generated code passes the
// input blocked. Max pooling runs on Kiln's own kernels (MaxPool.cpp; oneDNN
// 2.6's are several times slower without AVX-512), average pooling on
// oneDNN's. The backward pass of max pooling needs the forward's workspace,
// the position of each window's maximum: a backward site paired with the
// forward site that pooled the same input earlier in the step reuses that
// site's workspace; an unpaired one pools the input again into scratch. A
// forward site that no backward site pairs with (evaluation, prediction)
// writes no workspace. Both run in the layout of the input x that they share,
// so that the workspace fits both.
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

  /// The geometry of a max pooling in the blocked layout or the plain one.
  MaxPoolGeometry geometry(bool blocked) const {
    int64_t lanes = blocked ? blockedChannels(c) : 1;
    return {n * c / lanes, lanes, h, w, kh, kw, sh, sw, ph, pw, oh, ow};
  }
};

/// A max pooling, by Kiln's kernels (MaxPool.cpp). args: x y, either may be
/// blocked; it pools in the layout of x. With `keepWorkspace`, it keeps the
/// position of each window's maximum for a backward site.
class MaxPoolForward : public Site {
public:
  MaxPoolForward(const Config &config, const PoolShape &s, uint32_t blocked,
                 bool keepWorkspace)
      : inBlocks(blocked & 1), geometry(s.geometry(inBlocks)),
        y(argumentDesc(config, s.dst(), blocked >> 1 & 1),
          argumentDesc(config, s.dst(), inBlocks)) {
    if (keepWorkspace)
      argmax.resize(s.n * s.c * s.oh * s.ow);
  }

  void execute(void **args) override { run(args[0], args[1]); }

  void run(void *input, void *output) {
    maxPoolForward(geometry, static_cast<const float *>(input),
                   static_cast<float *>(y.bind(output).get_data_handle()),
                   argmax.empty() ? nullptr : argmax.data());
    y.flush();
  }

  bool runsInBlocks() const { return inBlocks; }
  const int32_t *getWorkspace() const {
    return argmax.empty() ? nullptr : argmax.data();
  }

private:
  bool inBlocks;
  MaxPoolGeometry geometry;
  Output y;
  std::vector<int32_t> argmax;
};

/// args: dy x dx, any of them blocked; runs in the layout of x, as the
/// forward site does, with the forward site's workspace or, unpaired, by
/// pooling x again.
class MaxPoolBackward : public Site {
public:
  MaxPoolBackward(const Config &config, const PoolShape &s,
                  Pairing<MaxPoolForward> pairing, uint32_t blocked)
      : pairing(std::move(pairing)), inBlocks(blocked >> 1 & 1),
        geometry(s.geometry(inBlocks)),
        dy(argumentDesc(config, s.dst(), blocked & 1),
           argumentDesc(config, s.dst(), inBlocks)),
        dx(argumentDesc(config, s.src(), blocked >> 2 & 1),
           argumentDesc(config, s.src(), inBlocks)) {
    if (!this->pairing.paired()) {
      // Its input and output in the layout it pools in: no reorder.
      recompute = std::make_unique<MaxPoolForward>(config, s, inBlocks ? 3 : 0,
                                                   /*keepWorkspace=*/true);
      scratch.resize(s.n * s.c * s.oh * s.ow);
    }
  }

  void execute(void **args) override {
    MaxPoolForward *forward = recompute.get();
    if (forward) {
      forward->run(args[1], scratch.data());
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
    maxPoolBackward(
        geometry,
        static_cast<const float *>(dy.bind(args[0]).get_data_handle()),
        forward->getWorkspace(),
        static_cast<float *>(dx.bind(args[2]).get_data_handle()));
    dx.flush();
  }

private:
  Pairing<MaxPoolForward> pairing;
  bool inBlocks;
  MaxPoolGeometry geometry;
  Input dy;
  Output dx;
  std::unique_ptr<MaxPoolForward> recompute;
  std::vector<float> scratch;
};

/// An average pooling, by oneDNN. args: x y, either may be blocked; it pools
/// in the layout of x.
class AveragePoolForward : public Site {
public:
  AveragePoolForward(const Config &config, const PoolShape &s,
                     uint32_t blocked) {
    bool inBlocks = blocked & 1;
    pooling_forward::desc desc(prop_kind::forward_inference, s.kind,
                               argumentDesc(config, s.src(), inBlocks),
                               argumentDesc(config, s.dst(), inBlocks),
                               s.strides(), s.kernel(), s.padding(),
                               s.padding());
    pooling_forward::primitive_desc pd(desc, cpuEngine());
    primitive = pooling_forward(pd);
    x = Input(pd.src_desc());
    y = Output(argumentDesc(config, s.dst(), blocked >> 1 & 1), pd.dst_desc());
  }

  void execute(void **args) override {
    primitive.execute(cpuStream(), {{DNNL_ARG_SRC, x.bind(args[0])},
                                    {DNNL_ARG_DST, y.bind(args[1])}});
    y.flush();
  }

private:
  pooling_forward primitive;
  Input x;
  Output y;
};

/// args: dy x dx, any of them blocked; runs in the layout of x. An average
/// needs no workspace, and so no forward pass.
class AveragePoolBackward : public Site {
public:
  AveragePoolBackward(const Config &config, const PoolShape &s,
                      uint32_t blocked) {
    bool inBlocks = blocked >> 1 & 1;
    memory::desc src = argumentDesc(config, s.src(), inBlocks);
    memory::desc dst = argumentDesc(config, s.dst(), inBlocks);
    pooling_forward::desc hint(prop_kind::forward_training, s.kind, src, dst,
                               s.strides(), s.kernel(), s.padding(),
                               s.padding());
    pooling_backward::desc desc(s.kind, src, dst, s.strides(), s.kernel(),
                                s.padding(), s.padding());
    pooling_backward::primitive_desc pd(
        desc, cpuEngine(), pooling_forward::primitive_desc(hint, cpuEngine()));
    primitive = pooling_backward(pd);
    dy = Input(argumentDesc(config, s.dst(), blocked & 1), pd.diff_dst_desc());
    dx = Output(argumentDesc(config, s.src(), blocked >> 2 & 1),
                pd.diff_src_desc());
  }

  void execute(void **args) override {
    primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, dy.bind(args[0])},
                                    {DNNL_ARG_DIFF_SRC, dx.bind(args[2])}});
    dx.flush();
  }

private:
  pooling_backward primitive;
  Input dy;
  Output dx;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createPool2DForward(Config &config) {
  PoolShape shape(config);
  bool keepWorkspace = config.flag("keeps_workspace");
  uint32_t blocked = config.blockedArguments(2);
  if (!shape.isMax())
    return std::make_unique<AveragePoolForward>(config, shape, blocked);
  return std::make_unique<MaxPoolForward>(config, shape, blocked,
                                          keepWorkspace);
}

std::unique_ptr<Site> kiln::cpu::createPool2DBackward(Config &config) {
  PoolShape shape(config);
  int64_t forwardSite = config.siteNumber("forward_site");
  uint32_t blocked = config.blockedArguments(3);
  if (!shape.isMax())
    return std::make_unique<AveragePoolBackward>(config, shape, blocked);
  Pairing<MaxPoolForward> pairing(config, forwardSite, KILN_POOL2D_FORWARD,
                                  kForwardConfigSize);
  return std::make_unique<MaxPoolBackward>(config, shape, std::move(pairing),
                                           blocked);
}
