//===- IdxTest.cpp - idx(...): MNIST-family IDX files, gzip or not --------===//
//
// Hand-made IDX files of every element type, raw and gzip, read as a
// trainer reads them, and every way a file or a recipe can be wrong: each
// message must name the file and the byte offset and say what to do.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

namespace kiln::data {
bool openIdx(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

using namespace kiln;
using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

constexpr uint8_t kU8 = 0x08, kI8 = 0x09, kI16 = 0x0b, kI32 = 0x0c, kF32 = 0x0d,
                  kF64 = 0x0e;

std::string bigEndian(uint64_t value, int bytes) {
  std::string text;
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    text += static_cast<char>(value >> shift);
  return text;
}

/// An IDX header of `type` and `dims`.
std::string header(uint8_t type, const std::vector<uint32_t> &dims) {
  std::string bytes = bigEndian(uint32_t(type) << 8 | dims.size(), 4);
  for (uint32_t dim : dims)
    bytes += bigEndian(dim, 4);
  return bytes;
}

/// The big-endian bytes of `value` as an element of `type`.
std::string element(uint8_t type, double value) {
  if (type == kF64) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bigEndian(bits, 8);
  }
  if (type == kF32) {
    float single = static_cast<float>(value);
    uint32_t bits;
    std::memcpy(&bits, &single, sizeof bits);
    return bigEndian(bits, 4);
  }
  int size = type == kI32 ? 4 : type == kI16 ? 2 : 1;
  return bigEndian(static_cast<uint64_t>(static_cast<int64_t>(value)), size);
}

/// An IDX file of `type` and `dims` holding `values`.
std::string idx(uint8_t type, const std::vector<uint32_t> &dims,
                const std::vector<double> &values) {
  std::string bytes = header(type, dims);
  for (double value : values)
    bytes += element(type, value);
  return bytes;
}

/// The value of element `i` of the test images of `type`: negative ones for
/// signed types, fractions for floats.
double pixel(uint8_t type, size_t i) {
  switch (type) {
  case kU8:
    return static_cast<double>((i * 37) % 256);
  case kI8:
    return static_cast<double>(int((i * 37) % 256) - 128);
  case kI16:
    return static_cast<double>(int((i * 977) % 65536) - 32768);
  case kI32:
    return static_cast<double>(int64_t(i) * 100003 - 1000000000);
  case kF32:
    return static_cast<float>(0.1 * double(i) - 3.0);
  default:
    return 1e-3 * double(i) - 0.5;
  }
}

/// `count` images of `type` and `inner` dimensions, made of pixel().
std::string images(uint8_t type, uint32_t count,
                   const std::vector<uint32_t> &inner) {
  std::vector<uint32_t> dims = {count};
  dims.insert(dims.end(), inner.begin(), inner.end());
  size_t elements = count;
  for (uint32_t dim : inner)
    elements *= dim;
  std::vector<double> values;
  for (size_t i = 0; i < elements; ++i)
    values.push_back(pixel(type, i));
  return idx(type, dims, values);
}

/// `count` labels 0, 1, ..., 9, 0, ... of `type`.
std::string labels(uint32_t count, uint8_t type = kU8) {
  std::vector<double> values;
  for (uint32_t i = 0; i < count; ++i)
    values.push_back(i % 10);
  return idx(type, {count}, values);
}

/// One gzip member: `head`, then `zeros` zero bytes, compressed a piece at a
/// time so that the zeros are never all in memory.
std::string gzipMember(const std::string &head, size_t zeros = 0) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8,
                         Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out;
  std::vector<Bytef> buffer(1 << 16);
  auto pump = [&](const char *data, size_t size, int flush) {
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data));
    stream.avail_in = static_cast<uInt>(size);
    do {
      stream.next_out = buffer.data();
      stream.avail_out = static_cast<uInt>(buffer.size());
      deflate(&stream, flush);
      out.append(reinterpret_cast<char *>(buffer.data()),
                 buffer.size() - stream.avail_out);
    } while (stream.avail_out == 0);
  };
  pump(head.data(), head.size(), Z_NO_FLUSH);
  const std::string block(1 << 20, '\0');
  for (size_t left = zeros; left > 0;) {
    size_t size = std::min(left, block.size());
    pump(block.data(), size, Z_NO_FLUSH);
    left -= size;
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&stream);
  return out;
}

