//===- WorldSingle.cpp - Runs of one process, in builds without Open MPI --===//

#include "distributed/World.h"

#include <cstdlib>

using namespace kiln::distributed;

bool kiln::distributed::join(World &world, std::string &error) {
  world = World{};
  if (!launchedByMpirun())
    return true;
  error = "this trainer was built without Open MPI, so it cannot run under "
          "mpirun; install libopenmpi-dev (scripts/setup.sh does), rebuild "
          "Kiln and compile the model again";
  return false;
}

bool kiln::distributed::averageInPlace(float *, int64_t, std::string &) {
  return true;
}

bool kiln::distributed::startAverage(float *, int64_t, int64_t &handle,
                                     std::string &) {
  handle = -1;
  return true;
}

bool kiln::distributed::finishAverage(int64_t, std::string &) { return true; }

void kiln::distributed::progress() {}

bool kiln::distributed::sum(int64_t &, std::string &) { return true; }

bool kiln::distributed::sum(double *, int64_t, std::string &) { return true; }

bool kiln::distributed::sameOnEveryRank(uint64_t, bool &same, std::string &) {
  same = true;
  return true;
}

void kiln::distributed::leave() {}

void kiln::distributed::abortRun(int code) { std::exit(code); }
