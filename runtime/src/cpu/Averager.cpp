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

Averager currentAverager = nullptr;
double reducing = 0;

} // namespace

void kiln::cpu::setAverager(Averager averager) { currentAverager = averager; }

bool kiln::cpu::average(float *data, int64_t count, std::string &error) {
  if (!currentAverager)
    return true;
  auto begin = std::chrono::steady_clock::now();
  bool averaged = currentAverager(data, count, error);
  reducing +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  return averaged;
}

double kiln::cpu::reductionSeconds() { return reducing; }
