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
#include "train/Executor.h"
#include "train/Program.h"

#include <algorithm>
#include <numeric>

using namespace kiln;
using namespace kiln::train;

Evaluation kiln::train::evaluate(Executor &executor, const Program &program,
                                 SlotBuffers &buffers,
                                 const data::Dataset &test) {
  int64_t batch = program.recipe.batchSize, size = test.size();
  std::vector<void *> inputs = executor.inputs();
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), 0);

  Evaluation result;
  result.hasAccuracy = program.correct.has_value();
  for (int64_t begin = 0; begin < size; begin += batch) {
    int64_t count = std::min(batch, size - begin);
    if (count == batch) {
      data::gatherBatch(test, order, begin, batch, inputs);
    } else {
      std::vector<int64_t> padded(static_cast<size_t>(batch), begin);
      std::iota(padded.begin(), padded.begin() + count, begin);
      data::gatherBatch(test, padded, 0, batch, inputs);
    }
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
    size_t labelField = std::find(program.inputs.begin(), program.inputs.end(),
                                  *program.labels) -
                        program.inputs.begin();
    const io::TensorData &labels = test.fields[labelField];
    for (int64_t i = 0; i < count; ++i)
      result.correct += predictions[i] == labels.data<int64_t>()[begin + i];
  }
  return result;
}
