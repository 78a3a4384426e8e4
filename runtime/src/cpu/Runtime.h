//===- Runtime.h - Threads, call site tables and errors of the CPU runtime ===//
//
// What the CPU runtime offers C++ code besides the C interface of
// kiln_runtime.h: its thread count (which kiln_rt_set_threads sets), the
// tables of call sites that kiln_rt_create and kiln_rt_execute work on, and
// the one way it reports an error it cannot recover from.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CPU_RUNTIME_H
#define KILN_RUNTIME_CPU_RUNTIME_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace kiln::cpu {

/// The number of threads the runtime runs on.
int getNumThreads();

/// The cores this process may use: those of its CPU affinity, at most its
/// cgroup's CPU quota rounded up (a container limited to 1.5 CPUs gets 2).
/// More threads than that spin for cores they cannot get.
int usableCores();

/// The cores of a cgroup v2 cpu.max text ("150000 100000": 2), none for
/// "max ..." or text it cannot read.
std::optional<int> coresOfQuota(const std::string &cpuMax);

/// How all-reduce sites average floats over the ranks of a data-parallel
/// run, without waiting: `start` begins replacing `count` floats by their
/// means and gives a handle; `finish` waits until it has; `progress` lets
/// the started averages advance (MPI moves data only inside its calls).
/// Synchronized batch normalizations add their per-channel sums over the
/// ranks with `sum`, waiting. `start`, `finish` and `sum` return false with
/// `error` set when they fail.
struct Averager {
  bool (*start)(float *data, int64_t count, int64_t &handle,
                std::string &error);
  bool (*finish)(int64_t handle, std::string &error);
  void (*progress)();
  bool (*sum)(double *data, int64_t count, std::string &error);
};

/// Sets what all-reduce sites average with: the trainer of a data-parallel
/// run sets it; without one (null, a run of one process) an average leaves
/// the floats as they are.
void setAverager(const Averager *averager);

/// Starts averaging the `count` floats at `data` with the averager set; they
/// must stay untouched until finishAverage(handle) returns.
bool startAverage(float *data, int64_t count, int64_t &handle,
                  std::string &error);
bool finishAverage(int64_t handle, std::string &error);
/// Lets the started averages advance; every site's execution calls it.
void progressAverages();
/// Replaces the `count` doubles at `data` by their sums over the ranks with
/// the averager set; fails, with `error` set, without one: a site that
/// synchronizes runs only in a data-parallel run.
bool sumOverRanks(double *data, int64_t count, std::string &error);

/// The seconds that all-reduce sites have spent averaging since the process
/// started: packing and starting, and waiting for the other ranks to reach
/// the same bucket.
double reductionSeconds();

/// The channels of a block in the blocked layout of kiln_runtime.h for a
/// tensor of `channels` channels: 16 on a CPU with AVX-512 when they are a
/// multiple of 16, else 8, as oneDNN's fastest kernels want them.
int64_t blockedChannels(int64_t channels);

/// Sets the calling thread's thread count for the runtime (0: one per core)
/// and restores the previous one when it goes out of scope: an inference
/// library must not change the OpenMP settings of the application's threads.
class ScopedThreads {
public:
  explicit ScopedThreads(int threads);
  ~ScopedThreads();
  ScopedThreads(const ScopedThreads &) = delete;
  ScopedThreads &operator=(const ScopedThreads &) = delete;

private:
  int previous;
};

/// An error of a call site that the runtime cannot recover from: a
/// configuration that this runtime cannot run, oneDNN failing, memory
/// running out.
struct Failure {
  std::string message;
  /// What to do next.
  std::string hint;
};

/// Throws Failure. The C interface catches it and hands it to the current
/// site table, which ends the process or keeps it.
[[noreturn]] void fatal(const std::string &message, const std::string &hint);

/// The call sites of one instance of a compiled program, which its init
/// creates and its steps execute. A trainer uses the process's table; an
/// inference library gives each loaded model its own, so that separate
/// models run on separate threads without sharing a site's buffers.
class SiteTable {
public:
  enum class OnFailure {
    /// Print "kiln: error: ..." and "kiln: note: ..." to stderr and exit
    /// with status 1: a trainer has nothing better to do.
    Exit,
    /// Keep the first failure, and make every later call on the table do
    /// nothing, so that the caller reports it once the step returns.
    Keep
  };

  explicit SiteTable(OnFailure onFailure);
  ~SiteTable();
  SiteTable(const SiteTable &) = delete;
  SiteTable &operator=(const SiteTable &) = delete;

  /// The kept failure, if any.
  const std::optional<Failure> &failure() const { return kept; }
  /// Handles a failure of one of its sites, as OnFailure says.
  void fail(const Failure &failure);

  /// The sites (Sites.cpp).
  struct Entries;
  Entries &entries() { return *sites; }

private:
  OnFailure onFailure;
  std::unique_ptr<Entries> sites;
  std::optional<Failure> kept;
};

/// The table that the calling thread's kiln_rt_create and kiln_rt_execute
/// use: the process's own (which exits on failure) unless a
/// ScopedSiteTable is active on the thread.
SiteTable &currentSiteTable();

/// Makes `table` the calling thread's current table for its lifetime.
class ScopedSiteTable {
public:
  explicit ScopedSiteTable(SiteTable &table);
  ~ScopedSiteTable();
  ScopedSiteTable(const ScopedSiteTable &) = delete;
  ScopedSiteTable &operator=(const ScopedSiteTable &) = delete;

private:
  SiteTable *previous;
};

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_RUNTIME_H
