//===- Site.h - Call sites of the CPU runtime and what they share ---------===//
//
// A call site is created once, from its configuration, and executed by every
// step on the pointers generated code passes. Each kind's file (Conv.cpp,
// Pool.cpp, ...) defines its sites and a factory; Sites.cpp implements the C
// interface on top of them. Internal to the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CPU_SITE_H
#define KILN_RUNTIME_CPU_SITE_H

#include "kiln/kiln_runtime.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace kiln::cpu {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;
using ExecArgs = std::unordered_map<int, memory>;

/// The engine and the stream every primitive runs on.
const dnnl::engine &cpuEngine();
dnnl::stream &cpuStream();

/// An f32 layout of `dims` given by a format tag.
memory::desc f32Desc(const Dims &dims, Tag tag);
/// The row-major f32 layout of `dims`, which generated code passes.
memory::desc plainDesc(const Dims &dims);

/// The configuration values of a site being created, read in order.
class Config {
public:
  Config(int64_t site, int32_t kind, int32_t count, const int64_t *values);

  int64_t site() const { return siteIndex; }
  const std::vector<int64_t> &values() const { return all; }

  /// The next value, a size that must be at least `min`.
  int64_t size(const char *name, int64_t min = 1);
  /// The next value, 0 or 1.
  bool flag(const char *name);
  /// The next value, one of [0, `count`).
  int64_t choice(const char *name, int64_t count);
  /// The next value, a forward site number or -1.
  int64_t siteNumber(const char *name);
  /// The next value, the bits of a double.
  double real(const char *name);
  /// The optional last value of the kinds whose arguments may be blocked:
  /// the mask of those of the `count` arguments that are (bit i for
  /// args[i]); 0 when the configuration ends before it.
  uint32_t blockedArguments(unsigned count);
  /// Checks that every value has been read.
  void finish() const;

  /// Reports a configuration that this runtime cannot run.
  [[noreturn]] void fail(const std::string &message) const;

private:
  int64_t next(const char *name);

  int64_t siteIndex;
  int32_t kind;
  std::vector<int64_t> all;
  size_t position = 0;
};

/// oneDNN's layout of NCHW tensors of `channels` channels in blocks of
/// channels (nChw16c with AVX-512, nChw8c without or for a multiple of 8 but
/// not 16: blockedChannels()), which its JIT convolutions, poolings and
/// batch normalizations run on; without AVX-512 a pooling in nChw16c falls
/// back to oneDNN's reference code, 10 to 100 times slower, and a batch
/// normalization in the plain layout runs oneDNN's ncsp code, 10 times slower
/// than its JIT code on nChw8c. Generated code passes a tensor of a multiple
/// of 8 channels in it when the tensor only goes from one such primitive to
/// another (through elementwise ops at most), so that no reorder to and from
/// the plain layout runs in between.
Tag blockedTag(int64_t channels);

/// The layout of an argument of `dims` that generated code passes: blocked
/// or plain. A blocked argument must have a multiple of 8 channels.
memory::desc argumentDesc(const Config &config, const Dims &dims, bool blocked);

/// A call site, created by kiln_rt_create.
class Site {
public:
  virtual ~Site() = default;
  /// Runs the site on `args`, laid out as its kind says.
  virtual void execute(void **args) = 0;
};

/// A buffer argument of a primitive that it reads. Generated code passes it
/// in a plain layout; the primitive may want another one (one of oneDNN's
/// blocked formats), in which case the buffer in that layout and the reorder
/// into it are made once, at creation, and the reorder runs at each
/// execution.
class Input {
public:
  Input() = default;
  explicit Input(const memory::desc &plain) : Input(plain, plain) {}
  Input(const memory::desc &plain, const memory::desc &wanted);

  /// The memory holding `data` in the primitive's layout.
  const memory &bind(void *data);

private:
  memory user, internal;
  dnnl::reorder toInternal;
};

/// A buffer argument of a primitive that it writes, as Input.
class Output {
public:
  Output() = default;
  explicit Output(const memory::desc &plain) : Output(plain, plain) {}
  Output(const memory::desc &plain, const memory::desc &wanted);

