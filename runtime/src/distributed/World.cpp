//===- World.cpp - Data-parallel runs on Open MPI -------------------------===//
//
// Errors return to the caller (MPI_ERRORS_RETURN) so that the trainer can
// name the failure; a rank that dies makes mpirun end the others.
//
//===----------------------------------------------------------------------===//

#include "distributed/World.h"

#include <mpi.h>

#include <cstdlib>

using namespace kiln::distributed;

namespace {

bool joined = false;

bool check(int status, const char *what, std::string &error) {
  if (status == MPI_SUCCESS)
    return true;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  error = std::string(what) + " failed: " + std::string(text, length);
  return false;
}

} // namespace

bool kiln::distributed::join(World &world, std::string &error) {
  world = World{};
  if (!launchedByMpirun())
    return true;
  int provided = 0;
  if (!check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
             "MPI_Init_thread", error))
    return false;
  joined = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return check(MPI_Comm_rank(MPI_COMM_WORLD, &world.rank), "MPI_Comm_rank",
               error) &&
         check(MPI_Comm_size(MPI_COMM_WORLD, &world.size), "MPI_Comm_size",
               error);
}

bool kiln::distributed::averageInPlace(float *data, int64_t count,
                                       std::string &error) {
  if (!joined)
    return true;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // MPI counts are ints: reduce in pieces of at most 2^30 floats.
  constexpr int64_t kPiece = int64_t(1) << 30;
  for (int64_t begin = 0; begin < count; begin += kPiece) {
    int n = static_cast<int>(std::min(kPiece, count - begin));
    if (!check(MPI_Allreduce(MPI_IN_PLACE, data + begin, n, MPI_FLOAT, MPI_SUM,
                             MPI_COMM_WORLD),
               "MPI_Allreduce", error))
      return false;
  }
  float scale = 1.0f / static_cast<float>(size);
  for (int64_t i = 0; i < count; ++i)
    data[i] *= scale;
  return true;
}

bool kiln::distributed::sum(int64_t &value, std::string &error) {
  if (!joined)
    return true;
  return check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_SUM,
                             MPI_COMM_WORLD),
               "MPI_Allreduce", error);
}

bool kiln::distributed::sum(double &value, std::string &error) {
  if (!joined)
    return true;
  return check(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_SUM,
                             MPI_COMM_WORLD),
               "MPI_Allreduce", error);
}

bool kiln::distributed::sameOnEveryRank(uint64_t value, bool &same,
                                        std::string &error) {
  same = true;
  if (!joined)
    return true;
  uint64_t low = value, high = value;
  if (!check(MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UINT64_T, MPI_MIN,
                           MPI_COMM_WORLD),
             "MPI_Allreduce", error) ||
      !check(MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UINT64_T, MPI_MAX,
                           MPI_COMM_WORLD),
             "MPI_Allreduce", error))
    return false;
  same = low == high;
  return true;
}

void kiln::distributed::leave() {
  if (joined)
    MPI_Finalize();
  joined = false;
}

void kiln::distributed::abortRun(int code) {
  if (joined)
    MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}
