//===- Batches.cpp - Batches read on a background thread ------------------===//
//
// The ring has two slots: the one next() handed out last, which the caller
// may still read, and the one the thread fills. Batch k goes to slot k % 2,
// which held batch k - 2: the thread may fill it once next() has handed out
// batch k - 1 (consumed >= k), since that call ended the caller's use of
// batch k - 2. So one batch is read ahead, while the step of the last runs.
//
//===----------------------------------------------------------------------===//

#include "train/Batches.h"
#include "train/Error.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <numeric>

using namespace kiln;
using namespace kiln::train;

BatchPlan kiln::train::inOrder(int64_t size, int64_t batch) {
  return [size, batch](int64_t k, Batch &planned) {
    int64_t begin = k * batch;
    planned.count = std::min(batch, size - begin);
    planned.epoch = 0;
    planned.examples.assign(batch, begin);
    std::iota(planned.examples.begin(),
              planned.examples.begin() + planned.count, begin);
  };
}

BatchPlan kiln::train::shard(BatchPlan plan, int rank, int ranks) {
  return [plan = std::move(plan), rank, ranks](int64_t k, Batch &planned) {
    plan(k * ranks + rank, planned);
  };
}

BatchReader::BatchReader(BatchSource source, int64_t batchSize,
                         int64_t batches, BatchPlan plan)
    : source(source), batchSize(batchSize), batches(batches),
      plan(std::move(plan)) {
  for (Batch &batch : ring)
    for (const data::Field &field : source.fields)
      batch.fields.emplace_back(field.numBytes() * batchSize);
  thread = std::thread([this] { work(); });
}

BatchReader::~BatchReader() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  changed.notify_all();
  thread.join();
}

void BatchReader::work() {
  for (int64_t k = 0; k < batches; ++k) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      changed.wait(lock, [&] { return stopping || consumed >= k; });
      if (stopping)
        return;
    }
    std::string error;
    bool ok = read(k, ring[k % kDepth], error);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!ok) {
        failure = std::move(error);
        failedAt = k;
      } else {
        produced = k + 1;
      }
    }
    changed.notify_all();
    if (!ok)
      return;
  }
}

bool BatchReader::read(int64_t k, Batch &batch, std::string &error) {
  plan(k, batch);
  assert(static_cast<int64_t>(batch.examples.size()) == batchSize &&
         "a plan fills every row of the batch");
  const std::vector<data::Field> &fields = source.fields;
  std::vector<void *> rows(fields.size());
  for (int64_t row = 0; row < batchSize; ++row) {
    int64_t example = batch.examples[row];
    for (size_t f = 0; f < fields.size(); ++f)
      rows[f] = batch.fields[f].data() + row * fields[f].numBytes();
    if (!source.examples.read(example, rows.data(), error))
      return false;
    data::applyTransforms(source.transforms, fields, rows.data(),
                          source.training, source.seed, batch.epoch, example);
    // The guarantee that no step indexes past a one-hot row or an
    // embedding, whatever the source: every i64 value in its input's range,
    // or the label that the loss ignores.
    for (size_t f = 0; f < fields.size(); ++f) {
      const data::Field &field = fields[f];
      if (field.dtype != io::DType::I64 || field.range == 0)
        continue;
      const auto *values = static_cast<const int64_t *>(rows[f]);
      for (int64_t i = 0; i < field.numElements(); ++i) {
        if ((values[i] >= 0 && values[i] < field.range) ||
            values[i] == field.ignoreIndex)
          continue;
        error =
            std::string(source.split) + " example " + std::to_string(example) +
            " holds " + std::to_string(values[i]) + " in input '" + field.name +
            "', outside [0, " + std::to_string(field.range) +
            "), the range the model gives it" +
            (field.ignoreIndex ? " (or " + std::to_string(*field.ignoreIndex) +
                                     ", the ignored label)"
                               : "") +
            "; the data does not fit the "
            "model (e.g. more classes than its output has): give the "
            "model sizes that fit the data";
        return false;
      }
    }
  }
  return true;
}

const Batch &BatchReader::next(const std::vector<void *> &destinations) {
  assert(consumed < batches && "no batch is read past the plan");
  int64_t k = consumed;
  auto begin = std::chrono::steady_clock::now();
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return produced > k || failedAt == k; });
    if (failedAt == k)
      throw Error(failure);
  }
  waited += std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                          begin)
                .count();
  const Batch &batch = ring[k % kDepth];
  for (size_t f = 0; f < batch.fields.size(); ++f)
    std::memcpy(destinations[f], batch.fields[f].data(),
                batch.fields[f].size());
  {
    std::lock_guard<std::mutex> lock(mutex);
    consumed = k + 1;
  }
  changed.notify_all();
  return batch;
}
