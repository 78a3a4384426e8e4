//===- BatchesTest.cpp - Batches read on a background thread --------------===//

#include "TrainTesting.h"

#include "train/Batches.h"

#include <atomic>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

/// Example i is x = {i, -i} and label i % 3; reading example `failAt`
/// fails.
class Counting : public data::Examples {
public:
  explicit Counting(int64_t size, int64_t failAt = -1)
      : count(size), failAt(failAt) {}
  int64_t size() const override { return count; }
  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    ++reads;
    if (index == failAt) {
      error = "data.bin: byte 12: example " + std::to_string(index) +
              " is damaged";
      return false;
    }
    auto *x = static_cast<float *>(rows[0]);
    x[0] = static_cast<float>(index);
    x[1] = -static_cast<float>(index);
    *static_cast<int64_t *>(rows[1]) = index % 3;
    return true;
  }
  mutable std::atomic<int64_t> reads{0};

private:
  int64_t count, failAt;
};

const std::vector<data::Field> kFields = {
    {"x", io::DType::F32, {2}, 0}, {"label", io::DType::I64, {}, 3}};
const std::vector<data::Transform> kNone;

/// Batch k of 2 is examples 2k + 1 and 2k, of epoch k.
void reversedPairs(int64_t k, Batch &batch) {
  batch.examples = {2 * k + 1, 2 * k};
  batch.count = 2;
  batch.epoch = k;
}

TEST(BatchesTest, ReadsThePlanInOrder) {
  Counting examples(10);
  BatchReader reader({examples, kFields, kNone, true, 0, "training"}, 2, 5,
                     reversedPairs);
  float x[4];
  int64_t labels[2];
  for (int64_t k = 0; k < 5; ++k) {
    const Batch &batch = reader.next({x, labels});
    EXPECT_EQ(batch.epoch, k);
    EXPECT_EQ(batch.examples, (std::vector<int64_t>{2 * k + 1, 2 * k}));
    EXPECT_EQ(x[0], 2 * k + 1);
    EXPECT_EQ(x[1], -(2 * k + 1));
    EXPECT_EQ(x[2], 2 * k);
    EXPECT_EQ(labels[0], (2 * k + 1) % 3);
    EXPECT_EQ(labels[1], (2 * k) % 3);
    // The batch itself holds the same bytes as the destinations.
    EXPECT_EQ(reinterpret_cast<const float *>(batch.fields[0].data())[2],
              2 * k);
  }
  EXPECT_EQ(examples.reads, 10);
  EXPECT_GE(reader.waitSeconds(), 0);
}

TEST(BatchesTest, AFailedReadStopsAtItsBatch) {
  Counting examples(10, /*failAt=*/5);
  BatchReader reader({examples, kFields, kNone, true, 0, "training"}, 2, 5,
                     reversedPairs);
  float x[4];
  int64_t labels[2];
  reader.next({x, labels});
  reader.next({x, labels});
  Error error = expectError([&] { reader.next({x, labels}); });
  EXPECT_EQ(std::string(error.what()), "data.bin: byte 12: example 5 is damaged");
}

TEST(BatchesTest, ValuesOutsideTheRangeAreErrors) {
  Counting examples(10);
  std::vector<data::Field> fields = kFields;
  fields[1].range = 2; // Example 2 has label 2.
  BatchReader reader({examples, fields, kNone, false, 0, "test"}, 2, 5,
                     reversedPairs);
  float x[4];
  int64_t labels[2];
  reader.next({x, labels});
  Error error = expectError([&] { reader.next({x, labels}); });
  EXPECT_EQ(std::string(error.what()).rfind(
                "test example 2 holds 2 in input 'label', outside [0, 2), "
                "the range the model gives it; the data does not fit the "
                "model",
                0),
            0u);
}

TEST(BatchesTest, TheIgnoredLabelIsAccepted) {
  Counting examples(10);
  std::vector<data::Field> fields = kFields;
  fields[1].range = 2; // Label 2, every third example, is the ignored one.
  fields[1].ignoreIndex = 2;
  BatchReader reader({examples, fields, kNone, false, 0, "test"}, 2, 5,
                     reversedPairs);
  float x[4];
  int64_t labels[2];
  for (int64_t k = 0; k < 5; ++k)
    reader.next({x, labels});
  EXPECT_EQ(examples.reads, 10);

  fields[1].range = 1; // Example 1 has label 1, neither a class nor ignored.
  BatchReader narrow({examples, fields, kNone, false, 0, "test"}, 2, 5,
                     reversedPairs);
  Error error = expectError([&] { narrow.next({x, labels}); });
  EXPECT_EQ(
      std::string(error.what())
          .rfind("test example 1 holds 1 in input 'label', outside [0, 1), "
                 "the range the model gives it (or 2, the ignored label); the "
                 "data does not fit the model",
                 0),
      0u);
}

TEST(BatchesTest, StopsWithBatchesUnread) {
  Counting examples(1000);
  {
    BatchReader reader({examples, kFields, kNone, true, 0, "training"}, 2,
                       500, reversedPairs);
    float x[4];
    int64_t labels[2];
    reader.next({x, labels});
  }
  // One batch taken, at most one more read ahead.
  EXPECT_LE(examples.reads, 4);
}

// Evaluation and prediction read a split in order; the last partial batch
// repeats its first example, and its count says how many are real.
TEST(BatchesTest, InOrderPadsTheLastBatch) {
  BatchPlan plan = inOrder(10, 4);
  Batch batch;
  plan(0, batch);
  EXPECT_EQ(batch.examples, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batch.count, 4);
  plan(2, batch);
  EXPECT_EQ(batch.examples, (std::vector<int64_t>{8, 9, 8, 8}));
  EXPECT_EQ(batch.count, 2);
  EXPECT_EQ(batch.epoch, 0);
}

// A data-parallel evaluation: rank r of N reads batches r, r + N, ... of the
// plan, so that the ranks read every batch once between them.
TEST(BatchesTest, ShardTakesEveryNthBatch) {
  BatchPlan rank1 = shard(inOrder(10, 2), 1, 3);
  Batch batch;
  rank1(0, batch);
  EXPECT_EQ(batch.examples, (std::vector<int64_t>{2, 3}));
  rank1(1, batch);
  EXPECT_EQ(batch.examples, (std::vector<int64_t>{8, 9}));
  EXPECT_EQ(batch.count, 2);
}

} // namespace
