//===- Evaluate.h - Loss and accuracy over a whole test set ---------------===//

#ifndef KILN_RUNTIME_TRAIN_EVALUATE_H
#define KILN_RUNTIME_TRAIN_EVALUATE_H

#include <cstdint>

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

class Executor;
struct Program;
using program::SlotBuffers;
struct RunData;
class Ranks;

/// The result of one pass over the test set.
struct Evaluation {
  int64_t examples = 0;
  /// Predictions per example: 1, or a sequence model's positions.
  int64_t positions = 1;
  /// Correct predictions; meaningful when the program has a metric.
  int64_t correct = 0;
  /// The sum of the examples' losses.
  double lossSum = 0;
  bool hasAccuracy = false;

  int64_t predictions() const { return examples * positions; }
  double accuracy() const {
    return examples ? static_cast<double>(correct) / predictions() : 0;
  }
  double loss() const { return examples ? lossSum / examples : 0; }
};

/// Runs the evaluation step over every example of the test split, in order,
/// in batches of the batch size (read on a background thread, with the
/// recipe's transforms less the random ones). The examples of a last,
/// partial batch are scored one by one from the "predictions" output, so
/// that accuracy counts every test example exactly once. In a data-parallel
/// run, rank r evaluates batches r, r + N, ... and the counts and sums are
/// added over the ranks, so every rank returns the whole test set's result.
Evaluation evaluate(Executor &executor, const Program &program,
                    SlotBuffers &buffers, const RunData &data,
                    const Ranks &ranks);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_EVALUATE_H
