//===- BenchmarkTest.cpp - --benchmark: synthetic batch and step times ----===//

#include "TrainTesting.h"

#include "train/Benchmark.h"
#include "train/Executor.h"
#include "train/Init.h"

#include <cmath>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

TEST(BenchmarkTest, SyntheticBatchIsSeededAndInRange) {
  Program program = smallParsed();
  SlotBuffers first(program), second(program), other(program);
  HostExecutor a(smallProgram(), program, first),
      b(smallProgram(), program, second), c(smallProgram(), program, other);
  fillSyntheticBatch(program, a.inputs(), 7);
  fillSyntheticBatch(program, b.inputs(), 7);
  fillSyntheticBatch(program, c.inputs(), 8);
  size_t x = program.inputs[0], label = program.inputs[1];
  const float *values = first.get<float>(x);
  double sum = 0;
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(values[i], second.get<float>(x)[i]);
    EXPECT_TRUE(std::isfinite(values[i]));
    sum += std::fabs(values[i]);
  }
  EXPECT_GT(sum, 0);
  bool differs = false;
  for (int i = 0; i < 12; ++i)
    differs = differs || values[i] != other.get<float>(x)[i];
  EXPECT_TRUE(differs);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(first.get<int64_t>(label)[i], second.get<int64_t>(label)[i]);
    EXPECT_GE(first.get<int64_t>(label)[i], 0);
    EXPECT_LT(first.get<int64_t>(label)[i], 3);
  }
}

TEST(BenchmarkTest, TimesTheStepsAfterTheWarmup) {
  Program program = smallParsed();
  SlotBuffers buffers(program);
  initializeParameters(program, buffers, 5);
  float before = buffers.get<float>(program.params[0])[0];
  HostExecutor executor(smallProgram(), program, buffers);
  BenchmarkTimes times = runBenchmark(executor, program, buffers, 6, 1);
  ASSERT_EQ(times.seconds.size(), 6u);
  for (double seconds : times.seconds)
    EXPECT_GE(seconds, 0);
  // Every step ran, the warm-up's too, and trained the parameters.
  EXPECT_EQ(*buffers.get<int64_t>(program.step), kBenchmarkWarmup + 6);
  EXPECT_EQ(*buffers.get<int64_t>(program.totalSteps), kBenchmarkWarmup + 6);
  EXPECT_NE(buffers.get<float>(program.params[0])[0], before);
  EXPECT_TRUE(std::isfinite(*buffers.get<float>(program.loss)));
}

TEST(BenchmarkTest, MedianAndReport) {
  BenchmarkTimes odd{{0.003, 0.001, 0.002}};
  EXPECT_DOUBLE_EQ(odd.median(), 0.002);
  EXPECT_DOUBLE_EQ(odd.min(), 0.001);
  EXPECT_DOUBLE_EQ(odd.max(), 0.003);
  BenchmarkTimes even{{0.004, 0.001, 0.002, 0.010}};
  EXPECT_DOUBLE_EQ(even.median(), 0.003);
  EXPECT_EQ(formatBenchmark(smallParsed(), even),
            "benchmark: 4 steps of batch 4: median 3.000 ms/step (min 1.000, "
            "max 10.000)");
}

} // namespace
