//===- FashionMnistTest.cpp - Fashion-MNIST from its gzip IDX files -------===//
//
// The real files of dataset-fashion-mnist when they are installed, and every
// way a file can be wrong on small hand-made ones: each message must name the
// file and the byte offset of the problem and say what to do.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace kiln;
using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr size_t kImageBytes = 28 * 28;

std::string bigEndian32(uint32_t value) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes += static_cast<char>(value >> shift);
  return bytes;
}

/// An IDX file: magic, dimensions, data.
std::string idx(uint32_t magic, const std::vector<uint32_t> &dims,
                const std::string &data) {
  std::string bytes = bigEndian32(magic);
  for (uint32_t dim : dims)
    bytes += bigEndian32(dim);
  return bytes + data;
}

/// `count` images whose pixels are (example * 31 + position) mod 256.
std::string imageFile(uint32_t count) {
  std::string pixels;
  for (uint32_t i = 0; i < count; ++i)
    for (size_t p = 0; p < kImageBytes; ++p)
      pixels += static_cast<char>((i * 31 + p) % 256);
  return idx(kImagesMagic, {count, 28, 28}, pixels);
}

/// `count` labels 0, 1, ..., 9, 0, ...
std::string labelFile(uint32_t count) {
  std::string labels;
  for (uint32_t i = 0; i < count; ++i)
    labels += static_cast<char>(i % 10);
  return idx(kLabelsMagic, {count}, labels);
}

/// `raw` as one gzip member.
std::string gzip(const std::string &raw) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                         16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&stream, raw.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(raw.data()));
  stream.avail_in = raw.size();
  stream.next_out = reinterpret_cast<Bytef *>(out.data());
  stream.avail_out = out.size();
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

class FashionMnistTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "fashion-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  void write(const std::string &name, const std::string &bytes) {
    std::ofstream(pathOf(name), std::ios::binary) << bytes;
  }

  /// Four good files: 3 training and 2 test examples.
  void writeGoodFiles() {
    write("train-images-idx3-ubyte.gz", gzip(imageFile(3)));
    write("train-labels-idx1-ubyte.gz", gzip(labelFile(3)));
    write("t10k-images-idx3-ubyte.gz", gzip(imageFile(2)));
    write("t10k-labels-idx1-ubyte.gz", gzip(labelFile(2)));
  }

  /// Loads the directory, expecting failure; returns the message.
  std::string failure() {
    Split split;
    std::string error;
    EXPECT_FALSE(loadFashionMnist(dir.string(), 1.0, split, error));
    return error;
  }

  /// Expects the message of a damaged file: its path, the offset and the
  /// advice.
  void expectDamaged(const std::string &name, const std::string &where,
                     const std::string &what) {
    std::string error = failure();
    EXPECT_EQ(error.rfind(pathOf(name) + ": " + where + ": " + what, 0), 0u)
        << error;
    EXPECT_NE(error.find("apt-get install --reinstall dataset-fashion-mnist"),
              std::string::npos)
        << error;
  }

  fs::path dir;
};

