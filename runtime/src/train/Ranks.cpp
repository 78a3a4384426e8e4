//===- Ranks.cpp - The trainer's side of a data-parallel run --------------===//

#include "train/Ranks.h"
#include "train/Error.h"
#include "train/Program.h"

#include "cpu/Runtime.h"
#include "io/Hash.h"

using namespace kiln;
using namespace kiln::train;

namespace {

std::string processes(int64_t count) {
  return count == 1 ? "one process" : std::to_string(count) + " ranks";
}

} // namespace

Ranks::~Ranks() {
  if (joined)
    distributed::leave();
}

void Ranks::join(const Program &program) {
  std::string error;
  if (!distributed::join(world, error))
    throw Error(error);
  joined = true;
  int64_t compiled = program.recipe.ranks;
  if (world.size == compiled) {
    // The compiled step's all-reduce sites average through the world, and
    // its synchronized batch normalizations add their sums through it.
    static const cpu::Averager averager{
        distributed::startAverage, distributed::finishAverage,
        distributed::progress, distributed::sum};
    if (world.size > 1)
      cpu::setAverager(&averager);
    return;
  }
  if (!distributed::launchedByMpirun())
    throw Error("this trainer was compiled for a data-parallel run of " +
                    processes(compiled) + " (kilnc --ranks " +
                    std::to_string(compiled) + ")",
                "start it with mpirun -np " + std::to_string(compiled) +
                    " (docs/distributed.md), or compile the model without "
                    "--ranks to train in one process");
  throw Error("mpirun started " + processes(world.size) +
                  ", but this trainer was compiled for " + processes(compiled) +
                  " (kilnc --ranks " + std::to_string(compiled) + ")",
              "run it with mpirun -np " + std::to_string(compiled) +
                  ", or compile the model for this run with kilnc --ranks " +
                  std::to_string(world.size));
}

namespace {

[[noreturn]] void lost(const std::string &error) {
  throw Error("the data-parallel run failed: " + error,
              "another rank has probably failed; its message says why");
}

} // namespace

float Ranks::mean(float value) const {
  std::string error;
  if (!distributed::averageInPlace(&value, 1, error))
    lost(error);
  return value;
}

int64_t Ranks::sum(int64_t value) const {
  std::string error;
  if (!distributed::sum(value, error))
    lost(error);
  return value;
}

double Ranks::sum(double value) const {
  std::string error;
  if (!distributed::sum(&value, 1, error))
    lost(error);
  return value;
}

void Ranks::checkSameWeights(const Program &program,
                             const program::SlotBuffers &buffers) const {
  if (world.size == 1)
    return;
  uint64_t hash = io::kFnvBasis;
  for (const std::vector<size_t> *slots :
       {&program.params, &program.state, &program.buffers})
    for (size_t slot : *slots)
      hash = io::fnv1a64(buffers.get<uint8_t>(slot),
                         program.slots[slot].numBytes(), hash);
  bool same = true;
  std::string error;
  if (!distributed::sameOnEveryRank(hash, same, error))
    lost(error);
  if (!same)
    throw Error("the ranks start from different weights (rank " +
                    std::to_string(world.rank) + "'s fingerprint " +
                    std::to_string(hash) + " is not every rank's)",
                "every rank must draw from the same seed and read the same "
                "--init or --resume file; give each the same flags and files");
}

void Ranks::abortRun(int status) const { distributed::abortRun(status); }
