//===- AllReduce.cpp - Gradient buckets averaged over ranks ---------------===//
//
// A bucket's reduction is two sites, so that it runs while the step goes on:
// the start, where the bucket's last gradient is ready, packs the tensors
// into one buffer (one message per bucket) and starts averaging it over the
// ranks (Averager.cpp); the wait, right before the first use of a mean,
// waits and unpacks the means into its outputs.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"

#include <cstring>
#include <vector>

using namespace kiln::cpu;

namespace {

/// Ends the run after a failed average at `site`.
[[noreturn]] void failed(int64_t site, const char *stage,
                         const std::string &error) {
  fatal("call site " + std::to_string(site) + " (all-reduce " + stage +
            "): averaging the gradients over the ranks failed: " + error,
        "another rank of the run has probably failed; its message says why");
}

/// config: K E1 ... EK; args: x1 ... xK y1 ... yK (the y's untouched).
class AllReduceStart : public Site {
public:
  explicit AllReduceStart(Config &config) : site(config.site()) {
    int64_t count = config.size("K");
    int64_t total = 0;
    for (int64_t i = 0; i < count; ++i) {
      sizes.push_back(config.size("E"));
      total += sizes.back();
    }
    bucket.resize(total);
  }

  void execute(void **args) override {
    float *packed = bucket.data();
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::memcpy(packed, args[i], sizes[i] * sizeof(float));
      packed += sizes[i];
    }
    std::string error;
    if (!startAverage(bucket.data(), static_cast<int64_t>(bucket.size()),
                      handle, error))
      failed(site, "start", error);
  }

  /// Waits for the average that execute() started, and unpacks it.
  void finish(int64_t waitSite, void **outputs) {
    std::string error;
    if (!finishAverage(handle, error))
      failed(waitSite, "wait", error);
    const float *packed = bucket.data();
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::memcpy(outputs[i], packed, sizes[i] * sizeof(float));
      packed += sizes[i];
    }
  }

private:
  int64_t site;
  std::vector<int64_t> sizes;
  std::vector<float> bucket;
  int64_t handle = -1;
};

/// config: K E1 ... EK S; args: y1 ... yK.
class AllReduceWait : public Site {
public:
  AllReduceWait(Config &config, int64_t count)
      : site(config.site()),
        start(config, config.values().back(), KILN_ALL_REDUCE_START,
              static_cast<size_t>(count) + 1) {}

  void execute(void **args) override { start.get().finish(site, args); }

private:
  int64_t site;
  Pairing<AllReduceStart> start;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createAllReduceStart(Config &config) {
  return std::make_unique<AllReduceStart>(config);
}

std::unique_ptr<Site> kiln::cpu::createAllReduceWait(Config &config) {
  int64_t count = config.size("K");
  for (int64_t i = 0; i < count; ++i)
    config.size("E");
  config.siteNumber("S");
  return std::make_unique<AllReduceWait>(config, count);
}
