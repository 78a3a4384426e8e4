//===- AllReduce.cpp - Gradient buckets averaged over ranks ---------------===//
//
// A bucket's tensors are packed into one buffer so that the run sends one
// message per bucket, averaged over the ranks (Averager.cpp), and unpacked
// into the outputs.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"

#include <cstring>
#include <vector>

using namespace kiln::cpu;

namespace {

/// config: K E1 ... EK; args: x1 ... xK y1 ... yK.
class AllReduce : public Site {
public:
  explicit AllReduce(Config &config) : site(config.site()) {
    int64_t count = config.size("K");
    for (int64_t i = 0; i < count; ++i)
      sizes.push_back(config.size("E"));
    int64_t total = 0;
    for (int64_t size : sizes)
      total += size;
    bucket.resize(total);
  }

  void execute(void **args) override {
    size_t count = sizes.size();
    float *packed = bucket.data();
    for (size_t i = 0; i < count; ++i) {
      std::memcpy(packed, args[i], sizes[i] * sizeof(float));
      packed += sizes[i];
    }
    std::string error;
    if (!average(bucket.data(), static_cast<int64_t>(bucket.size()), error))
      fatal("call site " + std::to_string(site) +
                " (all-reduce): averaging the gradients over the ranks "
                "failed: " +
                error,
            "another rank of the run has probably failed; its message "
            "says why");
    packed = bucket.data();
    for (size_t i = 0; i < count; ++i) {
      std::memcpy(args[count + i], packed, sizes[i] * sizeof(float));
      packed += sizes[i];
    }
  }

private:
  int64_t site;
  std::vector<int64_t> sizes;
  std::vector<float> bucket;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createAllReduce(Config &config) {
  return std::make_unique<AllReduce>(config);
}
