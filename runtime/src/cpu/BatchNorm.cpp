//===- BatchNorm.cpp - Batch normalization sites: forward and backward ----===//
//
// oneDNN's batch_normalization over x [N, C, S...], seen as [N, C, S, 1]
// with S the product of the spatial sizes: the blocked layout of an
// [N, C, H, W] tensor is that of [N, C, H * W, 1], so one primitive serves
// BatchNorm1d and BatchNorm2d in either layout. Both kinds run in the
// layout of x, which the workspace of a fused ReLU depends on; y, dy and dx
// are reordered when they are passed in the other one. A training forward
// writes the batch's mean and biased variance, which generated code keeps
// for the backward site and folds into the running statistics itself.
//
// The training forward computes those statistics itself, in double, and runs
// oneDNN's primitive with them as given statistics: oneDNN's JIT kernels sum
// each channel in one float accumulator, 2e-6 of the mean off over 6272
// elements (PyTorch sums in double), which flips ReLUs near zero downstream
// and moved a ResNet's parameters after one update by 1e-1 of their change.
//
// Synchronized over R ranks (PyTorch's SyncBatchNorm), the forward adds each
// channel's sums of x and x^2 over the ranks before it divides them. The
// backward runs oneDNN's primitive, whose dx subtracts this rank's means of
// g and g * xhat (g: dy, masked by a fused ReLU), and then moves dx to the
// means over every rank: it adds the two sums over the ranks, which oneDNN
// gives as the gradients of the scale and the shift, and adds
// scale * rstd * ((local - global mean of g) + xhat * (the same of g * xhat))
// to each element.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// config: N C S has_affine (training, forward only) fuse_relu f64:epsilon
/// ranks.
struct BatchNormShape {
  int64_t n, c, s;
  bool hasAffine, training, fuseRelu;
  float epsilon;
  /// The ranks whose batches the statistics are over.
  int64_t ranks;

  BatchNormShape(Config &config, bool forward)
      : n(config.size("N")), c(config.size("C")), s(config.size("S")),
        hasAffine(config.flag("has_affine")),
        training(!forward || config.flag("training")),
        fuseRelu(config.flag("fuse_relu")),
        epsilon(static_cast<float>(config.real("epsilon"))),
        ranks(config.size("ranks")) {
    if (!(epsilon >= 0))
      config.fail("epsilon is negative");
  }

  /// Whether training statistics are added over ranks.
  bool synchronized() const { return training && ranks > 1; }
  /// Elements per channel in this rank's batch, and in all ranks' batches.
  double localCount() const { return static_cast<double>(n * s); }
  double globalCount() const {
    return localCount() * static_cast<double>(ranks);
  }

  /// The layout of x, y, dy or dx. Row-major [N, C] is also channels-last
  /// [N, C, 1, 1], which oneDNN's JIT kernels take; plain [N, C, S] with
  /// S > 1 runs its C++ kernel (4 to 5 times slower here than the blocked
  /// layout's JIT one).
  memory::desc data(const Config &config, bool blocked) const {
    if (!blocked && s == 1)
      return f32Desc({n, c, 1, 1}, Tag::nhwc);
    return argumentDesc(config, {n, c, s, 1}, blocked);
  }
  memory::desc vector() const { return plainDesc({c}); }
  /// The workspace of a fused ReLU in training: generated code passes
  /// u8[N * C * S], one byte per element, the most that oneDNN's
  /// implementations take (its JIT ones take one bit).
  int64_t workspaceBytes() const { return n * c * s; }

  /// The channels of a block of x's layout in memory: element (n, c, p) of
  /// x lies at ((n * C/B + c/B) * S + p) * B + c % B. Blocked: the runtime's
  /// block; row-major [N, C] (S = 1): one block of all C channels; plain
  /// [N, C, S]: blocks of one channel.
  int64_t block(bool blocked) const {
    if (blocked)
      return blockedChannels(c);
    return s == 1 ? c : 1;
  }

  /// With `givenStatistics`, the primitive normalizes with the mean and
  /// variance it is given, as a training forward here does (see above);
  /// with `scaleShift`, it takes a scale and a shift.
  normalization_flags flags(bool givenStatistics, bool scaleShift) const {
    auto flags = normalization_flags::none;
    if (scaleShift)
      flags |= normalization_flags::use_scale | normalization_flags::use_shift;
    if (fuseRelu)
      flags |= normalization_flags::fuse_norm_relu;
    if (!training || givenStatistics)
      flags |= normalization_flags::use_global_stats;
    return flags;
  }
};

