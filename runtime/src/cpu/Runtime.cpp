//===- Runtime.cpp - Threads and kiln_rt_parallel_for ---------------------===//
//
// oneDNN runs its primitives on GNU OpenMP (libgomp). Generated elementwise
// kernels must run on the same thread pool: two pools would fight over the
// cores, each spinning while the other works. Clang's OpenMP code generation
// targets LLVM's libomp (__kmpc_* entry points), and `-fopenmp=libgomp` only
// links libgomp while ignoring the pragmas, so this file calls GOMP_parallel,
// the entry point of libgomp's ABI that GCC compiles `#pragma omp parallel`
// to, directly.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"

#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

// libgomp's ABI (GCC's omp.h is not on clang's include path).
extern "C" {
void GOMP_parallel(void (*fn)(void *), void *data, unsigned numThreads,
                   unsigned flags);
int omp_get_max_threads(void);
int omp_get_num_threads(void);
int omp_get_thread_num(void);
int omp_in_parallel(void);
void omp_set_num_threads(int count);
int omp_get_num_procs(void);
}

using namespace kiln::cpu;

namespace {

/// Below this many iterations a loop runs on the calling thread. The count
/// may be rows as well as elements, so it stays small: waking the pool costs
/// a few microseconds, less than most bodies over 64 rows.
constexpr int64_t kSerialBelow = 64;

struct ParallelLoop {
  void (*body)(void *context, int64_t begin, int64_t end);
  void *context;
  int64_t count;
};

/// One thread's contiguous share of the loop: the first `count % threads`
/// threads take one iteration more.
void runShare(void *data) {
  const auto &loop = *static_cast<const ParallelLoop *>(data);
  int64_t threads = omp_get_num_threads();
  int64_t thread = omp_get_thread_num();
  int64_t base = loop.count / threads, extra = loop.count % threads;
  int64_t begin = thread * base + std::min(thread, extra);
  int64_t end = begin + base + (thread < extra ? 1 : 0);
  if (begin < end)
    loop.body(loop.context, begin, end);
}

} // namespace

int kiln::cpu::getNumThreads() { return omp_get_max_threads(); }

std::optional<int> kiln::cpu::coresOfQuota(const std::string &cpuMax) {
  std::istringstream fields(cpuMax);
  std::string quota;
  double period = 0;
  if (!(fields >> quota >> period) || quota == "max" || !(period > 0))
    return std::nullopt;
  char *end = nullptr;
  double microseconds = std::strtod(quota.c_str(), &end);
  if (end == quota.c_str() || *end || !(microseconds > 0))
    return std::nullopt;
  return std::max(1, static_cast<int>(std::ceil(microseconds / period)));
}

namespace {

/// The cgroup v2 CPU quota of this process ("QUOTA PERIOD" or "max PERIOD"
/// in its cgroup's cpu.max), in cores; none without one.
std::optional<int> cgroupQuotaCores() {
  std::ifstream membership("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(membership, line))
    if (line.rfind("0::", 0) == 0)
      path = line.substr(3);
  for (const std::string &file : {"/sys/fs/cgroup" + path + "/cpu.max",
                                  std::string("/sys/fs/cgroup/cpu.max")}) {
    std::ifstream in(file);
    std::string text;
    if (in && std::getline(in, text))
      return coresOfQuota(text);
  }
  return std::nullopt;
}

} // namespace

int kiln::cpu::usableCores() {
  // libgomp counts the cores of the process's affinity mask.
  int cores = omp_get_num_procs();
  if (std::optional<int> quota = cgroupQuotaCores())
    cores = std::min(cores, *quota);
  return std::max(cores, 1);
}

kiln::cpu::ScopedThreads::ScopedThreads(int threads)
    : previous(omp_get_max_threads()) {
  kiln_rt_set_threads(threads);
}

kiln::cpu::ScopedThreads::~ScopedThreads() { omp_set_num_threads(previous); }

void kiln::cpu::fatal(const std::string &message, const std::string &hint) {
  throw Failure{message, hint};
}

// oneDNN reads the count of the calling thread when it creates and runs
// primitives, and so does kiln_rt_parallel_for.
extern "C" void kiln_rt_set_threads(int32_t threads) {
  omp_set_num_threads(threads > 0 ? threads : usableCores());
}

extern "C" void kiln_rt_parallel_for(void (*body)(void *context, int64_t begin,
                                                  int64_t end),
                                     void *context, int64_t count) {
  if (count <= 0)
    return;
  int64_t threads = std::min<int64_t>(omp_get_max_threads(), count);
  // Nested calls run serially: the pool is already busy.
  if (count < kSerialBelow || threads < 2 || omp_in_parallel()) {
    body(context, 0, count);
    return;
  }
  ParallelLoop loop{body, context, count};
  GOMP_parallel(runShare, &loop, static_cast<unsigned>(threads), 0);
}
