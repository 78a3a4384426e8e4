//===- Evaluate.cpp - Loss and accuracy over a whole test set -------------===//
//
// The steps are compiled for one batch size, so a test set that is not a
// multiple of it ends with a batch padded with copies of its own first
// example. The padding must not count: the "predictions" output gives the
// class of each example, and only the real ones are compared with their
// labels.
//
//===----------------------------------------------------------------------===//

#include "train/Evaluate.h"
#include "train/Batches.h"
#include "train/Data.h"
#include "train/Executor.h"
#include "train/Program.h"
#include "train/Ranks.h"

#include <algorithm>

using namespace kiln;
using namespace kiln::train;

Evaluation kiln::train::evaluate(Executor &executor, const Program &program,
                                 SlotBuffers &buffers, const RunData &data,
                                 const Ranks &ranks) {
  int64_t batch = program.recipe.batchSize, size = data.test().size();
  // Rank r evaluates batches r, r + N, ...; the counts are summed after.
  int64_t batches = (size + batch - 1) / batch;
  int64_t mine =
      std::max<int64_t>(0, batches - ranks.rank() + ranks.size() - 1) /
      ranks.size();
  std::vector<void *> inputs = executor.inputs();
  size_t labelField = 0;
  if (program.labels)
    labelField = std::find(program.inputs.begin(), program.inputs.end(),
                           *program.labels) -
                 program.inputs.begin();

  BatchReader reader({data.test(), data.fields, data.transforms,
                      /*training=*/false, /*seed=*/0, "test"},
                     batch, mine,
                     shard(inOrder(size, batch), ranks.rank(), ranks.size()));
  Evaluation result;
  result.hasAccuracy = program.correct.has_value();
  result.positions = program.positions;
  for (int64_t k = 0; k < mine; ++k) {
    const Batch &read = reader.next(inputs);
    int64_t count = read.count;
    executor.evaluate();

    // The loss output is the batch's mean. For the padded batch that mean
    // includes the copies of its first example; without a per-example loss
    // output it stands in for the mean of the real examples, an
    // approximation confined to that one batch.
    result.lossSum += static_cast<double>(*buffers.get<float>(program.loss)) *
                      static_cast<double>(count);
    result.examples += count;
    if (!result.hasAccuracy)
      continue;
    if (count == batch) {
      result.correct += *buffers.get<int64_t>(*program.correct);
      continue;
    }
    const int64_t *predictions = buffers.get<int64_t>(*program.predictions);
    const auto *labels =
        reinterpret_cast<const int64_t *>(read.fields[labelField].data());
    for (int64_t i = 0; i < count * program.positions; ++i)
      result.correct += predictions[i] == labels[i];
  }
  if (ranks.size() > 1) {
    result.examples = ranks.sum(result.examples);
    result.correct = ranks.sum(result.correct);
    result.lossSum = ranks.sum(result.lossSum);
  }
  return result;
}