/// Replaces the `count` sums at `data` by their sums over the ranks, for
/// call site `site`, or ends the run.
void addOverRanks(int64_t site, const char *stage, double *data,
                  int64_t count) {
  std::string error;
  if (!sumOverRanks(data, count, error))
    fatal("call site " + std::to_string(site) + " (batch normalization " +
              stage + "): adding its sums over the ranks failed: " + error,
          "a synchronized batch normalization runs under mpirun, with the "
          "ranks that kilnc --ranks named; when it does, another rank has "
          "probably failed, and its message says why");
}

/// Accumulation lanes per block: the block's channels, or 8 lanes over the
/// positions of a one-channel block, so that the sums vectorize.
int64_t lanesOf(int64_t block) { return block == 1 ? 8 : block; }

/// The mean and biased variance of each channel of x (in the layout of
/// `block`), from sums of x and x^2 in double in one pass: a float's square
/// is exact in double, and the variance as E[x^2] - E[x]^2 loses only
/// (mean / deviation)^2 of double's 1e-16. The examples are summed in at
/// most 64 groups, fixed by N alone, each block of a group in its own lanes,
/// which are then added in a fixed order: the result does not depend on the
/// thread count, and the partial sums stay small. Their buffers are made
/// once, with the site. Synchronized, the sums are added over the ranks.
class ChannelStatistics {
public:
  ChannelStatistics(const BatchNormShape &s, int64_t block, int64_t site)
      : n(s.n), c(s.c), count(s.globalCount()), block(block),
        lanes(lanesOf(block)), blocks(s.c / block),
        groups(std::min<int64_t>(s.n, 64)), chunk(s.s * block), site(site),
        synchronized(s.synchronized()), partial(groups * blocks * 2 * lanes),
        totals(2 * s.c) {}

  void compute(const float *x, float *mean, float *variance) {
    // Lanes [0, lanes) of item (group g, block cb), item g * blocks + cb,
    // sum x, [lanes, 2 * lanes) sum x^2; lane l covers channel cb * B + l % B.
    struct Context {
      ChannelStatistics &self;
      const float *x;
    } context{*this, x};
    kiln_rt_parallel_for(
        [](void *data, int64_t begin, int64_t end) {
          auto &[self, x] = *static_cast<Context *>(data);
          for (int64_t item = begin; item < end; ++item)
            self.sumItem(x, item);
        },
        &context, groups * blocks);
    std::fill(totals.begin(), totals.end(), 0.0);
    double *sums = totals.data(), *squares = sums + c;
    for (int64_t item = 0; item < groups * blocks; ++item) {
      const double *laneSums = &partial[item * 2 * lanes];
      for (int64_t lane = 0; lane < lanes; ++lane) {
        int64_t channel = item % blocks * block + lane % block;
        sums[channel] += laneSums[lane];
        squares[channel] += laneSums[lanes + lane];
      }
    }
    if (synchronized)
      addOverRanks(site, "forward", totals.data(), 2 * c);
    for (int64_t i = 0; i < c; ++i) {
      double m = sums[i] / count;
      mean[i] = static_cast<float>(m);
      variance[i] =
          static_cast<float>(std::max(squares[i] / count - m * m, 0.0));
    }
  }

private:
  /// Sums the examples of one group in one block into the item's lanes.
  void sumItem(const float *x, int64_t item) {
    int64_t group = item / blocks, cb = item % blocks;
    double *sum = &partial[item * 2 * lanes];
    double *square = sum + lanes;
    std::fill(sum, sum + 2 * lanes, 0.0);
    for (int64_t e = group * n / groups, last = (group + 1) * n / groups;
         e < last; ++e) {
      const float *values = x + (e * blocks + cb) * chunk;
      int64_t k = 0;
      for (; k + lanes <= chunk; k += lanes)
        for (int64_t lane = 0; lane < lanes; ++lane) {
          double value = values[k + lane];
          sum[lane] += value;
          square[lane] += value * value;
        }
      for (int64_t lane = 0; k < chunk; ++k, ++lane) {
        double value = values[k];
        sum[lane] += value;
        square[lane] += value * value;
      }
    }
  }

