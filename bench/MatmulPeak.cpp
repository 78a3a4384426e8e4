//===- MatmulPeak.cpp - kiln-matmul-peak: the machine's sgemm rate --------===//
//
// The yardstick of bench/: how many float32 GFLOP/s a large matrix product
// reaches through the runtime's own matmul site (oneDNN), on the threads that
// the benchmarks use. It checks a few entries of the product, so a broken
// build cannot report a rate.
//
// usage: kiln-matmul-peak [--threads N] [--size N] [--repeats N]
// prints: matmul peak: 2048x2048x2048, 2 threads: median 58.123 ms, 295.6
// GFLOP/s
//
//===----------------------------------------------------------------------===//

#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

int usage(const char *message) {
  std::fprintf(stderr,
               "kiln-matmul-peak: error: %s\n"
               "usage: kiln-matmul-peak [--threads N] [--size N] "
               "[--repeats N]\n",
               message);
  return 2;
}

/// Parses "--flag N" with N in [1, 65536].
bool parseFlag(int argc, char **argv, int &i, const char *flag,
               int64_t &value) {
  if (std::strcmp(argv[i], flag) != 0)
    return false;
  char *end = nullptr;
  value = i + 1 < argc ? std::strtoll(argv[i + 1], &end, 10) : 0;
  if (!end || *end || value < 1 || value > 65536)
    value = 0;
  i += 2;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  int64_t threads = 2, size = 2048, repeats = 10;
  for (int i = 1; i < argc;) {
    if (!parseFlag(argc, argv, i, "--threads", threads) &&
        !parseFlag(argc, argv, i, "--size", size) &&
        !parseFlag(argc, argv, i, "--repeats", repeats))
      return usage((std::string("unknown argument '") + argv[i] + "'").c_str());
    if (!threads || !size || !repeats)
      return usage("each flag takes a whole number from 1 to 65536");
  }
  kiln_rt_set_threads(static_cast<int32_t>(threads));
  // config: batch M N K transpose_a transpose_b a_batched b_batched bias relu
  const int64_t config[] = {1, size, size, size, 0, 0, 0, 0, 0, 0};
  kiln_rt_create(0, KILN_MATMUL, 10, config);

  size_t count = static_cast<size_t>(size * size);
  std::vector<float> a(count), b(count), c(count);
  for (size_t i = 0; i < count; ++i) {
    a[i] = static_cast<float>(i % 7) - 3;
    b[i] = static_cast<float>(i % 5) - 2;
  }
  void *args[] = {a.data(), b.data(), c.data()};
  kiln_rt_execute(0, args);
  for (int64_t row : {int64_t(0), size / 2, size - 1}) {
    double expected = 0;
    for (int64_t k = 0; k < size; ++k)
      expected += double(a[row * size + k]) * double(b[k * size + row]);
    if (std::fabs(c[row * size + row] - expected) >
        1e-3 * (1 + std::fabs(expected))) {
      std::fprintf(
          stderr, "kiln-matmul-peak: error: C[%lld][%lld] is %g, expected %g\n",
          static_cast<long long>(row), static_cast<long long>(row),
          double(c[row * size + row]), expected);
      return 1;
    }
  }

  std::vector<double> seconds;
  for (int64_t r = 0; r < repeats; ++r) {
    auto begin = std::chrono::steady_clock::now();
    kiln_rt_execute(0, args);
    std::chrono::duration<double> elapsed =
        std::chrono::steady_clock::now() - begin;
    seconds.push_back(elapsed.count());
  }
  std::sort(seconds.begin(), seconds.end());
  double median =
      seconds.size() % 2
          ? seconds[seconds.size() / 2]
          : (seconds[seconds.size() / 2 - 1] + seconds[seconds.size() / 2]) / 2;
  double flops = 2.0 * double(size) * double(size) * double(size);
  std::printf("matmul peak: %lldx%lldx%lld, %lld threads: median %.3f ms, "
              "%.1f GFLOP/s\n",
              static_cast<long long>(size), static_cast<long long>(size),
              static_cast<long long>(size), static_cast<long long>(threads),
              median * 1e3, flops / median / 1e9);
  return 0;
}
