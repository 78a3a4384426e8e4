//===- Trainer.h - The training loop --------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_TRAINER_H
#define KILN_RUNTIME_TRAIN_TRAINER_H

#include "train/Evaluate.h"

#include <cstdint>
#include <map>
#include <string>

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

class Executor;
struct Program;
struct RunData;
using program::SlotBuffers;
class Progress;
class MetricsLog;
class Ranks;

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
  /// What the data source says the model's outputs mean (class names, a
  /// vocabulary), kept in every checkpoint.
  std::map<std::string, std::string> dataMetadata;
};

/// How a run went besides its last evaluation.
struct RunResult {
  Evaluation evaluation;
  /// The training steps of this process: their number and wall time, and
  /// the part of it spent waiting for the batch thread.
  int64_t steps = 0;
  double stepSeconds = 0, dataWaitSeconds = 0;
};

/// Updates per epoch over `examples` training examples, each of
/// Recipe::globalBatch examples (all the micro-batches of an update, on
/// every rank). The
/// steps are compiled for full batches, so a last partial batch is dropped
/// (the recipe's drop_last, the default) or completed with the first
/// examples of the epoch's order.
int64_t stepsPerEpoch(const Program &program, int64_t examples);

/// Updates in the whole run: every epoch's, or --max-steps if fewer.
int64_t totalSteps(const TrainSettings &settings, int64_t perEpoch);

/// Trains from update `done` + 1 to the end of the run, evaluating after
/// every epoch (and every settings.evalEvery updates), saving after every
/// epoch, every settings.saveEvery updates and at the end, and returns the
/// last evaluation. Update n is the same computation whether or not the run
/// was resumed at `done`: the epoch and the batch follow from n, the order
/// of the examples from (seed, epoch). Batches are read on a background
/// thread while the previous step runs. When the executor runs steps
/// asynchronously, step n is reported after step n + 1 has started. In a
/// data-parallel run, this rank trains on its share of each batch, and the
/// losses and evaluations reported are those of the whole run.
RunResult runTraining(Executor &executor, const Program &program,
                      SlotBuffers &buffers, const RunData &data,
                      const TrainSettings &settings, int64_t done,
                      Progress &progress, MetricsLog &metrics,
                      const Ranks &ranks);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_TRAINER_H