  int64_t n, c;
  /// Elements per channel, over every rank's batch.
  double count;
  int64_t block, lanes, blocks, groups, chunk, site;
  bool synchronized;
  /// The sums of x of each channel, then those of x^2.
  std::vector<double> partial, totals;
};

/// The forward primitive in the layout of x, plain or blocked; see
/// BatchNormShape::flags.
batch_normalization_forward::primitive_desc
forwardDesc(const Config &config, const BatchNormShape &s, bool blocked,
            bool givenStatistics, bool scaleShift) {
  batch_normalization_forward::desc desc(
      s.training ? prop_kind::forward_training : prop_kind::forward_inference,
      s.data(config, blocked), s.epsilon, s.flags(givenStatistics, scaleShift));
  return batch_normalization_forward::primitive_desc(desc, cpuEngine());
}

/// The mask of blocked arguments of `count`, of which only those in
/// `allowed` (a mask too) may be.
uint32_t blockedMask(Config &config, unsigned count, uint32_t allowed,
                     const char *which) {
  uint32_t mask = config.blockedArguments(count);
  if (mask & ~allowed)
    config.fail("configuration value 'blocked' is " + std::to_string(mask) +
                ", but only " + which + " may be blocked (mask " +
                std::to_string(allowed) + ")");
  return mask;
}

/// A workspace memory of `desc` over a buffer that generated code passes,
/// which holds `bytes`.
memory workspaceMemory(const memory::desc &desc, int64_t bytes) {
  if (desc.get_size() > static_cast<size_t>(bytes))
    fatal("oneDNN's batch normalization with a fused ReLU wants " +
              std::to_string(desc.get_size()) +
              " bytes of workspace, more than the " + std::to_string(bytes) +
              " that generated code passes",
          "compile the model without fusing the ReLU into the batch "
          "normalization, and report it with the model");
  return memory(desc, cpuEngine(), DNNL_MEMORY_NONE);
}

/// args: x* (scale shift) (mean variance, inference) y* (mean variance,
/// training) (workspace, training with a fused ReLU).
class BatchNormForward : public Site {
public:
  BatchNormForward(const Config &config, const BatchNormShape &s,
                   unsigned yIndex, uint32_t blocked)
      : shape(s), statistics(s, s.block(blocked & 1), config.site()) {
    auto pd = forwardDesc(config, s, blocked & 1, s.training, s.hasAffine);
    primitive = batch_normalization_forward(pd);
    x = Input(pd.src_desc());
    y = Output(s.data(config, blocked >> yIndex & 1), pd.dst_desc());
    if (s.hasAffine) {
      scale = Input(s.vector());
      shift = Input(s.vector());
    }
    if (s.training) {
      batchMean = Output(s.vector(), pd.mean_desc());
      batchVariance = Output(s.vector(), pd.variance_desc());
    } else {
      mean = Input(s.vector(), pd.mean_desc());
      variance = Input(s.vector(), pd.variance_desc());
    }
    if (s.training && s.fuseRelu)
      workspace = workspaceMemory(pd.workspace_desc(), s.workspaceBytes());
  }

  void execute(void **args) override {
    size_t i = 0;
    const memory &src = x.bind(args[i++]);
    ExecArgs exec{{DNNL_ARG_SRC, src}};
    if (shape.hasAffine) {
      exec[DNNL_ARG_SCALE] = scale.bind(args[i++]);
      exec[DNNL_ARG_SHIFT] = shift.bind(args[i++]);
    }
    if (!shape.training) {
      exec[DNNL_ARG_MEAN] = mean.bind(args[i++]);
      exec[DNNL_ARG_VARIANCE] = variance.bind(args[i++]);
    }
    exec[DNNL_ARG_DST] = y.bind(args[i++]);
    if (shape.training) {
      const memory &m = batchMean.bind(args[i++]);
      const memory &v = batchVariance.bind(args[i++]);
      statistics.compute(static_cast<const float *>(src.get_data_handle()),
                         static_cast<float *>(m.get_data_handle()),
                         static_cast<float *>(v.get_data_handle()));
      exec[DNNL_ARG_MEAN] = m;
      exec[DNNL_ARG_VARIANCE] = v;
    }
    if (workspace) {
      workspace.set_data_handle(args[i++]);
      exec[DNNL_ARG_WORKSPACE] = workspace;
    }
    primitive.execute(cpuStream(), exec);
    y.flush();
    if (shape.training) {
      batchMean.flush();
      batchVariance.flush();
    }
  }

private:
  BatchNormShape shape;
  /// Of x in its layout (BatchNormShape::block), in training.
  ChannelStatistics statistics;
  batch_normalization_forward primitive;
  Input x, scale, shift, mean, variance;
  Output y, batchMean, batchVariance;
  memory workspace;
};

