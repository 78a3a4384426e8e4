//===- Program.h - A trainer's program: its description and recipe -------===//
//
// kilnc describes the program it compiles in JSON (see kiln_runtime.h): the
// recipe, one slot per buffer that the steps take, and the steps. Program is
// the description (program/Description.h) with the recipe, checked once at
// start so that the rest of the trainer can trust it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_PROGRAM_H
#define KILN_RUNTIME_TRAIN_PROGRAM_H

#include "data/Source.h"
#include "data/Transforms.h"
#include "program/Description.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

using program::Description;
using program::Distribution;
using program::ElementType;
using program::elementSize;
using program::elementTypeName;
using program::formatShape;
using program::fromDType;
using program::Role;
using program::roleName;
using program::Slot;
using program::SlotBuffers;
using program::Target;
using program::toDType;

/// The recipe's data source: its name and arguments, as kilnc wrote them
/// (every default filled in), for the loader registered under that name.
struct DataSource {
  /// "fashion_mnist", "csv", ...
  std::string kind;
  data::Arguments args;
  /// The source as the recipe writes it, for --help.
  std::string summary;
};

struct Recipe {
  /// The batch of the evaluation and prediction steps, and the micro-batch
  /// of the training step.
  int64_t batchSize = 0;
  /// Micro-batches per update: the training step takes batchSize *
  /// accumulate examples and updates once with their mean gradient.
  int64_t accumulate = 1;
  /// The processes of a data-parallel run that the program was compiled
  /// for (kilnc --ranks): each trains on updateBatch() examples of every
  /// update.
  int64_t ranks = 1;
  int64_t epochs = 1;
  uint64_t seed = 0;
  DataSource data;
  /// The image transforms, in the order written, by input index.
  std::vector<data::Transform> transforms;
  /// Drop the last partial batch of each epoch, or complete it with the
  /// epoch's first examples.
  bool dropLast = true;
  /// How --help shows the rest, e.g. "sgd(lr: 0.01, momentum: 0.9)"; empty
  /// when the description has none.
  std::string optimizer, schedule, clipGradNorm, metric;
  /// "bf16" for mixed precision (kiln-autocast); empty for float32.
  std::string precision;

  /// The examples of one training step on one rank.
  int64_t updateBatch() const { return batchSize * accumulate; }
  /// The examples of one update over all ranks: the recipe's batch_size
  /// times accumulate.
  int64_t globalBatch() const { return updateBatch() * ranks; }
};

/// A checked description of a trainer: it has the three steps, the roles the
/// trainer needs are there once, inputs lead with the training step's
/// batch (Recipe::updateBatch; the other steps read the first batchSize
/// rows) and per-example outputs with the batch size.
struct Program : Description {
  Recipe recipe;

  /// Slot indices by role, in slot order (the parameters are
  /// Description::params).
  std::vector<size_t> state, inputs;
  size_t step = 0, totalSteps = 0, loss = 0, lr = 0;
  std::optional<size_t> arena;
  /// Present when the recipe has a metric.
  std::optional<size_t> correct, predictions;
  /// The input that predictions are scored against when there is a metric:
  /// the last i64 input of the predictions' shape (the labels, which every
  /// data source gives last).
  std::optional<size_t> labels;
  /// Predictions per example: 1, or the positions of a sequence model.
  int64_t positions = 1;
  /// The prediction step's inputs (those the forward reads) and outputs
  /// (the model's), in its order.
  std::vector<size_t> predictInputs, predictOutputs;

  /// Parses and checks `description`; throws Error naming the first problem.
  static Program parse(const std::string &description);
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_PROGRAM_H
