//===- Benchmark.h - Timing the training step on a synthetic batch --------===//

#ifndef KILN_RUNTIME_TRAIN_BENCHMARK_H
#define KILN_RUNTIME_TRAIN_BENCHMARK_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

struct Program;
using program::SlotBuffers;
class Executor;

/// Untimed steps before the timed ones: the first steps fault in the arena's
/// pages and warm oneDNN's and the caches.
inline constexpr int64_t kBenchmarkWarmup = 3;

/// The times of the timed training steps, in seconds.
struct BenchmarkTimes {
  std::vector<double> seconds;
  /// The part of each step that the all-reduce sites spent averaging the
  /// gradients over the ranks (zero in a run of one process).
  std::vector<double> reductionSeconds;

  double median() const;
  double medianReduction() const;
  double min() const;
  double max() const;
};

/// Fills `inputs` (one buffer per input slot of `program`, in order) with a
/// batch drawn from `seed`: f32 values from the standard normal, i64 values
/// uniform in [0, range) (0 for an input without a range).
void fillSyntheticBatch(const Program &program,
                        const std::vector<void *> &inputs, uint64_t seed);

/// Runs kBenchmarkWarmup and then `steps` training steps on one synthetic
/// batch, each waited for, and returns the times of the `steps`.
BenchmarkTimes runBenchmark(Executor &executor, const Program &program,
                            SlotBuffers &buffers, int64_t steps, uint64_t seed);

/// "benchmark: 50 steps of batch 64: median 11.930 ms/step (min 11.502, max
/// 13.411)".
std::string formatBenchmark(const Program &program,
                            const BenchmarkTimes &times);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_BENCHMARK_H
