//===- Averager.cpp - What all-reduce sites average through ---------------===//
//
// Its own object file, free of the rest of the CPU runtime, so that the
// trainer's core can set the averager without pulling in the sites.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"

#include <chrono>

using namespace kiln::cpu;

namespace {

const Averager *current = nullptr;
int64_t pending = 0;
double reducing = 0;

/// Runs `action`, adding its time to reductionSeconds.
template <typename Action> auto timed(Action action) {
  auto begin = std::chrono::steady_clock::now();
  auto result = action();
  reducing +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  return result;
}

} // namespace

void kiln::cpu::setAverager(const Averager *averager) {
  // Averages started with another averager are not this one's to advance.
  current = averager;
  pending = 0;
}

bool kiln::cpu::startAverage(float *data, int64_t count, int64_t &handle,
                             std::string &error) {
  handle = -1;
  if (!current)
    return true;
  ++pending;
  return timed([&] { return current->start(data, count, handle, error); });
}

bool kiln::cpu::finishAverage(int64_t handle, std::string &error) {
  if (!current || handle < 0)
    return true;
  --pending;
  return timed([&] { return current->finish(handle, error); });
}

void kiln::cpu::progressAverages() {
  if (current && pending > 0)
    timed([] {
      current->progress();
      return true;
    });
}

bool kiln::cpu::sumOverRanks(double *data, int64_t count, std::string &error) {
  if (!current) {
    error = "this process is not one rank of a data-parallel run";
    return false;
  }
  return timed([&] { return current->sum(data, count, error); });
}

double kiln::cpu::reductionSeconds() { return reducing; }
