//===- ThreadGovernor.h - One thread fewer while that runs faster ---------===//
//
// oneDNN splits each primitive's work evenly over its threads, so when
// another process takes one of the cores, the thread on that core gets half
// of it and every step waits for that thread: all the cores can be slower
// than one fewer. `--threads auto` lets the training steps move between the
// full count and one fewer by measuring both now and then, as a sampling
// profiler would: a few steps at the other count every so often (more
// seldom while that loses, at once when the steps slow down), and a move
// when the other count is clearly faster.
//
// oneDNN sizes a primitive for the threads it is created with, so each
// count runs its own site table (HostExecutor). The two counts may round
// differently, so a run that moves is reproducible only up to that.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_THREADGOVERNOR_H
#define KILN_RUNTIME_TRAIN_THREADGOVERNOR_H

#include <cstdint>
#include <vector>

namespace kiln::train {

class ThreadGovernor {
public:
  /// Steps timed at the current count that give its median.
  static constexpr int kWindow = 5;
  /// Steps of a trial of the other count; the first, which creates the
  /// count's primitives or warms their caches, is not counted.
  static constexpr int kTrialSteps = 4;
  /// Steps between trials: after a move, and the most after trials that
  /// lose; the first trial comes as soon as a window is full.
  static constexpr int64_t kFirstInterval = 20, kMaxInterval = 320;
  /// The most on one thread fewer, which is the exception: the busy core
  /// may be free again.
  static constexpr int64_t kMaxIntervalFewer = 80;
  /// The other count wins a trial by this factor at least.
  static constexpr double kWinningFactor = 0.95;
  /// A window this much slower than the count's best calls a trial at once.
  static constexpr double kSlowdownFactor = 1.3;

  /// Moves between `full` threads (2 or more) and one fewer.
  explicit ThreadGovernor(int full);

  /// The threads of the next step.
  int next() const { return trialLeft > 0 ? other() : current; }
  /// The threads of steps that are not timed (evaluation).
  int settled() const { return current; }
  /// Records the time of a step run with next() threads.
  void record(double seconds);

  /// Steps run at each count so far: [0] full, [1] one fewer.
  const int64_t *steps() const { return stepsAt; }
  /// Moves made so far.
  int64_t moves() const { return moveCount; }

private:
  int other() const { return current == full ? full - 1 : full; }
  static double median(std::vector<double> times);

  int full, current;
  std::vector<double> window, trial;
  double best = 0; // the current count's best window median
  int trialLeft = 0;
  // The first trial comes as soon as the first window is full.
  int64_t sinceTrial = kFirstInterval, interval = kFirstInterval;
  int64_t stepsAt[2] = {0, 0};
  int64_t moveCount = 0;
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_THREADGOVERNOR_H
