//===- ThreadGovernor.cpp - One thread fewer while that runs faster -------===//

#include "train/ThreadGovernor.h"

#include <algorithm>

using namespace kiln::train;

ThreadGovernor::ThreadGovernor(int full) : full(full), current(full) {}

double ThreadGovernor::median(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  return n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
}

void ThreadGovernor::record(double seconds) {
  ++stepsAt[next() == full ? 0 : 1];
  if (trialLeft > 0) {
    // The trial's first step is not counted.
    if (trialLeft < kTrialSteps)
      trial.push_back(seconds);
    if (--trialLeft > 0)
      return;
    double now = median(window), challenger = median(trial);
    if (challenger < kWinningFactor * now) {
      current = other();
      window = trial;
      best = challenger;
      interval = kFirstInterval;
      ++moveCount;
    } else {
      // The current count stays; its times now are its new normal.
      best = now;
      interval = std::min(2 * interval,
                          current == full ? kMaxInterval : kMaxIntervalFewer);
    }
    trial.clear();
    sinceTrial = 0;
    return;
  }
  window.push_back(seconds);
  if (window.size() > kWindow)
    window.erase(window.begin());
  if (window.size() < kWindow)
    return;
  double now = median(window);
  best = best > 0 ? std::min(best, now) : now;
  bool slowed = now > kSlowdownFactor * best;
  if (++sinceTrial >= interval || slowed)
    trialLeft = kTrialSteps;
}