  /// The memory the primitive writes `data` into; flush() then copies it to
  /// `data` if the layouts differ.
  const memory &bind(void *data);
  /// Like bind(), for primitives that accumulate: the memory is zeroed.
  const memory &bindZeroed(void *data);
  void flush();

private:
  memory user, internal;
  dnnl::reorder toUser;
};

/// The forward site `index` that backward site `site` reuses, which must be a
/// site of `kind` whose configuration begins with `config`.
Site &pairedSite(int64_t site, int64_t index, int32_t kind,
                 const std::vector<int64_t> &config);

/// A backward site's link to its forward site, looked up at the first
/// execution since init may create the two in any order.
template <typename Forward> class Pairing {
public:
  /// Pairs with the forward site `index` (-1: none) of `kind`, whose
  /// configuration is the first `count` values of `config`.
  Pairing(const Config &config, int64_t index, int32_t kind, size_t count)
      : site(config.site()), index(index), kind(kind),
        forwardConfig(config.values().begin(),
                      config.values().begin() + count) {}

  bool paired() const { return index >= 0; }
  Forward &get() {
    if (!forward)
      forward =
          &static_cast<Forward &>(pairedSite(site, index, kind, forwardConfig));
    return *forward;
  }

private:
  int64_t site, index;
  int32_t kind;
  std::vector<int64_t> forwardConfig;
  Forward *forward = nullptr;
};

/// Offsets a buffer of floats.
inline void *offsetFloats(void *data, int64_t count) {
  return static_cast<float *>(data) + count;
}

// The factories of the sites of each kind; each reads its configuration.
std::unique_ptr<Site> createConv2DForward(Config &config);
std::unique_ptr<Site> createConv2DBackwardData(Config &config);
std::unique_ptr<Site> createConv2DBackwardWeights(Config &config);
std::unique_ptr<Site> createPool2DForward(Config &config);
std::unique_ptr<Site> createPool2DBackward(Config &config);
std::unique_ptr<Site> createMatmul(Config &config);
std::unique_ptr<Site> createSoftmaxForward(Config &config);
std::unique_ptr<Site> createSoftmaxBackward(Config &config);
std::unique_ptr<Site> createLayerNormForward(Config &config);
std::unique_ptr<Site> createLayerNormBackward(Config &config);
std::unique_ptr<Site> createLSTMForward(Config &config);
std::unique_ptr<Site> createLSTMBackward(Config &config);
std::unique_ptr<Site> createGRUForward(Config &config);
std::unique_ptr<Site> createGRUBackward(Config &config);
std::unique_ptr<Site> createAttentionForward(Config &config);
std::unique_ptr<Site> createAttentionBackward(Config &config);
std::unique_ptr<Site> createBatchNormForward(Config &config);
std::unique_ptr<Site> createBatchNormBackward(Config &config);
std::unique_ptr<Site> createAllReduceStart(Config &config);
std::unique_ptr<Site> createAllReduceWait(Config &config);

/// The gradient dx of a softmax (with `log`, a log-softmax) along `rows`
/// contiguous rows of `cols` floats, from its result y and the result's
/// gradient dy: dx = y (dy - Σ dy y), or dx = dy - exp(y) Σ dy. dx may be
/// dy. Replaces oneDNN's reference kernel (SoftmaxRows.cpp).
void softmaxBackwardRows(const float *y, const float *dy, float *dx,
                         int64_t rows, int64_t cols, bool log);

/// A 2-D max pooling over `planes` images of [h, w, lanes] floats: the plain
/// layout with 1 lane (a plane per channel), or the blocked one with a block
/// of channels as the lanes.
struct MaxPoolGeometry {
  int64_t planes, lanes, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

/// y = the maximum of each window of x; `argmax` (null for none) receives
/// the maximum's position in its window (row-major), which the gradient
/// needs. Replaces oneDNN's kernels, which are slow without AVX-512
/// (MaxPool.cpp).
void maxPoolForward(const MaxPoolGeometry &geometry, const float *x, float *y,
                    int32_t *argmax);
/// dx = each window's dy routed to its maximum, by maxPoolForward's argmax.
void maxPoolBackward(const MaxPoolGeometry &geometry, const float *dy,
                     const int32_t *argmax, float *dx);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_SITE_H
