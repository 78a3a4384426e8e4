//===- Benchmark.cpp - Timing the training step on a synthetic batch ------===//
//
// --benchmark times the compiled training step alone: one synthetic batch,
// drawn once, so that no loading or copying of data is timed, and every
// step waited for before the next starts. The median is the figure to quote:
// on a shared machine a few steps are slowed by others' work.
//
//===----------------------------------------------------------------------===//

#include "train/Benchmark.h"
#include "train/Executor.h"
#include "train/Init.h"
#include "train/Program.h"

#include "cpu/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace kiln;
using namespace kiln::train;

namespace {

/// Keeps the benchmark batch's stream apart from the parameters'.
constexpr uint64_t kBenchmarkStream = 0x62656e63686d6172; // "benchmar"

double medianOf(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle]
                           : (values[middle - 1] + values[middle]) / 2;
}

} // namespace

double BenchmarkTimes::median() const { return medianOf(seconds); }

double BenchmarkTimes::medianReduction() const {
  return medianOf(reductionSeconds);
}

double BenchmarkTimes::min() const {
  return seconds.empty() ? 0
                         : *std::min_element(seconds.begin(), seconds.end());
}

double BenchmarkTimes::max() const {
  return seconds.empty() ? 0
                         : *std::max_element(seconds.begin(), seconds.end());
}

void kiln::train::fillSyntheticBatch(const Program &program,
                                     const std::vector<void *> &inputs,
                                     uint64_t seed) {
  for (size_t i = 0; i < program.inputs.size(); ++i) {
    const Slot &slot = program.slots[program.inputs[i]];
    Random random(seed, kBenchmarkStream + i);
    int64_t count = slot.numElements();
    if (slot.type == ElementType::I64) {
      auto *values = static_cast<int64_t *>(inputs[i]);
      for (int64_t j = 0; j < count; ++j)
        values[j] = slot.range
                        ? static_cast<int64_t>(
                              random.next() % static_cast<uint64_t>(slot.range))
                        : 0;
      continue;
    }
    Distribution normal{Distribution::Kind::Normal, 0, 1};
    fillDistribution(normal, static_cast<float *>(inputs[i]), count, random);
  }
}

BenchmarkTimes kiln::train::runBenchmark(Executor &executor,
                                         const Program &program,
                                         SlotBuffers &buffers, int64_t steps,
                                         uint64_t seed) {
  using Clock = std::chrono::steady_clock;
  *buffers.get<int64_t>(program.totalSteps) = kBenchmarkWarmup + steps;
  fillSyntheticBatch(program, executor.inputs(), seed);
  executor.upload();
  BenchmarkTimes times;
  for (int64_t step = 1; step <= kBenchmarkWarmup + steps; ++step) {
    Clock::time_point begin = Clock::now();
    double reducedBefore = cpu::reductionSeconds();
    executor.startTrain(step);
    executor.finishTrain();
    std::chrono::duration<double> seconds = Clock::now() - begin;
    if (step > kBenchmarkWarmup) {
      times.seconds.push_back(seconds.count());
      times.reductionSeconds.push_back(cpu::reductionSeconds() - reducedBefore);
    }
  }
  return times;
}

std::string kiln::train::formatBenchmark(const Program &program,
                                         const BenchmarkTimes &times) {
  char text[200];
  std::snprintf(text, sizeof text,
                "benchmark: %zu steps of batch %lld: median %.3f ms/step "
                "(min %.3f, max %.3f)",
                times.seconds.size(),
                static_cast<long long>(program.recipe.updateBatch()),
                times.median() * 1e3, times.min() * 1e3, times.max() * 1e3);
  if (program.recipe.ranks == 1)
    return text;
  // What bench/scaling reads: the run's throughput and the reduction's
  // share of the step.
  char ranks[200];
  std::snprintf(
      ranks, sizeof ranks,
      "; %lld ranks: %.1f examples/s, all-reduce median %.3f "
      "ms/step (%.1f%%)",
      static_cast<long long>(program.recipe.ranks),
      times.median() > 0 ? program.recipe.globalBatch() / times.median() : 0.0,
      times.medianReduction() * 1e3,
      times.median() > 0 ? 100 * times.medianReduction() / times.median()
                         : 0.0);
  return text + std::string(ranks);
}