TEST_F(FashionMnistTest, SmallFiles) {
  writeGoodFiles();
  Split split;
  std::string error;
  ASSERT_TRUE(loadFashionMnist(dir.string(), 0.5, split, error)) << error;
  ASSERT_EQ(split.train.fields.size(), 2u);
  const io::TensorData &images = split.train.fields[0];
  EXPECT_EQ(images.dtype, io::DType::F32);
  EXPECT_EQ(images.shape, (std::vector<int64_t>{3, 1, 28, 28}));
  for (size_t i = 0; i < 3; ++i)
    for (size_t p = 0; p < kImageBytes; ++p)
      ASSERT_EQ(images.data<float>()[i * kImageBytes + p],
                0.5f * ((i * 31 + p) % 256))
          << "example " << i << ", pixel " << p;
  const io::TensorData &labels = split.train.fields[1];
  EXPECT_EQ(labels.dtype, io::DType::I64);
  EXPECT_EQ(labels.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(
      std::vector<int64_t>(labels.data<int64_t>(), labels.data<int64_t>() + 3),
      (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(split.test.size(), 2);
  EXPECT_EQ(split.test.fields[0].shape, (std::vector<int64_t>{2, 1, 28, 28}));
}

TEST_F(FashionMnistTest, TheSourceNamesTheClasses) {
  writeGoodFiles();
  SourceRequest request;
  request.args = Arguments({{"dir", dir.string()}, {"scale", 1.0}});
  request.fields = {{"image", io::DType::F32, {1, 28, 28}},
                    {"label", io::DType::I64, {}, 10}};
  OpenedSource opened;
  std::string error;
  ASSERT_TRUE(findSource("fashion_mnist")->open(request, opened, error))
      << error;
  // torchvision's FashionMNIST.classes, by id.
  EXPECT_EQ(opened.metadata["data.classes"],
            "[\"T-shirt/top\", \"Trouser\", \"Pullover\", \"Dress\", "
            "\"Coat\", \"Sandal\", \"Shirt\", \"Sneaker\", \"Bag\", "
            "\"Ankle boot\"]");
}

TEST_F(FashionMnistTest, ConcatenatedGzipMembersAreOneStream) {
  writeGoodFiles();
  std::string images = imageFile(3);
  write("train-images-idx3-ubyte.gz",
        gzip(images.substr(0, 1000)) + gzip(images.substr(1000)));
  Split split;
  std::string error;
  ASSERT_TRUE(loadFashionMnist(dir.string(), 1.0, split, error)) << error;
  EXPECT_EQ(split.train.fields[0].data<float>()[kImageBytes + 1], 32.0f);
}

TEST_F(FashionMnistTest, MissingFiles) {
  std::string error = failure();
  EXPECT_EQ(error, pathOf("train-images-idx3-ubyte.gz") +
                       ": byte 0 of the file: cannot open it (No such file "
                       "or directory); install dataset-fashion-mnist "
                       "(apt-get install dataset-fashion-mnist), or give the "
                       "directory that holds its four .gz files");
  write("train-images-idx3-ubyte.gz", gzip(imageFile(3)));
  write("train-labels-idx1-ubyte.gz", gzip(labelFile(3)));
  error = failure();
  EXPECT_EQ(error.rfind(pathOf("t10k-images-idx3-ubyte.gz") +
                            ": byte 0 of the file: cannot open it",
                        0),
            0u)
      << error;
}

TEST_F(FashionMnistTest, NotGzip) {
  writeGoodFiles();
  write("train-images-idx3-ubyte.gz", imageFile(3));
  expectDamaged("train-images-idx3-ubyte.gz", "byte 2 of the compressed file",
                "not valid gzip data (zlib: incorrect header check)");
}

TEST_F(FashionMnistTest, EmptyFile) {
  writeGoodFiles();
  write("train-labels-idx1-ubyte.gz", "");
  expectDamaged("train-labels-idx1-ubyte.gz", "byte 0 of the compressed file",
                "the file is empty");
}

TEST_F(FashionMnistTest, BadChecksum) {
  writeGoodFiles();
  std::string compressed = gzip(labelFile(3));
  // The CRC-32 of the data is the 8th to 5th last bytes.
  compressed[compressed.size() - 8] ^= 1;
  write("train-labels-idx1-ubyte.gz", compressed);
  expectDamaged("train-labels-idx1-ubyte.gz",
                "byte " + std::to_string(compressed.size() - 4) +
                    " of the compressed file",
                "not valid gzip data (zlib: incorrect data check)");
}

TEST_F(FashionMnistTest, TruncatedGzip) {
  writeGoodFiles();
  std::string compressed = gzip(imageFile(2));
  compressed.resize(compressed.size() / 2);
  write("t10k-images-idx3-ubyte.gz", compressed);
  expectDamaged("t10k-images-idx3-ubyte.gz",
                "byte " + std::to_string(compressed.size()) +
                    " of the compressed file",
                "the gzip stream ends early (the file is truncated)");
}

TEST_F(FashionMnistTest, BadMagic) {
  writeGoodFiles();
  write("train-images-idx3-ubyte.gz", gzip(labelFile(3)));
  expectDamaged("train-images-idx3-ubyte.gz", "byte 0 of the decompressed data",
                "the IDX magic number is 0x00000801, expected 0x00000803 "
                "(unsigned bytes, 3 dimensions) for images");
  writeGoodFiles();
  write("t10k-labels-idx1-ubyte.gz",
        gzip(idx(0x00000D01, {2}, std::string(8, '\0'))));
  expectDamaged("t10k-labels-idx1-ubyte.gz", "byte 0 of the decompressed data",
                "the IDX magic number is 0x00000d01, expected 0x00000801 "
                "(unsigned bytes, 1 dimension) for labels");
}

TEST_F(FashionMnistTest, ShortHeader) {
  writeGoodFiles();
  write("train-images-idx3-ubyte.gz", gzip(std::string("\0\0", 2)));
  expectDamaged("train-images-idx3-ubyte.gz", "byte 2 of the decompressed data",
                "the data ends inside the IDX magic number");
  write("train-images-idx3-ubyte.gz", gzip(idx(kImagesMagic, {3, 28}, "")));
  expectDamaged("train-images-idx3-ubyte.gz",
                "byte 12 of the decompressed data",
                "the data ends inside the IDX header, which has 16 bytes");
}

TEST_F(FashionMnistTest, WrongDimensions) {
  writeGoodFiles();
  write("train-images-idx3-ubyte.gz",
        gzip(idx(kImagesMagic, {1, 27, 28}, std::string(27 * 28, '\0'))));
  expectDamaged("train-images-idx3-ubyte.gz", "byte 8 of the decompressed data",
                "dimension 1 is 27, expected 28 for images");
  write("train-images-idx3-ubyte.gz",
        gzip(idx(kImagesMagic, {1, 28, 32}, std::string(28 * 32, '\0'))));
  expectDamaged("train-images-idx3-ubyte.gz",
                "byte 12 of the decompressed data",
                "dimension 2 is 32, expected 28 for images");
}

TEST_F(FashionMnistTest, TruncatedData) {
  writeGoodFiles();
  std::string images = imageFile(3);
  images.resize(images.size() - 100);
  write("train-images-idx3-ubyte.gz", gzip(images));
  expectDamaged("train-images-idx3-ubyte.gz",
                "byte " + std::to_string(images.size()) +
                    " of the decompressed data",
                "the data ends after 2252 of the 2352 bytes that the "
                "header's 3 examples need");
}

TEST_F(FashionMnistTest, TrailingData) {
  writeGoodFiles();
  write("train-labels-idx1-ubyte.gz", gzip(labelFile(3) + "xyz"));
  expectDamaged("train-labels-idx1-ubyte.gz",
                "byte 11 of the decompressed data",
                "3 bytes follow the last of the header's 3 examples");
}

TEST_F(FashionMnistTest, LabelOutOfRange) {
  writeGoodFiles();
  write("t10k-labels-idx1-ubyte.gz",
        gzip(idx(kLabelsMagic, {2}, std::string("\x03\x0a", 2))));
  expectDamaged("t10k-labels-idx1-ubyte.gz", "byte 9 of the decompressed data",
                "label 10 of example 1 is not a class in [0, 10)");
}

TEST_F(FashionMnistTest, CountMismatch) {
  writeGoodFiles();
  write("train-labels-idx1-ubyte.gz", gzip(labelFile(4)));
  expectDamaged("train-labels-idx1-ubyte.gz", "byte 4 of the decompressed data",
                "the file has 4 labels, but " +
                    pathOf("train-images-idx3-ubyte.gz") +
                    " has 3 images: the files do not belong together");
}

TEST_F(FashionMnistTest, FailureLeavesTheOutputAlone) {
  Split split;
  split.train.fields.push_back(io::TensorData::zeros(io::DType::I64, {7}));
  writeGoodFiles();
  write("t10k-labels-idx1-ubyte.gz", gzip(labelFile(3)));
  std::string error;
  EXPECT_FALSE(loadFashionMnist(dir.string(), 1.0, split, error));
  ASSERT_EQ(split.train.fields.size(), 1u);
  EXPECT_EQ(split.train.size(), 7);
}

TEST(FashionMnistRealTest, DebianFiles) {
  if (!fs::exists(fs::path(kFashionMnistDir) / "t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << kFashionMnistDir
                 << " is missing: install dataset-fashion-mnist";
  Split split;
  std::string error;
  ASSERT_TRUE(loadFashionMnist(kFashionMnistDir, 1 / 255.0, split, error))
      << error;
  EXPECT_EQ(split.train.fields[0].shape,
            (std::vector<int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(split.test.fields[0].shape,
            (std::vector<int64_t>{10000, 1, 28, 28}));
  EXPECT_EQ(split.train.fields[1].shape, (std::vector<int64_t>{60000}));
  EXPECT_EQ(split.test.fields[1].shape, (std::vector<int64_t>{10000}));

  // Facts of the published data set: its first labels, 6000 training and
  // 1000 test examples of each class, and the pixel sum of the first image.
  const int64_t *trainLabels = split.train.fields[1].data<int64_t>();
  const int64_t *testLabels = split.test.fields[1].data<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(trainLabels, trainLabels + 6),
            (std::vector<int64_t>{9, 0, 0, 3, 0, 2}));
  EXPECT_EQ(std::vector<int64_t>(testLabels, testLabels + 6),
            (std::vector<int64_t>{9, 2, 1, 1, 6, 1}));
  std::vector<int> perClass(10);
  for (int64_t i = 0; i < 60000; ++i)
    ++perClass[trainLabels[i]];
  EXPECT_EQ(perClass, std::vector<int>(10, 6000));
  for (int64_t i = 0; i < 10000; ++i)
    ++perClass[testLabels[i]];
  EXPECT_EQ(perClass, std::vector<int>(10, 7000));

  // Each value is a pixel p in [0, 255] as PyTorch's uint8 .float().div(255)
  // makes it, bit for bit.
  const float *images = split.train.fields[0].data<float>();
  long pixelSum = 0;
  for (int64_t i = 0; i < 60000 * int64_t(kImageBytes); ++i) {
    float pixel = std::round(images[i] * 255);
    ASSERT_EQ(images[i], pixel / 255.0f) << "element " << i;
    if (i < int64_t(kImageBytes))
      pixelSum += static_cast<long>(pixel);
  }
  EXPECT_EQ(pixelSum, 76247);
}

} // namespace
