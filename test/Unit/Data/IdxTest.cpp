//===- IdxTest.cpp - idx(...): MNIST-family IDX files, gzip or not --------===//
//
// Hand-made IDX files of every element type (IdxTesting.h), raw and gzip,
// read as a trainer reads them, and Debian's Fashion-MNIST read as
// loadFashionMnist reads it. IdxErrorsTest.cpp has every way a file or a
// recipe can be wrong.
//
//===----------------------------------------------------------------------===//

#include "IdxTesting.h"

#include "data/Datasets.h"
#include "data/Source.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;
namespace fs = std::filesystem;

namespace {

TEST_F(IdxTest, RawBytesWithAChannelDimension) {
  writeGoodFiles();
  set("scale", 1 / 255.0);
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  EXPECT_EQ(opened.description, "idx images " + pathOf("train-images") +
                                    " (3 x 28 x 28 u8) and labels " +
                                    pathOf("train-labels") + " (3 u8)");
  EXPECT_TRUE(opened.notes.empty());
  ASSERT_EQ(opened.train->size(), 3);
  EXPECT_EQ(opened.test->size(), 0);
  for (int64_t i = 0; i < 3; ++i)
    expectExample(*opened.train, i, kU8, 1 / 255.0);
}

TEST_F(IdxTest, GzipWithoutAChannelDimensionAndATestSplit) {
  write("train-images.gz", gzip(images(kU8, 3, {28, 28})));
  write("train-labels.gz", gzip(labels(3)));
  write("test-images.gz", gzip(images(kU8, 2, {28, 28})));
  write("test-labels.gz", gzip(labels(2)));
  setFiles("train-images.gz", "train-labels.gz", "test-images.gz",
           "test-labels.gz");
  set("scale", 0.5);
  request.fields[0].shape = {28, 28};
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  EXPECT_EQ(opened.description,
            "idx images " + pathOf("train-images.gz") +
                " (3 x 28 x 28 u8) and labels " + pathOf("train-labels.gz") +
                " (3 u8); test images " + pathOf("test-images.gz") +
                " (2 x 28 x 28 u8) and labels " + pathOf("test-labels.gz") +
                " (2 u8)");
  ASSERT_EQ(opened.train->size(), 3);
  ASSERT_EQ(opened.test->size(), 2);
  for (int64_t i = 0; i < 3; ++i)
    expectExample(*opened.train, i, kU8, 0.5);
  for (int64_t i = 0; i < 2; ++i)
    expectExample(*opened.test, i, kU8, 0.5);
}

TEST_F(IdxTest, ConcatenatedGzipMembersAreOneFile) {
  write("train-images.gz", gzip(images(kU8, 3, {28, 28}), 1000));
  write("train-labels.gz", gzip(labels(3), 5));
  setFiles("train-images.gz", "train-labels.gz");
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  for (int64_t i = 0; i < 3; ++i)
    expectExample(*opened.train, i, kU8, 1);
}

TEST_F(IdxTest, EveryElementTypeRawAndGzip) {
  request.fields[0].shape = {2, 3, 1};
  for (uint8_t type : {kU8, kI8, kI16, kI32, kF32, kF64})
    for (bool compressed : {false, true}) {
      SCOPED_TRACE("type " + std::to_string(type) +
                   (compressed ? ", gzip" : ", raw"));
      std::string bytes = images(type, 4, {2, 3});
      write("train-images", compressed ? gzip(bytes) : bytes);
      write("train-labels", labels(4));
      set("scale", 2.0);
      std::string error;
      ASSERT_TRUE(open(error)) << error;
      for (int64_t i = 0; i < 4; ++i)
        expectExample(*opened.train, i, type, 2.0);
    }
}

TEST_F(IdxTest, IntegerLabelTypes) {
  write("train-images", images(kU8, 3, {28, 28}));
  for (uint8_t type : {kU8, kI8, kI16, kI32}) {
    SCOPED_TRACE("type " + std::to_string(type));
    write("train-labels", labels(3, type));
    std::string error;
    ASSERT_TRUE(open(error)) << error;
    for (int64_t i = 0; i < 3; ++i)
      expectExample(*opened.train, i, kU8, 1);
  }
}

TEST_F(IdxTest, UnboundedLabelsAreNotChecked) {
  write("train-images", images(kU8, 2, {28, 28}));
  write("train-labels", idx(kI32, {2}, {7, 123456}));
  request.fields[1].range = 0;
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  std::vector<float> pixels;
  int64_t label = 0;
  ASSERT_TRUE(readExample(*opened.train, 1, pixels, label, error)) << error;
  EXPECT_EQ(label, 123456);
}

TEST_F(IdxTest, RelativePathsAreReadFromTheDataDirectory) {
  writeGoodFiles();
  set("images", std::string("train-images"));
  set("labels", std::string("train-labels"));
  request.dataDir = dir.string();
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  EXPECT_EQ(opened.description, "idx images train-images (3 x 28 x 28 u8) and "
                                "labels train-labels (3 u8)");
  expectExample(*opened.train, 2, kU8, 1);
}

TEST_F(IdxTest, TwoThreadsReadLargeExamples) {
  // 100 x 100 f32 elements: 40000 bytes per example, read in several chunks.
  request.fields[0].shape = {1, 100, 100};
  write("train-images", images(kF32, 12, {100, 100}));
  write("train-labels", labels(12));
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  auto readAll = [&](int64_t start, std::vector<int64_t> &wrong) {
    std::vector<float> pixels(100 * 100);
    for (int round = 0; round < 20; ++round)
      for (int64_t k = 0; k < 12; ++k) {
        int64_t index = (start + k) % 12;
        int64_t label = -1;
        void *rows[] = {pixels.data(), &label};
        std::string readError;
        bool good =
            opened.train->read(index, rows, readError) && label == index % 10;
        for (size_t p = 0; good && p < pixels.size(); ++p)
          good = pixels[p] ==
                 static_cast<float>(pixel(kF32, index * pixels.size() + p));
        if (!good)
          wrong.push_back(index);
      }
  };
  std::vector<int64_t> wrongA, wrongB;
  std::thread a(readAll, 0, std::ref(wrongA));
  std::thread b(readAll, 5, std::ref(wrongB));
  a.join();
  b.join();
  EXPECT_TRUE(wrongA.empty());
  EXPECT_TRUE(wrongB.empty());
}

TEST_F(IdxTest, LargeGzipFilesEarnANote) {
  // 8200 x 8200 bytes: more than 64 MiB decompressed.
  request.fields[0].shape = {8200, 8200};
  write("train-images.gz",
        gzipMember(header(kU8, {1, 8200, 8200}), 8200 * 8200));
  write("train-labels", labels(1));
  setFiles("train-images.gz", "train-labels");
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_EQ(opened.notes[0],
            "idx: the gzip files take 64 MiB of memory decompressed, as gzip "
            "cannot be read at random; gunzip them so that the trainer reads "
            "them in place");
}

TEST(IdxRealTest, DebianFashionMnistAsLoadFashionMnistReadsIt) {
  fs::path dir = kFashionMnistDir;
  if (!fs::exists(dir / "t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << kFashionMnistDir
                 << " is missing: install dataset-fashion-mnist";
  Split split;
  std::string error;
  ASSERT_TRUE(loadFashionMnist(dir.string(), 1 / 255.0, split, error)) << error;
  SourceRequest request;
  request.fields = {{"image", io::DType::F32, {1, 28, 28}, 0},
                    {"label", io::DType::I64, {}, 10}};
  request.dataDir = dir.string();
  auto text = [](const char *value) {
    return ArgumentValue(std::string(value));
  };
  request.args = Arguments({{"images", text("train-images-idx3-ubyte.gz")},
                            {"labels", text("train-labels-idx1-ubyte.gz")},
                            {"test_images", text("t10k-images-idx3-ubyte.gz")},
                            {"test_labels", text("t10k-labels-idx1-ubyte.gz")},
                            {"scale", 1 / 255.0}});
  OpenedSource opened;
  ASSERT_TRUE(openIdx(request, opened, error)) << error;
  EXPECT_EQ(opened.description,
            "idx images train-images-idx3-ubyte.gz (60000 x 28 x 28 u8) and "
            "labels train-labels-idx1-ubyte.gz (60000 u8); test images "
            "t10k-images-idx3-ubyte.gz (10000 x 28 x 28 u8) and labels "
            "t10k-labels-idx1-ubyte.gz (10000 u8)");
  for (auto [examples, expected] :
       {std::pair(opened.train.get(), &split.train),
        std::pair(opened.test.get(), &split.test)}) {
    ASSERT_EQ(examples->size(), expected->size());
    std::vector<float> pixels(28 * 28);
    for (int64_t i = 0; i < examples->size(); ++i) {
      int64_t label = -1;
      void *rows[] = {pixels.data(), &label};
      ASSERT_TRUE(examples->read(i, rows, error)) << error;
      ASSERT_EQ(label, expected->fields[1].data<int64_t>()[i]) << i;
      ASSERT_EQ(std::memcmp(pixels.data(),
                            expected->fields[0].data<float>() + i * 28 * 28,
                            sizeof(float) * 28 * 28),
                0)
          << "example " << i;
    }
  }
}

} // namespace
