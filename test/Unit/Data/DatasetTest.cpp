//===- DatasetTest.cpp - Synthetic data, epoch order and batches ----------===//
//
// Synthetic data and epoch orders must depend on nothing but their seeds, on
// every machine: the recorded values below are the contract, and a change to
// them changes every run that resumes from a checkpoint.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

using namespace kiln;
using namespace kiln::data;

namespace {

const std::vector<FieldSpec> kImageAndLabel = {{io::DType::F32, {1, 4, 4}},
                                               {io::DType::I64, {}}};

Split synthetic(const std::vector<FieldSpec> &fields, int64_t train,
                int64_t test, int64_t classes, uint64_t seed) {
  Split split;
  std::string error;
  EXPECT_TRUE(makeSynthetic(fields, train, test, classes, seed, split, error))
      << error;
  return split;
}

TEST(SyntheticTest, ShapesAndRanges) {
  Split split = synthetic({{io::DType::F32, {1, 4, 4}},
                           {io::DType::F64, {3}},
                           {io::DType::I64, {}}},
                          50, 7, 10, 1);
  ASSERT_EQ(split.train.fields.size(), 3u);
  EXPECT_EQ(split.train.size(), 50);
  EXPECT_EQ(split.test.size(), 7);
  EXPECT_EQ(split.train.fields[0].shape, (std::vector<int64_t>{50, 1, 4, 4}));
  EXPECT_EQ(split.train.fields[1].shape, (std::vector<int64_t>{50, 3}));
  EXPECT_EQ(split.test.fields[2].shape, (std::vector<int64_t>{7}));
  EXPECT_EQ(split.train.fields[1].dtype, io::DType::F64);

  const io::TensorData &images = split.train.fields[0];
  auto [low, high] = std::minmax_element(
      images.data<float>(), images.data<float>() + images.numElements());
  EXPECT_GE(*low, 0.0f);
  EXPECT_LT(*high, 1.0f);
  // 800 uniform values spread over the interval.
  EXPECT_LT(*low, 0.05f);
  EXPECT_GT(*high, 0.95f);

  const io::TensorData &labels = split.train.fields[2];
  std::vector<int> seen(10);
  for (int64_t i = 0; i < labels.numElements(); ++i) {
    int64_t label = labels.data<int64_t>()[i];
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    ++seen[label];
  }
  // 50 labels over 10 classes: each is all but certain to appear.
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 0), 0);
}

TEST(SyntheticTest, RecordedValues) {
  Split split =
      synthetic({{io::DType::F32, {2}}, {io::DType::I64, {}}}, 3, 2, 10, 0);
  const float *values = split.train.fields[0].data<float>();
  EXPECT_EQ(values[0], 0x1.6172bp-1f);
  EXPECT_EQ(values[1], 0x1.bba82p-5f);
  EXPECT_EQ(values[5], 0x1.7c153p-4f);
  const int64_t *labels = split.train.fields[1].data<int64_t>();
  EXPECT_EQ((std::vector<int64_t>(labels, labels + 3)),
            (std::vector<int64_t>{8, 5, 4}));
}

TEST(SyntheticTest, DeterministicPerSeed) {
  Split first = synthetic(kImageAndLabel, 20, 5, 10, 42);
  Split again = synthetic(kImageAndLabel, 20, 5, 10, 42);
  Split other = synthetic(kImageAndLabel, 20, 5, 10, 43);
  for (size_t f = 0; f < kImageAndLabel.size(); ++f) {
    EXPECT_EQ(first.train.fields[f].bytes, again.train.fields[f].bytes);
    EXPECT_EQ(first.test.fields[f].bytes, again.test.fields[f].bytes);
    EXPECT_NE(first.train.fields[f].bytes, other.train.fields[f].bytes);
  }
  // Train and test are different draws.
  EXPECT_NE(0, std::memcmp(first.train.fields[0].bytes.data(),
                           first.test.fields[0].bytes.data(),
                           first.test.fields[0].bytes.size()));
}

TEST(SyntheticTest, TestDataDoesNotDependOnTrainingSize) {
  Split small = synthetic(kImageAndLabel, 10, 5, 10, 7);
  Split large = synthetic(kImageAndLabel, 1000, 5, 10, 7);
  for (size_t f = 0; f < kImageAndLabel.size(); ++f)
    EXPECT_EQ(small.test.fields[f].bytes, large.test.fields[f].bytes);
  // And a longer split starts with the shorter one.
  const std::vector<uint8_t> &prefix = small.train.fields[0].bytes;
  EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(),
                         large.train.fields[0].bytes.begin()));
}

TEST(SyntheticTest, Errors) {
  Split split = synthetic(kImageAndLabel, 2, 1, 10, 0);
  Split before = split;
  std::string error;
  EXPECT_FALSE(makeSynthetic(kImageAndLabel, -1, 1, 10, 0, split, error));
  EXPECT_NE(error.find("must not be negative"), std::string::npos) << error;
  EXPECT_FALSE(makeSynthetic(kImageAndLabel, 2, 1, 0, 0, split, error));
  EXPECT_NE(error.find("field 1 holds labels, which need classes >= 1"),
            std::string::npos)
      << error;
  EXPECT_FALSE(
      makeSynthetic({{io::DType::F32, {3, -1}}}, 2, 1, 10, 0, split, error));
  EXPECT_NE(error.find("field 0 has a negative shape"), std::string::npos)
      << error;
  EXPECT_FALSE(makeSynthetic({{io::DType::F32, {int64_t(1) << 40}}},
                             int64_t(1) << 30, 1, 10, 0, split, error));
  EXPECT_NE(error.find("is too large"), std::string::npos) << error;
  // Failures leave the output alone.
  EXPECT_EQ(split.train.fields[0].bytes, before.train.fields[0].bytes);
  // Without labels, classes does not matter.
  EXPECT_TRUE(makeSynthetic({{io::DType::F32, {2}}}, 2, 1, 0, 0, split, error));
}

