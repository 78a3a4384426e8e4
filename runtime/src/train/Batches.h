//===- Batches.h - Batches read on a background thread --------------------===//
//
// A BatchReader reads a planned sequence of batches from a split on its own
// thread, into a ring of two host batches: while the compiled step runs on
// batch k, batch k + 1 is read, transformed and checked, so that a source
// that decodes images or reads a file larger than memory does not show in
// the step time. Each example's contents are a function of (split, example,
// epoch, seed) alone, so the thread changes no result.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_BATCHES_H
#define KILN_RUNTIME_TRAIN_BATCHES_H

#include "data/Source.h"
#include "data/Transforms.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::train {

/// One batch: the examples it holds, and one buffer per field.
struct Batch {
  /// Indices into the split; `count` of them are real, the rest (padding of
  /// a last evaluation batch) repeat one of them.
  std::vector<int64_t> examples;
  int64_t count = 0;
  /// The epoch it belongs to, counted from 0 (it seeds random transforms).
  int64_t epoch = 0;
  std::vector<std::vector<uint8_t>> fields;
};

/// Which examples batch k holds (0 <= k < batches): fills batch.examples
/// (batch-size entries), batch.count and batch.epoch.
using BatchPlan = std::function<void(int64_t k, Batch &batch)>;

/// Batches of `batch` examples of a split of `size`, in order: the plan of
/// evaluation and prediction. The steps take whole batches, so the last
/// partial one is padded with copies of its first example, which count
/// marks as not real.
BatchPlan inOrder(int64_t size, int64_t batch);

/// Rank `rank`'s part of `plan` in a run of `ranks`: its batch k is batch
/// k * ranks + rank of the plan.
BatchPlan shard(BatchPlan plan, int rank, int ranks);

/// What a reader reads and how.
struct BatchSource {
  const data::Examples &examples;
  const std::vector<data::Field> &fields;
  const std::vector<data::Transform> &transforms;
  /// Random transforms run on training batches only.
  bool training;
  uint64_t seed;
  /// "training" or "test", for messages.
  const char *split;
};

class BatchReader {
public:
  BatchReader(BatchSource source, int64_t batchSize, int64_t batches,
              BatchPlan plan);
  /// Stops the thread, whatever it is reading.
  ~BatchReader();
  BatchReader(const BatchReader &) = delete;
  BatchReader &operator=(const BatchReader &) = delete;

  /// Waits for the next batch, copies its fields to `destinations` (one per
  /// field) and returns it; it stays valid until the next call. Throws
  /// Error when reading it failed, naming the file and the example.
  const Batch &next(const std::vector<void *> &destinations);

  /// The seconds that next() has waited for the thread.
  double waitSeconds() const { return waited; }

private:
  void work();
  /// Reads batch k into `batch`; on failure sets `error`.
  bool read(int64_t k, Batch &batch, std::string &error);

  BatchSource source;
  int64_t batchSize, batches;
  BatchPlan plan;

  static constexpr int kDepth = 2;
  Batch ring[kDepth];
  std::mutex mutex;
  std::condition_variable changed;
  /// Batches read by the thread and taken by next(); the thread stops at
  /// `batches`, on `stopping` or after a failure.
  int64_t produced = 0, consumed = 0;
  bool stopping = false;
  std::string failure;
  int64_t failedAt = -1;
  double waited = 0;
  std::thread thread;
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_BATCHES_H
