//===- Trainer.cpp - The training loop ------------------------------------===//
//
// Everything an update computes is a function of its number: the epoch and
// the batch's place in it follow from the step and the steps per epoch, the
// order of the examples from (seed, epoch), and the program draws dropout
// masks from the step slot. A run resumed from the checkpoint of update n
// therefore repeats update n + 1 of the uninterrupted run bit for bit.
//
//===----------------------------------------------------------------------===//

#include "train/Trainer.h"
#include "train/Batches.h"
#include "train/Checkpoint.h"
#include "train/Data.h"
#include "train/Executor.h"
#include "train/Program.h"
#include "train/Progress.h"
#include "train/Ranks.h"

#include "data/Datasets.h"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>

using namespace kiln;
using namespace kiln::train;

namespace {

using Clock = std::chrono::steady_clock;

/// The examples of this rank's training batches from update `first` on:
/// batch k is update first + k, its epoch and place in the epoch follow from
/// that number, and the order of the epoch from (seed, epoch). Of each
/// global batch, rank r takes the r-th share of `batch` examples. Runs on
/// the batch thread, which alone touches the cached order.
BatchPlan trainingPlan(int64_t size, int64_t batch, int64_t perEpoch,
                       const TrainSettings &settings, int64_t first, int rank,
                       int ranks) {
  struct Cached {
    int64_t epoch = -1;
    std::vector<int64_t> order;
  };
  auto cached = std::make_shared<Cached>();
  uint64_t seed = settings.seed;
  bool shuffle = settings.shuffle;
  return [=](int64_t k, Batch &planned) {
    int64_t step = first + k;
    int64_t epoch = (step - 1) / perEpoch, index = (step - 1) % perEpoch;
    if (cached->epoch != epoch) {
      cached->order = data::epochOrder(size, seed, epoch, shuffle);
      cached->epoch = epoch;
    }
    planned.epoch = epoch;
    planned.count = batch;
    planned.examples.resize(batch);
    // Past the end only when drop_last is off: the epoch's first examples
    // complete its last batch.
    int64_t begin = (index * ranks + rank) * batch;
    for (int64_t i = 0; i < batch; ++i)
      planned.examples[i] = cached->order[(begin + i) % size];
  };
}

class Loop {
public:
  Loop(Executor &executor, const Program &program, SlotBuffers &buffers,
       const RunData &data, const TrainSettings &settings, Progress &progress,
       MetricsLog &metrics, const Ranks &ranks)
      : executor(executor), program(program), buffers(buffers), data(data),
        settings(settings), progress(progress), metrics(metrics), ranks(ranks),
        perEpoch(stepsPerEpoch(program, data.train().size())),
        total(totalSteps(settings, perEpoch)) {}

  RunResult run(int64_t done);

private:
  void trainStep(int64_t step, int64_t epoch);
  /// Reports the oldest started step once it has finished.
  void report();
  /// Reports every started step.
  void drain();
  /// The evaluation after update `step`, or null when the test set is
  /// empty.
  const Evaluation *evaluateAt(int64_t epoch, int64_t step);
  void saveAt(int64_t step);