bool isPermutation(const std::vector<int64_t> &order) {
  std::vector<int64_t> sorted = order, identity(order.size());
  std::sort(sorted.begin(), sorted.end());
  std::iota(identity.begin(), identity.end(), 0);
  return sorted == identity;
}

TEST(EpochOrderTest, ShuffledOrders) {
  std::vector<int64_t> order = epochOrder(1000, 5, 0, true);
  EXPECT_TRUE(isPermutation(order));
  EXPECT_EQ(order, epochOrder(1000, 5, 0, true));
  EXPECT_NE(order, epochOrder(1000, 5, 1, true));
  EXPECT_NE(order, epochOrder(1000, 6, 0, true));
  EXPECT_TRUE(isPermutation(epochOrder(1000, 5, 1, true)));
}

TEST(EpochOrderTest, RecordedOrders) {
  EXPECT_EQ(epochOrder(10, 0, 0, true),
            (std::vector<int64_t>{8, 0, 3, 4, 2, 1, 7, 9, 5, 6}));
  EXPECT_EQ(epochOrder(10, 0, 1, true),
            (std::vector<int64_t>{4, 8, 9, 6, 0, 2, 1, 3, 7, 5}));
}

TEST(EpochOrderTest, FileOrderWhenNotShuffled) {
  std::vector<int64_t> identity(100);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(epochOrder(100, 5, 3, false), identity);
  EXPECT_TRUE(epochOrder(0, 5, 0, true).empty());
  EXPECT_EQ(epochOrder(1, 5, 0, true), (std::vector<int64_t>{0}));
}

TEST(EpochOrderTest, EveryPositionIsUniform) {
  // Which of 8 examples comes first and last, over 8000 epochs: 1000 each on
  // average, with a standard deviation of 30.
  constexpr int kSize = 8, kEpochs = 8000;
  std::vector<int> first(kSize), last(kSize);
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    std::vector<int64_t> order = epochOrder(kSize, 11, epoch, true);
    ++first[order.front()];
    ++last[order.back()];
  }
  for (int i = 0; i < kSize; ++i) {
    EXPECT_NEAR(first[i], kEpochs / kSize, 150) << "example " << i;
    EXPECT_NEAR(last[i], kEpochs / kSize, 150) << "example " << i;
  }
}

TEST(GatherBatchTest, CopiesExamplesInOrder) {
  Dataset data;
  data.fields.push_back(io::TensorData::zeros(io::DType::F32, {5, 2}));
  data.fields.push_back(io::TensorData::zeros(io::DType::I64, {5}));
  for (int64_t i = 0; i < 5; ++i) {
    data.fields[0].data<float>()[2 * i] = 10.0f * i;
    data.fields[0].data<float>()[2 * i + 1] = 10.0f * i + 1;
    data.fields[1].data<int64_t>()[i] = 100 + i;
  }
  EXPECT_EQ(data.size(), 5);
  std::vector<int64_t> order = {4, 2, 0, 3, 1};
  std::vector<float> values(6, -1.0f);
  std::vector<int64_t> labels(3, -1);
  gatherBatch(data, order, 1, 3, {values.data(), labels.data()});
  EXPECT_EQ(values, (std::vector<float>{20, 21, 0, 1, 30, 31}));
  EXPECT_EQ(labels, (std::vector<int64_t>{102, 100, 103}));

  // An empty batch writes nothing.
  gatherBatch(data, order, 5, 0, {values.data(), labels.data()});
  EXPECT_EQ(labels, (std::vector<int64_t>{102, 100, 103}));
}

TEST(GatherBatchTest, SyntheticBatchesCoverTheEpoch) {
  Split split = synthetic(kImageAndLabel, 12, 0, 10, 3);
  std::vector<int64_t> order = epochOrder(12, 3, 0, true);
  const io::TensorData &labels = split.train.fields[1];
  std::vector<float> images(4 * 16);
  std::vector<int64_t> batch(4), gathered;
  for (int64_t begin = 0; begin < 12; begin += 4) {
    gatherBatch(split.train, order, begin, 4, {images.data(), batch.data()});
    for (int64_t i = 0; i < 4; ++i) {
      int64_t example = order[begin + i];
      EXPECT_EQ(batch[i], labels.data<int64_t>()[example]);
      EXPECT_EQ(0,
                std::memcmp(&images[16 * i],
                            split.train.fields[0].data<float>() + 16 * example,
                            16 * sizeof(float)));
    }
    gathered.insert(gathered.end(), batch.begin(), batch.end());
  }
  std::vector<int64_t> all(labels.data<int64_t>(), labels.data<int64_t>() + 12);
  std::sort(all.begin(), all.end());
  std::sort(gathered.begin(), gathered.end());
  EXPECT_EQ(gathered, all);
}

TEST(DatasetTest, SizeOfAnEmptyDataset) { EXPECT_EQ(Dataset().size(), 0); }

} // namespace
