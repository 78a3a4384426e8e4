//===- World.h - The processes of a data-parallel run ---------------------===//
//
// A trainer started by Open MPI's mpirun is one rank of a data-parallel run;
// started alone, it is a world of one. This is the runtime's only view of
// MPI: World.cpp is the one file that includes mpi.h, and a build without
// Open MPI compiles WorldSingle.cpp instead, which runs alone and says what
// to do when started by mpirun.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DISTRIBUTED_WORLD_H
#define KILN_DISTRIBUTED_WORLD_H

#include <cstdint>
#include <cstdlib>
#include <string>

namespace kiln::distributed {

/// This process's place in the run.
struct World {
  int rank = 0;
  int size = 1;
};

/// Whether mpirun (or another PMIx launcher) started this process.
inline bool launchedByMpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK");
}

/// Joins the run that mpirun started this process in, or makes a world of
/// one when it was started alone. Returns false with `error` set when it
/// cannot (started by mpirun, but built without Open MPI, or MPI failed).
bool join(World &world, std::string &error);

/// Replaces each of the `count` floats at `data` by its mean over the ranks.
/// Returns false with `error` set when the reduction fails (a rank died).
bool averageInPlace(float *data, int64_t count, std::string &error);

/// averageInPlace without waiting (MPI_Iallreduce): starts it and gives a
/// handle; the floats must stay untouched until finishAverage(handle) has
/// returned. progress() lets the started averages advance.
bool startAverage(float *data, int64_t count, int64_t &handle,
                  std::string &error);
bool finishAverage(int64_t handle, std::string &error);
void progress();

/// Replaces `value`, or the `count` values at `values`, by their sums over
/// the ranks.
bool sum(int64_t &value, std::string &error);
bool sum(double *values, int64_t count, std::string &error);

/// Whether `value` is the same on every rank (a fingerprint of the initial
/// weights, say).
bool sameOnEveryRank(uint64_t value, bool &same, std::string &error);

/// Leaves the run (MPI_Finalize); nothing without mpirun.
void leave();

/// Ends every rank of the run with `code` after this one failed, so that no
/// rank waits forever for it (MPI_Abort); exits the process alone otherwise.
[[noreturn]] void abortRun(int code);

} // namespace kiln::distributed

#endif // KILN_DISTRIBUTED_WORLD_H