  Executor &executor;
  const Program &program;
  SlotBuffers &buffers;
  const RunData &data;
  const TrainSettings &settings;
  Progress &progress;
  MetricsLog &metrics;
  const Ranks &ranks;
  int64_t perEpoch, total;
  /// Started steps not reported yet, with their epoch and start time.
  struct Started {
    int64_t step, epoch;
    Clock::time_point begin;
  };
  std::deque<Started> started;
  Clock::time_point lastReport;
  /// The update of the last evaluation and of the last save, so that an
  /// epoch's end that is also an --eval-every or --save-every step does each
  /// once.
  int64_t evaluated = -1, saved = -1;
  Evaluation latest;
  std::optional<BatchReader> reader;
  RunResult result;
};

RunResult Loop::run(int64_t done) {
  *buffers.get<int64_t>(program.totalSteps) = total;
  executor.upload();
  int64_t batch = program.recipe.updateBatch();
  reader.emplace(BatchSource{data.train(), data.fields, data.transforms,
                             /*training=*/true, settings.seed, "training"},
                 batch, total - done,
                 trainingPlan(data.train().size(), batch, perEpoch, settings,
                              done + 1, ranks.rank(), ranks.size()));
  int64_t step = done;
  while (step < total) {
    int64_t epoch = step / perEpoch + 1;
    progress.beginEpoch();
    for (;;) {
      trainStep(++step, epoch);
      // The end of the epoch or of the run evaluates and saves below.
      if (step % perEpoch == 0 || step == total)
        break;
      bool saveNow = settings.saveEvery && step % settings.saveEvery == 0;
      bool evaluateNow = settings.evalEvery && step % settings.evalEvery == 0;
      if (saveNow || evaluateNow)
        drain();
      if (saveNow)
        saveAt(step);
      if (evaluateNow)
        if (const Evaluation *evaluation = evaluateAt(epoch, step))
          progress.evaluation(step, *evaluation);
    }
    drain();
    const Evaluation *evaluation = evaluateAt(epoch, step);
    saveAt(step);
    progress.endEpoch(epoch, step, step % perEpoch == 0, evaluation);
  }
  // A run resumed from its own last checkpoint has nothing left to train,
  // but still reports where it ended.
  evaluateAt((step - 1) / perEpoch + 1, step);
  saveAt(step);
  result.evaluation = latest;
  result.dataWaitSeconds = reader->waitSeconds();
  return result;
}

void Loop::trainStep(int64_t step, int64_t epoch) {
  Clock::time_point begin = Clock::now();
  reader->next(executor.inputs());
  executor.startTrain(step);
  started.push_back({step, epoch, begin});
  while (static_cast<int>(started.size()) >= executor.depth())
    report();
}

void Loop::report() {
  StepOutputs outputs = executor.finishTrain();
  // Each rank's loss is the mean over its share; theirs is the batch's.
  if (ranks.size() > 1)
    outputs.loss = ranks.mean(outputs.loss);
  Started oldest = started.front();
  started.pop_front();
  // Steps that overlap take the time between their ends; a step after a
  // pause (an evaluation, a checkpoint) the time since it began.
  Clock::time_point end = Clock::now();
  std::chrono::duration<double> seconds =
      end - std::max(oldest.begin, lastReport);
  lastReport = end;
  ++result.steps;
  result.stepSeconds += seconds.count();
  metrics.step(oldest.step, oldest.epoch, outputs.loss, outputs.lr);
  progress.step(oldest.step, oldest.epoch, outputs.loss, seconds.count());
}

void Loop::drain() {
  while (!started.empty())
    report();
}

const Evaluation *Loop::evaluateAt(int64_t epoch, int64_t step) {
  if (data.test().size() == 0)
    return nullptr;
  if (evaluated == step)
    return &latest;
  latest = evaluate(executor, program, buffers, data, ranks);
  evaluated = step;
  metrics.evaluation(epoch, step, latest);
  return &latest;
}

void Loop::saveAt(int64_t step) {
  if (settings.savePath.empty() || saved == step)
    return;
  executor.download();
  saveCheckpoint(settings.savePath, program, buffers,
                 {step, settings.seed, settings.shuffle, settings.dataMetadata});
  saved = step;
}

} // namespace

int64_t kiln::train::stepsPerEpoch(const Program &program, int64_t examples) {
  int64_t batch = program.recipe.globalBatch();
  return program.recipe.dropLast ? examples / batch
                                 : (examples + batch - 1) / batch;
}

int64_t kiln::train::totalSteps(const TrainSettings &settings,
                                int64_t perEpoch) {
  int64_t total;
  if (__builtin_mul_overflow(settings.epochs, perEpoch, &total))
    total = INT64_MAX;
  return settings.maxSteps && settings.maxSteps < total ? settings.maxSteps
                                                        : total;
}

RunResult kiln::train::runTraining(Executor &executor, const Program &program,
                                   SlotBuffers &buffers, const RunData &data,
                                   const TrainSettings &settings, int64_t done,
                                   Progress &progress, MetricsLog &metrics,
                                   const Ranks &ranks) {
  return Loop(executor, program, buffers, data, settings, progress, metrics,
              ranks)
      .run(done);
}
