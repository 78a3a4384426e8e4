//===- IdxErrorsTest.cpp - idx(...): every way a file can be wrong --------===//
//
// Every way a file or a recipe can be wrong, when the source opens and when
// it reads: each message must name the file and the byte offset and say
// what to do.
//
//===----------------------------------------------------------------------===//

#include "IdxTesting.h"

#include "data/Source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include <sys/resource.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;
namespace fs = std::filesystem;

namespace {

TEST_F(IdxTest, EmptyTrainingPaths) {
  set("images", std::string());
  EXPECT_EQ(failure(), "idx: the argument 'images' is empty; give the path of "
                       "an IDX file");
  setFiles("train-images", "");
  EXPECT_EQ(failure(), "idx: the argument 'labels' is empty; give the path of "
                       "an IDX file");
}

TEST_F(IdxTest, OneTestFileWithoutTheOther) {
  writeGoodFiles();
  setFiles("train-images", "train-labels", "test-images", "");
  EXPECT_EQ(failure(), "idx: test_images is \"" + pathOf("test-images") +
                           "\" but test_labels is empty; give both test files "
                           "for a test split, or neither");
  setFiles("train-images", "train-labels", "", "test-labels");
  EXPECT_EQ(failure(), "idx: test_labels is \"" + pathOf("test-labels") +
                           "\" but test_images is empty; give both test files "
                           "for a test split, or neither");
}

TEST_F(IdxTest, ScaleMustBeFinite) {
  writeGoodFiles();
  set("scale", std::numeric_limits<double>::infinity());
  EXPECT_EQ(failure(),
            "idx: scale is inf; give a finite number, such as 1 / 255");
}

TEST_F(IdxTest, InputsThatIdxDoesNotFill) {
  writeGoodFiles();
  const std::string advice =
      ", but idx fills two, the images (f32) and then one class id per "
      "example (i64); declare two inputs, such as image: f32[batch, 1, 28, "
      "28] and label: i64[batch]";
  request.fields[1].dtype = io::DType::F32;
  EXPECT_EQ(failure(), "idx: the model's inputs are image: f32[batch, 1, 28, "
                       "28], label: f32[batch]" +
                           advice);
  request.fields[1] = {"label", io::DType::I64, {10}, 10};
  EXPECT_EQ(failure(), "idx: the model's inputs are image: f32[batch, 1, 28, "
                       "28], label: i64[batch, 10]" +
                           advice);
  request.fields.pop_back();
  EXPECT_EQ(failure(),
            "idx: the model's inputs are image: f32[batch, 1, 28, 28]" +
                advice);
}

TEST_F(IdxTest, MissingFile) {
  writeGoodFiles();
  setFiles("train-images", "nothing-here");
  EXPECT_EQ(failure(), pathOf("nothing-here") +
                           ": byte 0 of the file: cannot open it (No such "
                           "file or directory); check the path (a relative "
                           "path is read from the trainer's --data "
                           "directory, or else from the current one)");
}

TEST_F(IdxTest, NotARegularFile) {
  fs::create_directory(pathOf("a-directory"));
  setFiles("a-directory", "train-labels");
  expectFailure("a-directory", "byte 0 of the file", "it is not a regular file",
                "check the path");
}

TEST_F(IdxTest, DamagedGzip) {
  writeGoodFiles();
  std::string compressed = gzip(labels(3));
  compressed[compressed.size() - 8] ^= 1; // The CRC-32 of the data.
  write("train-labels.gz", compressed);
  setFiles("train-images", "train-labels.gz");
  expectDamaged("train-labels.gz",
                "byte " + std::to_string(compressed.size() - 4) +
                    " of the compressed file",
                "not valid gzip data (zlib: incorrect data check)");
}

TEST_F(IdxTest, TruncatedGzip) {
  writeGoodFiles();
  std::string compressed = gzip(images(kU8, 3, {28, 28}));
  compressed.resize(compressed.size() / 2);
  write("train-images.gz", compressed);
  setFiles("train-images.gz", "train-labels");
  expectDamaged("train-images.gz",
                "byte " + std::to_string(compressed.size()) +
                    " of the compressed file",
                "the gzip stream ends early (the file is truncated)");
}

TEST_F(IdxTest, DataEndsInsideTheMagicNumber) {
  writeGoodFiles();
  write("train-images", std::string(3, '\0'));
  expectDamaged("train-images", "byte 3 of the file",
                "the data ends inside the IDX magic number");
  write("train-images", gzip(std::string(2, '\0')));
  expectDamaged("train-images", "byte 2 of the decompressed data",
                "the data ends inside the IDX magic number");
}

TEST_F(IdxTest, NotAnIdxFile) {
  writeGoodFiles();
  write("train-images", "\x89PNG\r\n\x1a\n");
  expectFailure("train-images", "byte 0 of the file",
                "the IDX magic number is 0x89504e47, but an IDX file starts "
                "with two zero bytes",
                "give an IDX file (such as MNIST's train-images-idx3-ubyte), "
                "gzip-compressed or not");
}

TEST_F(IdxTest, UnknownElementType) {
  writeGoodFiles();
  write("train-labels", header(0x07, {3}) + "abc");
  expectDamaged("train-labels", "byte 2 of the file",
                "the IDX magic number is 0x00000701, whose type byte 0x07 is "
                "none of 0x08 (u8), 0x09 (i8), 0x0b (i16), 0x0c (i32), 0x0d "
                "(f32), 0x0e (f64)");
}

TEST_F(IdxTest, NoDimensions) {
  writeGoodFiles();
  write("train-images", header(kU8, {}) + "x");
  expectDamaged("train-images", "byte 3 of the file",
                "the IDX magic number is 0x00000800, which gives the file 0 "
                "dimensions, but the first counts the examples");
}

TEST_F(IdxTest, DataEndsInsideTheHeader) {
  writeGoodFiles();
  write("train-images", header(kU8, {3, 28, 28}).substr(0, 10));
  expectDamaged("train-images", "byte 10 of the file",
                "the data ends inside the IDX header, which has 16 bytes");
}

TEST_F(IdxTest, DimensionsTooLargeForAnyFile) {
  writeGoodFiles();
  write("train-images", header(kF64, {4000000000u, 4000000000u, 4000000000u}));
  expectDamaged("train-images", "byte 4 of the file",
                "the header's dimensions 4000000000 x 4000000000 x 4000000000 "
                "of f64 elements need more than 2^64 bytes");
}

TEST_F(IdxTest, TruncatedData) {
  writeGoodFiles();
  std::string bytes = images(kU8, 3, {28, 28});
  bytes.resize(bytes.size() - 100);
  write("train-images", bytes);
  expectDamaged("train-images",
                "byte " + std::to_string(bytes.size()) + " of the file",
                "the data ends after 2252 of the 2352 bytes that the "
                "header's 3 examples need");
  write("train-images", gzip(bytes));
  expectDamaged("train-images",
                "byte " + std::to_string(bytes.size()) +
                    " of the decompressed data",
                "the data ends after 2252 of the 2352 bytes that the "
                "header's 3 examples need");
}

TEST_F(IdxTest, TrailingData) {
  writeGoodFiles();
  write("train-labels", idx(kI16, {3}, {0, 1, 2}) + "xyz");
  expectDamaged("train-labels", "byte 14 of the file",
                "3 bytes follow the last of the header's 3 examples");
}

TEST_F(IdxTest, NoExamples) {
  writeGoodFiles();
  write("train-images", header(kU8, {0, 28, 28}));
  expectFailure("train-images", "byte 4 of the file",
                "the header counts 0 examples",
                "give a file that holds examples, or leave out an empty test "
                "split (test_images and test_labels \"\")");
}

TEST_F(IdxTest, ImagesOfAnotherShape) {
  writeGoodFiles();
  write("train-images", images(kU8, 3, {32, 32}));
  expectFailure("train-images", "byte 8 of the file",
                "the images are 32 x 32 (the dimensions after the count), but "
                "input 'image' is f32[batch, 1, 28, 28]",
                "declare input 'image' as f32[batch, 32, 32] (dimensions of "
                "size 1 may be added or left out), or give images of its "
                "shape");
  write("train-images", images(kU8, 3, {28, 28, 3}));
  expectFailure("train-images", "byte 8 of the file",
                "the images are 28 x 28 x 3 (the dimensions after the count)",
                "f32[batch, 28, 28, 3]");
  write("train-images", images(kU8, 3, {}));
  expectFailure("train-images", "byte 8 of the file",
                "the images are single values (the dimensions after the "
                "count)",
                "f32[batch]");
}

TEST_F(IdxTest, LabelsWithMoreThanOneDimension) {
  writeGoodFiles();
  write("train-labels", images(kU8, 3, {28, 28}));
  expectFailure("train-labels", "byte 3 of the file",
                "the labels file has 3 dimensions (3 x 28 x 28), expected 1",
                "give the labels file (such as MNIST's "
                "train-labels-idx1-ubyte): one integer class id per example");
}

TEST_F(IdxTest, LabelsThatAreNotIntegers) {
  writeGoodFiles();
  write("train-labels", idx(kF32, {3}, {0, 1, 2}));
  expectFailure("train-labels", "byte 2 of the file",
                "the labels are f32, expected an integer type (u8, i8, i16 "
                "or i32)",
                "one integer class id per example");
}

TEST_F(IdxTest, CountMismatch) {
  writeGoodFiles();
  write("train-labels", labels(4));
  expectFailure("train-labels", "byte 4 of the file",
                "the file has 4 labels, but " + pathOf("train-images") +
                    " has 3 images",
                "the files do not belong together: give the labels of these "
                "images");
}

TEST_F(IdxTest, LabelOutOfRange) {
  writeGoodFiles();
  const std::string hint = "input 'label' has 10 classes: fix the labels, or "
                           "give the model as many classes as the data has";
  write("train-labels", idx(kU8, {3}, {3, 10, 1}));
  expectFailure("train-labels", "byte 9 of the file",
                "label 10 of example 1 is not a class in [0, 10)", hint);
  write("train-labels", gzip(idx(kI32, {3}, {3, 1, -1})));
  expectFailure("train-labels", "byte 16 of the decompressed data",
                "label -1 of example 2 is not a class in [0, 10)", hint);
}

TEST_F(IdxTest, LabelOutOfRangeInALaterChunk) {
  // 20000 i32 labels: 80000 bytes, read 16384 at a time.
  std::vector<double> values(20000, 4);
  values[19000] = 11;
  write("train-labels", idx(kI32, {20000}, values));
  write("train-images", header(kU8, {20000}) + std::string(20000, '\0'));
  request.fields[0].shape = {};
  expectFailure("train-labels",
                "byte " + std::to_string(8 + 4 * 19000) + " of the file",
                "label 11 of example 19000 is not a class in [0, 10)",
                "input 'label' has 10 classes");
}

TEST_F(IdxTest, ValuesThatAreNotFinite) {
  request.fields[0].shape = {2, 2};
  write("train-images",
        idx(kF32, {2, 2, 2}, {0, 1, 2, 3, 4, std::nan(""), 6, 7}));
  write("train-labels", labels(2));
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  std::vector<float> pixels;
  int64_t label;
  ASSERT_TRUE(readExample(*opened.train, 0, pixels, label, error)) << error;
  EXPECT_EQ(pixels, (std::vector<float>{0, 1, 2, 3}));
  const std::string hint = "fix or drop the example, or give a smaller scale: "
                           "a NaN or infinite input makes the loss NaN";
  EXPECT_FALSE(readExample(*opened.train, 1, pixels, label, error));
  EXPECT_EQ(error, pathOf("train-images") +
                       ": byte 36 of the file: element 1 of example 1 is "
                       "nan, which times the scale 1 is not a finite 32-bit "
                       "float; " +
                       hint);

  write("train-images", gzip(idx(kF64, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7})));
  set("scale", 1e300);
  ASSERT_TRUE(open(error)) << error;
  EXPECT_FALSE(readExample(*opened.train, 0, pixels, label, error));
  EXPECT_EQ(error, pathOf("train-images") +
                       ": byte 24 of the decompressed data: element 1 of "
                       "example 0 is 1, which times the scale 1e+300 is not "
                       "a finite 32-bit float; " +
                       hint);
}

