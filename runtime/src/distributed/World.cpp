//===- World.cpp - Data-parallel runs on Open MPI -------------------------===//
//
// Errors return to the caller (MPI_ERRORS_RETURN) so that the trainer can
// name the failure; a rank that dies makes mpirun end the others.
//
//===----------------------------------------------------------------------===//

#include "distributed/World.h"

#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

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

namespace {

/// An average in progress: the floats, and a request per piece of at most
/// 2^30 floats (MPI counts are ints).
struct Average {
  float *data = nullptr;
  int64_t count = 0;
  std::vector<MPI_Request> requests;
};

/// By handle; a finished one's slot is reused.
std::vector<Average> averages;

} // namespace

bool kiln::distributed::startAverage(float *data, int64_t count,
                                     int64_t &handle, std::string &error) {
  handle = -1;
  if (!joined)
    return true;
  auto free = std::find_if(averages.begin(), averages.end(),
                           [](const Average &a) { return !a.data; });
  handle = free - averages.begin();
  if (free == averages.end())
    averages.emplace_back();
  Average &average = averages[handle];
  average.data = data;
  average.count = count;
  average.requests.clear();
  constexpr int64_t kPiece = int64_t(1) << 30;
  for (int64_t begin = 0; begin < count; begin += kPiece) {
    int n = static_cast<int>(std::min(kPiece, count - begin));
    MPI_Request request;
    if (!check(MPI_Iallreduce(MPI_IN_PLACE, data + begin, n, MPI_FLOAT, MPI_SUM,
                              MPI_COMM_WORLD, &request),
               "MPI_Iallreduce", error))
      return false;
    average.requests.push_back(request);
  }
  return true;
}

bool kiln::distributed::finishAverage(int64_t handle, std::string &error) {
  if (!joined || handle < 0)
    return true;
  Average &average = averages[handle];
  if (!check(MPI_Waitall(static_cast<int>(average.requests.size()),
                         average.requests.data(), MPI_STATUSES_IGNORE),
             "MPI_Waitall", error))
    return false;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  float scale = 1.0f / static_cast<float>(size);
  for (int64_t i = 0; i < average.count; ++i)
    average.data[i] *= scale;
  average = Average{};
  return true;
}

void kiln::distributed::progress() {
  // MPI_Testall completes nothing that finishAverage would then miss: a
  // completed request becomes MPI_REQUEST_NULL, which MPI_Waitall skips.
  for (Average &average : averages) {
    if (!average.data)
      continue;
    int done = 0;
    MPI_Testall(static_cast<int>(average.requests.size()),
                average.requests.data(), &done, MPI_STATUSES_IGNORE);
  }
}

bool kiln::distributed::averageInPlace(float *data, int64_t count,
                                       std::string &error) {
  int64_t handle = -1;
  return startAverage(data, count, handle, error) &&
         finishAverage(handle, error);
}

namespace {

/// Replaces the `count` values at `data` by their sums over the ranks.
bool sumInPlace(void *data, int64_t count, MPI_Datatype type,
                std::string &error) {
  if (!joined)
    return true;
  if (count > std::numeric_limits<int>::max()) {
    error = "a sum over the ranks of " + std::to_string(count) +
            " values, more than MPI counts in one call";
    return false;
  }
  return check(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), type,
                             MPI_SUM, MPI_COMM_WORLD),
               "MPI_Allreduce", error);
}

} // namespace

bool kiln::distributed::sum(int64_t &value, std::string &error) {
  return sumInPlace(&value, 1, MPI_INT64_T, error);
}

bool kiln::distributed::sum(double *values, int64_t count, std::string &error) {
  return sumInPlace(values, count, MPI_DOUBLE, error);
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