/// `raw` as a stream of gzip members, one per `member` bytes.
std::string gzip(const std::string &raw, size_t member = SIZE_MAX) {
  std::string out;
  for (size_t begin = 0; begin == 0 || begin < raw.size(); begin += member) {
    out += gzipMember(raw.substr(begin, member));
    if (raw.size() - begin <= member)
      break;
  }
  return out;
}

class IdxTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "idx-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    request.fields = {{"image", io::DType::F32, {1, 28, 28}, 0},
                      {"label", io::DType::I64, {}, 10}};
    setFiles("train-images", "train-labels");
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  void write(const std::string &name, const std::string &bytes) {
    std::ofstream(pathOf(name), std::ios::binary) << bytes;
  }

  /// Sets an argument of the recipe.
  void set(const std::string &name, ArgumentValue value) {
    arguments[name] = std::move(value);
    request.args = Arguments(arguments);
  }

  /// Names the four files, as absolute paths ("" for none).
  void setFiles(const std::string &images, const std::string &labels,
                const std::string &testImages = "",
                const std::string &testLabels = "") {
    auto path = [&](const std::string &name) {
      return name.empty() ? name : pathOf(name);
    };
    arguments = {{"images", path(images)},
                 {"labels", path(labels)},
                 {"test_images", path(testImages)},
                 {"test_labels", path(testLabels)},
                 {"scale", 1.0}};
    request.args = Arguments(arguments);
  }

  /// Three good 28 x 28 u8 training images and their labels, raw.
  void writeGoodFiles() {
    write("train-images", images(kU8, 3, {28, 28}));
    write("train-labels", labels(3));
  }

  bool open(std::string &error) {
    opened = OpenedSource();
    return openIdx(request, opened, error);
  }

  /// Opens the source, expecting failure; returns the message.
  std::string failure() {
    std::string error;
    EXPECT_FALSE(open(error)) << opened.description;
    return error;
  }

  /// Expects a message that starts "path: where: what" and holds `hint`.
  void expectFailure(const std::string &name, const std::string &where,
                     const std::string &what, const std::string &hint) {
    std::string error = failure();
    EXPECT_EQ(error.rfind(pathOf(name) + ": " + where + ": " + what, 0), 0u)
        << error;
    EXPECT_NE(error.find(hint), std::string::npos) << error;
  }

  /// Expects the message of a damaged file.
  void expectDamaged(const std::string &name, const std::string &where,
                     const std::string &what) {
    expectFailure(name, where, what, "the file is damaged or not an IDX file");
  }

  /// Reads example `index` of `examples` as the model's two inputs.
  bool readExample(const Examples &examples, int64_t index,
                   std::vector<float> &pixels, int64_t &label,
                   std::string &error) {
    pixels.assign(request.fields[0].numElements(), -1.0f);
    void *rows[] = {pixels.data(), &label};
    return examples.read(index, rows, error);
  }

  /// Expects example `index` to be images(type, ...)'s, times `scale`, with
  /// label index % 10.
  void expectExample(const Examples &examples, int64_t index, uint8_t type,
                     double scale) {
    std::vector<float> pixels;
    int64_t label = -1;
    std::string error;
    ASSERT_TRUE(readExample(examples, index, pixels, label, error)) << error;
    for (size_t p = 0; p < pixels.size(); ++p)
      ASSERT_EQ(pixels[p], static_cast<float>(
                               pixel(type, index * pixels.size() + p) * scale))
          << "example " << index << ", element " << p;
    EXPECT_EQ(label, index % 10);
  }

  fs::path dir;
  std::map<std::string, ArgumentValue> arguments;
  SourceRequest request;
  OpenedSource opened;
};

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
