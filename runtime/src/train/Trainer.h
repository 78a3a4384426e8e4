//===- Trainer.h - The training loop --------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_TRAINER_H
#define KILN_RUNTIME_TRAIN_TRAINER_H

#include "train/Evaluate.h"

#include "data/Datasets.h"

#include <cstdint>
#include <string>

namespace kiln::train {

class Executor;
struct Program;
class SlotBuffers;
class Progress;
class MetricsLog;

/// How a run goes, from the recipe and the flags.
struct TrainSettings {
  int64_t epochs = 1;
  /// 0: no limit but the epochs.
  int64_t maxSteps = 0;
  uint64_t seed = 0;
  bool shuffle = true;
  /// 0: off.
  int64_t saveEvery = 0, evalEvery = 0;
  /// Empty: no checkpoints.
  std::string savePath;
};

/// Updates per epoch: the training set in whole batches. The last partial
/// batch is dropped, as the PyTorch reference does (drop_last), so that
/// every update sees a full batch.
int64_t stepsPerEpoch(const Program &program, const data::Dataset &train);

/// Updates in the whole run: every epoch's, or --max-steps if fewer.
int64_t totalSteps(const TrainSettings &settings, int64_t perEpoch);

/// Trains from update `done` + 1 to the end of the run, evaluating after
/// every epoch (and every settings.evalEvery updates), saving after every
/// epoch, every settings.saveEvery updates and at the end, and returns the
/// last evaluation. Update n is the same computation whether or not the run
/// was resumed at `done`: the epoch and the batch follow from n, the order
/// of the examples from (seed, epoch). When the executor runs steps
/// asynchronously, step n is reported after step n + 1 has started.
Evaluation runTraining(Executor &executor, const Program &program,
                       SlotBuffers &buffers, const data::Split &data,
                       const TrainSettings &settings, int64_t done,
                       Progress &progress, MetricsLog &metrics);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_TRAINER_H
