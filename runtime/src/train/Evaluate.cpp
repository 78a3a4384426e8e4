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

#include <algorithm>

using namespace kiln;
using namespace kiln::train;

Evaluation kiln::train::evaluate(Executor &executor, const Program &program,
                                 SlotBuffers &buffers, const RunData &data) {
  int64_t batch = program.recipe.batchSize, size = data.test().size();
  std::vector<void *> inputs = executor.inputs();
  size_t labelField = 0;
  if (program.labels)
    labelField = std::find(program.inputs.begin(), program.inputs.end(),
                           *program.labels) -
                 program.inputs.begin();

  BatchReader reader({data.test(), data.fields, data.transforms,
                      /*training=*/false, /*seed=*/0, "test"},
                     batch, (size + batch - 1) / batch, inOrder(size, batch));
  Evaluation result;
  result.hasAccuracy = program.correct.has_value();
  result.positions = program.positions;
  for (int64_t begin = 0; begin < size; begin += batch) {
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
  return result;
}
