//===- EvaluateTest.cpp - Loss and accuracy over a whole test set ---------===//
//
// The small program has batch 4: a test set of 10 examples is two full
// batches and a partial one of 2, padded with copies of example 8.
//
//===----------------------------------------------------------------------===//

#include "TrainTesting.h"

#include "train/Data.h"
#include "train/Evaluate.h"
#include "train/Executor.h"
#include "train/Ranks.h"

#include <cmath>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

/// Weights that make the prediction of an example the index of its largest
/// feature, and a test set of `size` examples whose labels are right for
/// the even examples and wrong for the odd ones.
struct Fixture {
  Program program = smallParsed();
  SlotBuffers buffers{program};
  HostExecutor executor{smallProgram(), program, buffers};
  RunData data;

  explicit Fixture(int64_t size) {
    float *weight = buffers.get<float>(program.params[0]);
    for (int c = 0; c < 3; ++c)
      weight[c * 3 + c] = 1;
    io::TensorData x = io::TensorData::zeros(io::DType::F32, {size, 3});
    io::TensorData labels = io::TensorData::zeros(io::DType::I64, {size});
    for (int64_t i = 0; i < size; ++i) {
      int64_t hot = i % 3;
      x.data<float>()[i * 3 + hot] = 2;
      labels.data<int64_t>()[i] = i % 2 ? (hot + 1) % 3 : hot;
    }
    data.source.test = std::make_unique<data::TensorExamples>(
        std::vector<io::TensorData>{x, labels});
    data.fields = inputFields(program);
  }

  /// The loss of example i: cross-entropy of logits with 2 at `hot`.
  static double loss(int64_t i) {
    double right = -std::log(std::exp(2.0) / (std::exp(2.0) + 2));
    double wrong = -std::log(1 / (std::exp(2.0) + 2));
    return i % 2 ? wrong : right;
  }
};

TEST(EvaluateTest, PartialLastBatchCountsEachExampleOnce) {
  Fixture fixture(10);
  Evaluation result = evaluate(fixture.executor, fixture.program,
                               fixture.buffers, fixture.data, Ranks());
  EXPECT_EQ(result.examples, 10);
  // Examples 0, 2, 4, 6, 8 are right. The padded batch is examples 8, 9 and
  // two copies of 8: its "correct" output would say 3, the truth is 1.
  EXPECT_EQ(result.correct, 5);
  EXPECT_DOUBLE_EQ(result.accuracy(), 0.5);
  EXPECT_TRUE(result.hasAccuracy);

  // The full batches' losses exactly; the padded batch's mean, counted for
  // its 2 real examples.
  double expected = 0;
  for (int64_t i = 0; i < 8; ++i)
    expected += Fixture::loss(i);
  expected += 2 * (3 * Fixture::loss(8) + Fixture::loss(9)) / 4;
  EXPECT_NEAR(result.lossSum, expected, 1e-5);
  EXPECT_NEAR(result.loss(), expected / 10, 1e-6);
}

TEST(EvaluateTest, WholeBatchesOnly) {
  Fixture fixture(8);
  Evaluation result = evaluate(fixture.executor, fixture.program,
                               fixture.buffers, fixture.data, Ranks());
  EXPECT_EQ(result.examples, 8);
  EXPECT_EQ(result.correct, 4);
  double expected = 0;
  for (int64_t i = 0; i < 8; ++i)
    expected += Fixture::loss(i);
  EXPECT_NEAR(result.lossSum, expected, 1e-5);
}

TEST(EvaluateTest, SmallerThanOneBatch) {
  Fixture fixture(3);
  Evaluation result = evaluate(fixture.executor, fixture.program,
                               fixture.buffers, fixture.data, Ranks());
  EXPECT_EQ(result.examples, 3);
  EXPECT_EQ(result.correct, 2);
}

TEST(EvaluateTest, EmptyTestSet) {
  Fixture fixture(0);
  Evaluation result = evaluate(fixture.executor, fixture.program,
                               fixture.buffers, fixture.data, Ranks());
  EXPECT_EQ(result.examples, 0);
  EXPECT_EQ(result.accuracy(), 0);
  EXPECT_EQ(result.loss(), 0);
}

} // namespace