/// Moves the dx of oneDNN's backward, which subtracts this rank's means of g
/// and g * xhat, to the means over every rank (see the top), in x's layout
/// (BatchNormShape::block). Its buffers are made once, with the site.
class RankMeansCorrection {
public:
  RankMeansCorrection(const BatchNormShape &s, int64_t block, int64_t site)
      : n(s.n), c(s.c), block(block), blocks(s.c / block), chunk(s.s * block),
        site(site), epsilon(s.epsilon), localCount(s.localCount()),
        globalCount(s.globalCount()), totals(2 * s.c), means(s.c), offsets(s.c),
        slopes(s.c) {}

  /// `dshift` and `dscale` are oneDNN's gradients of the shift and the
  /// scale: this rank's sums of g and of g * xhat. `scale` is null without
  /// affine parameters.
  void apply(const float *x, float *dx, const float *scale, const float *mean,
             const float *variance, const float *dshift, const float *dscale) {
    std::copy(dshift, dshift + c, totals.begin());
    std::copy(dscale, dscale + c, totals.begin() + c);
    addOverRanks(site, "backward", totals.data(), 2 * c);
    for (int64_t i = 0; i < c; ++i) {
      double rstd = 1 / std::sqrt(double(variance[i]) + double(epsilon));
      double factor = (scale ? scale[i] : 1.0) * rstd;
      means[i] = mean[i];
      offsets[i] = static_cast<float>(
          factor * (dshift[i] / localCount - totals[i] / globalCount));
      slopes[i] = static_cast<float>(
          factor * rstd *
          (dscale[i] / localCount - totals[c + i] / globalCount));
    }
    struct Context {
      RankMeansCorrection &self;
      const float *x;
      float *dx;
    } context{*this, x, dx};
    kiln_rt_parallel_for(
        [](void *data, int64_t begin, int64_t end) {
          auto &[self, x, dx] = *static_cast<Context *>(data);
          for (int64_t item = begin; item < end; ++item)
            self.applyItem(x, dx, item);
        },
        &context, n * blocks);
  }

private:
  /// dx += offset + slope * (x - mean) over example e's block cb, item
  /// e * blocks + cb.
  void applyItem(const float *x, float *dx, int64_t item) const {
    int64_t first = item % blocks * block;
    for (int64_t k = item * chunk, last = k + chunk; k < last;) {
      for (int64_t lane = 0; lane < block; ++lane, ++k) {
        int64_t channel = first + lane;
        dx[k] += offsets[channel] + slopes[channel] * (x[k] - means[channel]);
      }
    }
  }

  int64_t n, c, block, blocks, chunk, site;
  float epsilon;
  double localCount, globalCount;
  /// The sums of g over every rank, then those of g * xhat.
  std::vector<double> totals;
  std::vector<float> means, offsets, slopes;
};

/// args: x* dy* (scale) mean variance (workspace, with a fused ReLU) dx*
/// (dscale dshift).
class BatchNormBackward : public Site {
public:
  BatchNormBackward(const Config &config, const BatchNormShape &s,
                    unsigned dxIndex, uint32_t blocked)
      : shape(s) {
    bool inBlocks = blocked & 1;
    // Synchronized, the sums of g and g * xhat are wanted even without
    // affine parameters: they are the scale's and the shift's gradients.
    bool scaleShift = s.hasAffine || s.synchronized();
    memory::desc data = s.data(config, inBlocks);
    batch_normalization_backward::desc desc(
        scaleShift ? prop_kind::backward : prop_kind::backward_data, data, data,
        s.epsilon, s.flags(false, scaleShift));
    batch_normalization_backward::primitive_desc pd(
        desc, cpuEngine(), forwardDesc(config, s, inBlocks, false, scaleShift));
    primitive = batch_normalization_backward(pd);
    x = Input(pd.src_desc());
    dy = Input(s.data(config, blocked >> 1 & 1), pd.diff_dst_desc());
    dx = Output(s.data(config, blocked >> dxIndex & 1), pd.diff_src_desc());
    mean = Input(s.vector(), pd.mean_desc());
    variance = Input(s.vector(), pd.variance_desc());
    if (s.hasAffine) {
      scale = Input(s.vector());
      dscale = Output(s.vector());
      dshift = Output(s.vector());
    } else if (scaleShift) {
      ones = memory(s.vector(), cpuEngine());
      std::fill_n(static_cast<float *>(ones.get_data_handle()), s.c, 1.0f);
      ownDscale = memory(s.vector(), cpuEngine());
      ownDshift = memory(s.vector(), cpuEngine());
    }
    if (scaleShift) {
      // oneDNN takes a shift, which the gradients do not depend on.
      zeroShift = memory(s.vector(), cpuEngine());
      std::memset(zeroShift.get_data_handle(), 0, s.vector().get_size());
    }
    if (s.fuseRelu)
      workspace = workspaceMemory(pd.workspace_desc(), s.workspaceBytes());
    if (s.synchronized())
      correction.emplace(s, s.block(inBlocks), config.site());
  }