TEST_F(IdxTest, FileCutAfterOpening) {
  writeGoodFiles();
  std::string error;
  ASSERT_TRUE(open(error)) << error;
  fs::resize_file(pathOf("train-images"), 16 + 28 * 28 + 100);
  expectExample(*opened.train, 0, kU8, 1);
  std::vector<float> pixels;
  int64_t label;
  EXPECT_FALSE(readExample(*opened.train, 1, pixels, label, error));
  EXPECT_EQ(error, pathOf("train-images") +
                       ": byte 800 of the file: cannot read example 1 (the "
                       "file ends at byte 900); the file changed after the "
                       "trainer opened it, or the disk failed: do not change "
                       "the data files while a trainer reads them");
}

TEST_F(IdxTest, FileShorterThanItsSize) {
  // Linux's attribute files claim 4096 bytes and hold a few.
  const std::string path = "/sys/devices/system/cpu/online";
  if (!fs::exists(path))
    GTEST_SKIP() << path << " is missing";
  set("images", path);
  std::string error = failure();
  EXPECT_EQ(error.rfind(path + ": byte 0 of the file: cannot read it (the "
                               "file ends at byte ",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("); the file changed after the trainer opened it, or "
                       "the disk failed"),
            std::string::npos)
      << error;
}

/// The address space that the process uses now.
size_t addressSpace() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  return pages * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

TEST_F(IdxTest, OutOfMemory) {
  // 256 MiB of zeros, 256 KiB compressed; the child may grow by 64 MiB.
  request.fields[0].shape = {16384, 16384};
  write("train-images.gz",
        gzipMember(header(kU8, {1, 16384, 16384}), size_t(16384) * 16384));
  write("train-labels", labels(1));
  setFiles("train-images.gz", "train-labels");
  EXPECT_EXIT(
      {
        rlimit limit;
        limit.rlim_cur = limit.rlim_max = addressSpace() + (64 << 20);
        ::setrlimit(RLIMIT_AS, &limit);
        std::string error;
        bool opened = openIdx(request, this->opened, error);
        std::fprintf(stderr, "%s\n", error.c_str());
        std::exit(opened ? 1 : 0);
      },
      ::testing::ExitedWithCode(0),
      "^idx: out of memory while reading .*train-images.gz \\(a gzip file is "
      "held in memory decompressed, as gzip cannot be read at random\\); "
      "gunzip it so that the trainer reads it in place\n$");
}

} // namespace
