//===- IdxTesting.h - Hand-made IDX files and the idx(...) fixture --------===//
//
// IDX files of every element type, raw and gzip, and the fixture that opens
// them as a trainer does and checks each example and each message.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_DATA_IDXTESTING_H
#define KILN_TEST_UNIT_DATA_IDXTESTING_H

#include "data/Source.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace kiln::data {
bool openIdx(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

namespace kiln::data::testing {

inline constexpr uint8_t kU8 = 0x08, kI8 = 0x09, kI16 = 0x0b, kI32 = 0x0c,
                         kF32 = 0x0d, kF64 = 0x0e;

inline std::string bigEndian(uint64_t value, int bytes) {
  std::string text;
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8)
    text += static_cast<char>(value >> shift);
  return text;
}

/// An IDX header of `type` and `dims`.
inline std::string header(uint8_t type, const std::vector<uint32_t> &dims) {
  std::string bytes = bigEndian(uint32_t(type) << 8 | dims.size(), 4);
  for (uint32_t dim : dims)
    bytes += bigEndian(dim, 4);
  return bytes;
}

/// The big-endian bytes of `value` as an element of `type`.
inline std::string element(uint8_t type, double value) {
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
inline std::string idx(uint8_t type, const std::vector<uint32_t> &dims,
                       const std::vector<double> &values) {
  std::string bytes = header(type, dims);
  for (double value : values)
    bytes += element(type, value);
  return bytes;
}

/// The value of element `i` of the test images of `type`: negative ones for
/// signed types, fractions for floats.
inline double pixel(uint8_t type, size_t i) {
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
inline std::string images(uint8_t type, uint32_t count,
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
inline std::string labels(uint32_t count, uint8_t type = kU8) {
  std::vector<double> values;
  for (uint32_t i = 0; i < count; ++i)
    values.push_back(i % 10);
  return idx(type, {count}, values);
}

/// One gzip member: `head`, then `zeros` zero bytes, compressed a piece at a
/// time so that the zeros are never all in memory.
inline std::string gzipMember(const std::string &head, size_t zeros = 0) {
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
inline std::string gzip(const std::string &raw, size_t member = SIZE_MAX) {
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
        (std::filesystem::path(::testing::TempDir()) / "idx-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    request.fields = {{"image", io::DType::F32, {1, 28, 28}, 0},
                      {"label", io::DType::I64, {}, 10}};
    setFiles("train-images", "train-labels");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

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

  std::filesystem::path dir;
  std::map<std::string, ArgumentValue> arguments;
  SourceRequest request;
  OpenedSource opened;
};

} // namespace kiln::data::testing

#endif // KILN_TEST_UNIT_DATA_IDXTESTING_H
