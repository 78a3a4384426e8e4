//===- ThreadGovernorTest.cpp - Moving to one thread fewer and back -------===//
//
// The governor's choices on simulated step times: a machine that another
// process makes busy for a while, an idle one, and one whose two counts are
// equally fast under noise.
//
//===----------------------------------------------------------------------===//

#include "train/ThreadGovernor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>

using namespace kiln::train;

namespace {

/// Runs `steps` steps of `governor`, each taking time(threads, step), and
/// returns the thread count of each step.
std::vector<int> simulate(ThreadGovernor &governor, int64_t steps,
                          const std::function<double(int, int64_t)> &time) {
  std::vector<int> counts;
  for (int64_t step = 0; step < steps; ++step) {
    int threads = governor.next();
    counts.push_back(threads);
    governor.record(time(threads, step));
  }
  return counts;
}

TEST(ThreadGovernorTest, StaysOnEveryCoreOfAnIdleMachine) {
  ThreadGovernor governor(2);
  std::vector<int> counts = simulate(governor, 2000, [](int threads, int64_t) {
    return threads == 2 ? 10e-3 : 18e-3;
  });
  EXPECT_EQ(governor.moves(), 0);
  // Trials grow rare: 20, 40, 80, 160 steps apart, then every 320.
  EXPECT_EQ(governor.steps()[0] + governor.steps()[1], 2000);
  EXPECT_LE(governor.steps()[1], 12 * ThreadGovernor::kTrialSteps);
  EXPECT_GT(governor.steps()[1], 0);
}

TEST(ThreadGovernorTest, MovesOffABusyCoreAndBack) {
  // Steps 300 to 999: another process takes one of the 4 cores, and the
  // full count becomes slower than 3 threads.
  auto busy = [](int64_t step) { return step >= 300 && step < 1000; };
  ThreadGovernor governor(4);
  std::vector<int> counts =
      simulate(governor, 1400, [&](int threads, int64_t step) {
        if (threads == 4)
          return busy(step) ? 30e-3 : 10e-3;
        return 13e-3;
      });
  int64_t beforeOnThree = 0;
  for (int64_t step = 200; step < 300; ++step)
    beforeOnThree += counts[step] == 3;
  EXPECT_LE(beforeOnThree, ThreadGovernor::kTrialSteps);
  // The slowdown calls a trial as soon as the window shows it; while the
  // core stays busy, only trials of 4 threads run on 4, fewer and fewer.
  int64_t moved =
      300 + ThreadGovernor::kWindow + 2 * ThreadGovernor::kTrialSteps;
  EXPECT_EQ(counts[moved], 3);
  int64_t onFour = 0;
  for (int64_t step = moved; step < 1000; ++step)
    onFour += counts[step] == 4;
  int64_t trials = (1000 - moved) / ThreadGovernor::kMaxIntervalFewer + 3;
  EXPECT_LE(onFour, trials * ThreadGovernor::kTrialSteps);
  // Back within a trial interval at 3 threads once the core is free; after
  // that, only the trials of 3 threads run on 3, fewer and fewer.
  int64_t back =
      1000 + ThreadGovernor::kMaxIntervalFewer + ThreadGovernor::kTrialSteps;
  EXPECT_EQ(counts[back], 4);
  int64_t onThree = 0;
  for (int64_t step = back; step < 1400; ++step)
    onThree += counts[step] == 3;
  EXPECT_LE(onThree, 4 * ThreadGovernor::kTrialSteps);
  EXPECT_EQ(governor.moves(), 2);
  EXPECT_EQ(governor.next(), 4);
}

TEST(ThreadGovernorTest, NoiseAloneDoesNotMoveMuch) {
  // Equal counts, ±3% noise (a fixed pseudo-random sequence).
  uint64_t state = 1;
  ThreadGovernor governor(2);
  simulate(governor, 3000, [&](int, int64_t) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double unit =
        static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
    return 10e-3 * (0.97 + 0.06 * unit);
  });
  EXPECT_LE(governor.moves(), 2);
}

} // namespace