  void execute(void **args) override {
    size_t i = 0;
    const memory &src = x.bind(args[i++]);
    ExecArgs exec{{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dy.bind(args[i++])}};
    if (shape.hasAffine)
      exec[DNNL_ARG_SCALE] = scale.bind(args[i++]);
    else if (ones)
      exec[DNNL_ARG_SCALE] = ones;
    if (zeroShift)
      exec[DNNL_ARG_SHIFT] = zeroShift;
    const memory &m = mean.bind(args[i++]);
    const memory &v = variance.bind(args[i++]);
    exec[DNNL_ARG_MEAN] = m;
    exec[DNNL_ARG_VARIANCE] = v;
    if (workspace) {
      workspace.set_data_handle(args[i++]);
      exec[DNNL_ARG_WORKSPACE] = workspace;
    }
    const memory &diffSrc = dx.bind(args[i++]);
    exec[DNNL_ARG_DIFF_SRC] = diffSrc;
    if (shape.hasAffine) {
      exec[DNNL_ARG_DIFF_SCALE] = dscale.bind(args[i++]);
      exec[DNNL_ARG_DIFF_SHIFT] = dshift.bind(args[i++]);
    } else if (ownDscale) {
      exec[DNNL_ARG_DIFF_SCALE] = ownDscale;
      exec[DNNL_ARG_DIFF_SHIFT] = ownDshift;
    }
    primitive.execute(cpuStream(), exec);
    if (correction) {
      auto floats = [](const memory &memory) {
        return static_cast<float *>(memory.get_data_handle());
      };
      correction->apply(floats(src), floats(diffSrc),
                        shape.hasAffine ? floats(exec[DNNL_ARG_SCALE])
                                        : nullptr,
                        floats(m), floats(v), floats(exec[DNNL_ARG_DIFF_SHIFT]),
                        floats(exec[DNNL_ARG_DIFF_SCALE]));
    }
    dx.flush();
  }

private:
  BatchNormShape shape;
  batch_normalization_backward primitive;
  Input x, dy, scale, mean, variance;
  Output dx, dscale, dshift;
  memory zeroShift, workspace;
  /// Synchronized without affine parameters: a scale of ones, and where
  /// oneDNN writes the sums.
  memory ones, ownDscale, ownDshift;
  std::optional<RankMeansCorrection> correction;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createBatchNormForward(Config &config) {
  BatchNormShape shape(config, /*forward=*/true);
  unsigned yIndex = 1 + 2 * shape.hasAffine + 2 * !shape.training;
  unsigned count =
      yIndex + 1 + 2 * shape.training + (shape.training && shape.fuseRelu);
  uint32_t blocked = blockedMask(config, count, 1u | 1u << yIndex, "x and y");
  return std::make_unique<BatchNormForward>(config, shape, yIndex, blocked);
}

std::unique_ptr<Site> kiln::cpu::createBatchNormBackward(Config &config) {
  BatchNormShape shape(config, /*forward=*/false);
  unsigned dxIndex = 4 + shape.hasAffine + shape.fuseRelu;
  unsigned count = dxIndex + 1 + 2 * shape.hasAffine;
  uint32_t blocked =
      blockedMask(config, count, 3u | 1u << dxIndex, "x, dy and dx");
  return std::make_unique<BatchNormBackward>(config, shape, dxIndex, blocked);
}
