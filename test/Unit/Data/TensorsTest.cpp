//===- TensorsTest.cpp - tensors(...): .npy, .npz and safetensors arrays --===//
//
// The fixtures are made here byte by byte: .npy headers as numpy writes them,
// zip archives with stored, deflated, ZIP64 and data-descriptor members, and
// safetensors files. Every conversion is checked against its arithmetic, and
// every message must name the file, the array and the byte offset, and say
// what to do. The last tests read files that numpy itself writes, when
// /usr/bin/python3 has numpy.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Source.h"
#include "data/TensorFiles.h"
#include "io/Safetensors.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::data {
bool openTensors(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

using namespace kiln;
using namespace kiln::data;
namespace fs = std::filesystem;

namespace {

std::string littleEndian(uint64_t value, int size) {
  std::string bytes;
  for (int i = 0; i < size; ++i)
    bytes += static_cast<char>(value >> (8 * i));
  return bytes;
}

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

std::string tuple(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// The dict that numpy writes for an array.
std::string dictOf(const std::string &descr, const std::vector<int64_t> &shape,
                   bool fortran = false) {
  return "{'descr': '" + descr +
         "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + tuple(shape) + ", }";
}

/// A .npy prefix and header as numpy pads it: spaces and a newline, so that
/// the data starts at a multiple of 64.
std::string npyHeader(const std::string &dict, int major = 1) {
  size_t lengthSize = major == 1 ? 2 : 4;
  std::string header = dict;
  size_t total = 8 + lengthSize + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  return std::string("\x93NUMPY") + char(major) + '\0' +
         littleEndian(header.size(), lengthSize) + header;
}

std::string npy(const std::string &descr, const std::vector<int64_t> &shape,
                const std::string &data, int major = 1) {
  return npyHeader(dictOf(descr, shape), major) + data;
}

/// `raw` deflated without a wrapper, as zip members are.
std::string deflateRaw(const std::string &raw) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                         Z_DEFAULT_STRATEGY),
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

uint32_t crcOf(const std::string &data) {
  return crc32(0, reinterpret_cast<const Bytef *>(data.data()), data.size());
}

/// One member of a hand-made zip archive; the optional fields override what
/// the data implies, to make damaged archives.
struct Member {
  std::string name, data;
  bool deflate = false;
  /// Bit 3: sizes and CRC in a data descriptor after the data, zeros in the
  /// local header (numpy writing to a pipe).
  bool descriptor = false;
  uint16_t flags = 0;
  std::optional<uint16_t> method = std::nullopt;
  std::optional<uint32_t> crc = std::nullopt;
  std::optional<uint64_t> uncompressed = std::nullopt;
  /// The stored bytes, instead of the (deflated) data.
  std::optional<std::string> stored = std::nullopt;
};

/// A zip archive as numpy writes it: a ZIP64 extra field in every local
/// header. With `zip64Directory`, the central directory and end record use
/// their ZIP64 forms too, as they do past 4 GiB.
std::string zip(const std::vector<Member> &members,
                bool zip64Directory = false) {
  std::string out, directory;
  for (const Member &member : members) {
    std::string stored = member.stored.value_or(
        member.deflate ? deflateRaw(member.data) : member.data);
    uint16_t method = member.method.value_or(member.deflate ? 8 : 0);
    uint32_t crc = member.crc.value_or(crcOf(member.data));
    uint64_t size = member.uncompressed.value_or(member.data.size());
    uint16_t flags = member.flags | (member.descriptor ? 8 : 0);
    uint64_t offset = out.size();
    auto common = [&](bool local) {
      bool hide = local && member.descriptor;
      return littleEndian(20, 2) + littleEndian(flags, 2) +
             littleEndian(method, 2) + littleEndian(0, 2) +
             littleEndian(0x21, 2) + littleEndian(hide ? 0 : crc, 4);
    };
    out += "PK\x03\x04" + common(true) +
           littleEndian(member.descriptor ? 0 : stored.size(), 4) +
           littleEndian(member.descriptor ? 0 : size, 4) +
           littleEndian(member.name.size(), 2) + littleEndian(20, 2) +
           member.name + littleEndian(1, 2) + littleEndian(16, 2) +
           littleEndian(member.descriptor ? 0 : size, 8) +
           littleEndian(member.descriptor ? 0 : stored.size(), 8) + stored;
    if (member.descriptor)
      out += "PK\x07\x08" + littleEndian(crc, 4) +
             littleEndian(stored.size(), 8) + littleEndian(size, 8);
    std::string extra =
        zip64Directory
            ? littleEndian(1, 2) + littleEndian(24, 2) + littleEndian(size, 8) +
                  littleEndian(stored.size(), 8) + littleEndian(offset, 8)
            : "";
    uint64_t big = 0xffffffff;
    directory += "PK\x01\x02" + littleEndian(20, 2) + common(false) +
                 littleEndian(zip64Directory ? big : stored.size(), 4) +
                 littleEndian(zip64Directory ? big : size, 4) +
                 littleEndian(member.name.size(), 2) +
                 littleEndian(extra.size(), 2) + littleEndian(0, 2) +
                 littleEndian(0, 2) + littleEndian(0, 2) + littleEndian(0, 4) +
                 littleEndian(zip64Directory ? big : offset, 4) + member.name +
                 extra;
  }
  uint64_t directoryOffset = out.size();
  out += directory;
  uint64_t count = members.size();
  if (zip64Directory) {
    uint64_t record = out.size();
    out += "PK\x06\x06" + littleEndian(44, 8) + littleEndian(45, 2) +
           littleEndian(45, 2) + littleEndian(0, 4) + littleEndian(0, 4) +
           littleEndian(count, 8) + littleEndian(count, 8) +
           littleEndian(directory.size(), 8) + littleEndian(directoryOffset, 8);
    out += "PK\x06\x07" + littleEndian(0, 4) + littleEndian(record, 8) +
           littleEndian(1, 4);
    return out + "PK\x05\x06" + littleEndian(0, 4) + littleEndian(0xffff, 2) +
           littleEndian(0xffff, 2) + littleEndian(0xffffffff, 4) +
           littleEndian(0xffffffff, 4) + littleEndian(0, 2);
  }
  return out + "PK\x05\x06" + littleEndian(0, 4) + littleEndian(count, 2) +
         littleEndian(count, 2) + littleEndian(directory.size(), 4) +
         littleEndian(directoryOffset, 4) + littleEndian(0, 2);
}

/// The offset of the `n`th occurrence of `needle` in `haystack`.
uint64_t offsetOf(const std::string &haystack, const std::string &needle,
                  int n = 0) {
  size_t at = haystack.find(needle);
  while (n-- > 0)
    at = haystack.find(needle, at + 1);
  EXPECT_NE(at, std::string::npos) << needle;
  return at;
}

struct SafeTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string data;
};

/// A safetensors file written by hand, for the dtypes Kiln's writer lacks.
std::string safetensors(const std::vector<SafeTensor> &tensors) {
  std::string header = "{", data;
  for (const SafeTensor &tensor : tensors) {
    std::string shape;
    for (int64_t dim : tensor.shape)
      shape += (shape.empty() ? "" : ",") + std::to_string(dim);
    header += std::string(header.size() > 1 ? "," : "") + "\"" + tensor.name +
              "\":{\"dtype\":\"" + tensor.dtype + "\",\"shape\":[" + shape +
              "],\"data_offsets\":[" + std::to_string(data.size()) + "," +
              std::to_string(data.size() + tensor.data.size()) + "]}";
    data += tensor.data;
  }
  header += "}";
  return littleEndian(header.size(), 8) + header + data;
}

Field f32(const std::string &name, std::vector<int64_t> shape) {
  return Field{name, io::DType::F32, std::move(shape), 0};
}
Field i64(const std::string &name, std::vector<int64_t> shape,
          int64_t range = 0) {
  return Field{name, io::DType::I64, std::move(shape), range};
}

/// The bit pattern of a float, to compare NaNs and signed zeros.
uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

class TensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "tensors-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  std::string write(const std::string &name, const std::string &contents) {
    fs::path path = dir / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  SourceRequest request(const std::string &train, const std::string &test,
                        std::vector<Field> fields, double scale = 1) const {
    SourceRequest request;
    request.args =
        Arguments({{"train", train}, {"test", test}, {"scale", scale}});
    request.fields = std::move(fields);
    request.dataDir = dir.string();
    return request;
  }

  /// Opens tensors(train: train, test: test, scale: scale) for `fields`.
  bool open(const std::string &train, const std::string &test,
            std::vector<Field> fields, double scale = 1) {
    this->fields = fields;
    error.clear();
    return openTensors(request(train, test, std::move(fields), scale), opened,
                       error);
  }

  /// The message of a source that must not open.
  std::string openError(const std::string &train, std::vector<Field> fields,
                        const std::string &test = "") {
    EXPECT_FALSE(open(train, test, std::move(fields)));
    return error;
  }

  /// Example `index` of `examples`: one row of bytes per field.
  std::vector<std::string> readRows(const Examples &examples, int64_t index) {
    std::vector<std::string> rows;
    std::vector<void *> pointers;
    for (const Field &field : fields)
      rows.emplace_back(field.numBytes(), '\0');
    for (std::string &row : rows)
      pointers.push_back(row.data());
    std::string reason;
    EXPECT_TRUE(examples.read(index, pointers.data(), reason)) << reason;
    return rows;
  }

  template <typename T>
  std::vector<T> readField(const Examples &examples, int64_t index,
                           size_t field) {
    std::string row = readRows(examples, index)[field];
    std::vector<T> values(row.size() / sizeof(T));
    std::memcpy(values.data(), row.data(), row.size());
    return values;
  }

  fs::path dir;
  std::vector<Field> fields;
  OpenedSource opened;
  std::string error;
};

/// Expects `text` to contain every one of `parts`.
#define EXPECT_CONTAINS(text, ...)                                             \
  do {                                                                         \
    std::string actual = (text);                                               \
    for (const std::string &part : std::vector<std::string>{__VA_ARGS__})      \
      EXPECT_NE(actual.find(part), std::string::npos)                          \
          << "missing \"" << part << "\" in: " << actual;                      \
  } while (false)

//===----------------------------------------------------------------------===//
// Binding and reading
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, StoredNpzBindsByNameAndDescribesItself) {
  std::vector<uint8_t> pixels(3 * 2 * 2);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<uint8_t>(i * 20);
  std::string archive =
      zip({{"label.npy", npy("<i8", {3}, bytesOf<int64_t>({2, 0, 1}))},
           {"image.npy", npy("|u1", {3, 2, 2}, bytesOf(pixels))},
           {"extra.npy", npy("<f4", {1}, bytesOf<float>({1}))}});
  write("train.npz", archive);
  ASSERT_TRUE(
      open("train.npz", "", {f32("image", {1, 2, 2}), i64("label", {})}, 0.5))
      << error;
  EXPECT_EQ(opened.description,
            "tensors from train.npz (image u8[3, 2, 2], label i64[3])");
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_EQ(opened.notes[0], "tensors: arrays that no input of the model "
                             "takes, ignored: 'extra' in train.npz");
  ASSERT_EQ(opened.train->size(), 3);
  EXPECT_EQ(opened.test->size(), 0);
  EXPECT_EQ(readField<float>(*opened.train, 2, 0),
            (std::vector<float>{80, 90, 100, 110}));
  EXPECT_EQ(readField<int64_t>(*opened.train, 0, 1), std::vector<int64_t>{2});
  EXPECT_EQ(readField<int64_t>(*opened.train, 2, 1), std::vector<int64_t>{1});
}

TEST_F(TensorsTest, DirectoryOfNpyFilesWithATestSplit) {
  write("train/x.npy", npy("<f4", {2, 3}, bytesOf<float>({1, 2, 3, 4, 5, 6})));
  write("train/y.npy", npy("<i4", {2}, bytesOf<int32_t>({7, 8})));
  write("train/README.txt", "not an array");
  write("test/x.npy", npy("<f4", {1, 3}, bytesOf<float>({9, 8, 7})));
  write("test/y.npy", npy("<i4", {1}, bytesOf<int32_t>({1})));
  ASSERT_TRUE(open("train/", "test", {f32("x", {3}), i64("y", {})})) << error;
  EXPECT_EQ(opened.description, "tensors from train/ (x f32[2, 3], y "
                                "i32[2]) and test (x f32[1, 3], y i32[1])");
  EXPECT_TRUE(opened.notes.empty());
  EXPECT_EQ(readField<float>(*opened.train, 1, 0),
            (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(readField<int64_t>(*opened.train, 1, 1), std::vector<int64_t>{8});
  ASSERT_EQ(opened.test->size(), 1);
  EXPECT_EQ(readField<float>(*opened.test, 0, 0),
            (std::vector<float>{9, 8, 7}));
}

TEST_F(TensorsTest, SafetensorsBindsByNameWithEveryDType) {
  std::vector<uint16_t> bf16 = {0x3f80, 0xc2f7};
  write("train.safetensors",
        safetensors({{"b", "BF16", {2}, bytesOf(bf16)},
                     {"a", "U8", {2, 1}, bytesOf<uint8_t>({3, 250})},
                     {"unused", "F8_E4M3", {1}, "x"}}));
  ASSERT_TRUE(open("train.safetensors", "", {f32("b", {}), i64("a", {})}))
      << error;
  EXPECT_EQ(opened.description,
            "tensors from train.safetensors (b bf16[2], a u8[2, 1])");
  EXPECT_EQ(readField<float>(*opened.train, 0, 0), std::vector<float>{1});
  EXPECT_EQ(readField<float>(*opened.train, 1, 0), std::vector<float>{-123.5f});
  EXPECT_EQ(readField<int64_t>(*opened.train, 1, 1), std::vector<int64_t>{250});
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_CONTAINS(opened.notes[0], "'unused' in train.safetensors");
}

TEST_F(TensorsTest, KilnsSafetensorsAndFilesToldApartByContent) {
  io::TensorFile file;
  file.tensors["w"] = io::TensorData::zeros(io::DType::F64, {2, 2});
  file.tensors["w"].data<double>()[3] = 0.1;
  std::string error;
  ASSERT_TRUE(io::writeTensorFile(pathOf("weights.bin"), file, error));
  ASSERT_TRUE(open("weights.bin", "", {f32("w", {2})})) << error;
  EXPECT_EQ(readField<float>(*opened.train, 1, 0),
            (std::vector<float>{0, 0.1f}));
  write("archive.data",
        zip({{"w.npy", npy("<f8", {1}, bytesOf<double>({3}))}}));
  ASSERT_TRUE(open("archive.data", "", {f32("w", {})})) << error;
  EXPECT_EQ(readField<float>(*opened.train, 0, 0), std::vector<float>{3});
}

TEST_F(TensorsTest, RelativePathsAreReadFromTheDataDirectory) {
  write("sub/a.npz", zip({{"x.npy", npy("<f4", {1}, bytesOf<float>({5}))}}));
  fields = {f32("x", {})};
  SourceRequest relative = request("a.npz", "", fields);
  relative.dataDir = pathOf("sub");
  ASSERT_TRUE(openTensors(relative, opened, error)) << error;
  EXPECT_EQ(readField<float>(*opened.train, 0, 0), std::vector<float>{5});
}

TEST_F(TensorsTest, ShapesMayDifferByDimensionsOfSizeOne) {
  write("d/a.npy",
        npy("<f4", {2, 4}, bytesOf<float>({0, 1, 2, 3, 4, 5, 6, 7})));
  write("d/b.npy", npy("<i8", {2, 1}, bytesOf<int64_t>({4, 5})));
  write("d/c.npy", npy("<f4", {2, 1, 2, 1}, bytesOf<float>({1, 2, 3, 4})));
  ASSERT_TRUE(open("d", "", {f32("a", {1, 4, 1}), i64("b", {}), f32("c", {2})}))
      << error;
  EXPECT_EQ(readField<float>(*opened.train, 1, 0),
            (std::vector<float>{4, 5, 6, 7}));
  EXPECT_EQ(readField<int64_t>(*opened.train, 1, 1), std::vector<int64_t>{5});
  EXPECT_EQ(readField<float>(*opened.train, 1, 2), (std::vector<float>{3, 4}));
}

TEST_F(TensorsTest, ReadsFromTwoThreadsAtOnce) {
  constexpr int64_t count = 300, width = 700;
  std::vector<uint16_t> halves(count * width);
  std::vector<int32_t> ids(count);
  for (size_t i = 0; i < halves.size(); ++i)
    halves[i] = static_cast<uint16_t>(0x3c00 + i % 1024);
  for (int64_t i = 0; i < count; ++i)
    ids[i] = static_cast<int32_t>(i * 7 % 10);
  write("t.npz", zip({{"h.npy", npy("<f2", {count, width}, bytesOf(halves))},
                      {"id.npy", npy("<i4", {count}, bytesOf(ids)),
                       /*deflate=*/true}}));
  ASSERT_TRUE(open("t.npz", "", {f32("h", {width}), i64("id", {}, 10)}, 2))
      << error;
  std::vector<std::vector<std::string>> expected;
  for (int64_t i = 0; i < count; ++i)
    expected.push_back(readRows(*opened.train, i));
  EXPECT_EQ(readField<float>(*opened.train, 0, 0)[1], 2 * (1 + 1 / 1024.0f));
  std::vector<int> mismatches(2, 0);
  auto reader = [&](int thread) {
    std::string h(width * 4, '\0'), id(8, '\0'), reason;
    void *rows[] = {h.data(), id.data()};
    for (int round = 0; round < 5; ++round)
      for (int64_t k = 0; k < count; ++k) {
        int64_t i = thread ? count - 1 - k : k;
        if (!opened.train->read(i, rows, reason) || h != expected[i][0] ||
            id != expected[i][1])
          ++mismatches[thread];
      }
  };
  std::thread first(reader, 0), second(reader, 1);
  first.join();
  second.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0}));
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

/// Each dtype to f32 is the value in double, times the scale, rounded once.
TEST_F(TensorsTest, EveryIntegerAndFloatDTypeToF32) {
  double scale = 1.0 / 3;
  auto expectOne = [&](const std::string &descr, const std::string &data,
                       std::vector<double> values) {
    SCOPED_TRACE(descr);
    fs::remove_all(dir / "d");
    write("d/v.npy", npy(descr, {int64_t(values.size())}, data));
    ASSERT_TRUE(open("d", "", {f32("v", {})}, scale)) << error;
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(bitsOf(readField<float>(*opened.train, i, 0)[0]),
                bitsOf(static_cast<float>(values[i] * scale)))
          << values[i];
  };
  expectOne("|b1", bytesOf<uint8_t>({0, 1}), {0, 1});
  expectOne("|u1", bytesOf<uint8_t>({0, 1, 255}), {0, 1, 255});
  expectOne("|i1", bytesOf<int8_t>({-128, -1, 127}), {-128, -1, 127});
  expectOne("<u2", bytesOf<uint16_t>({0, 65535}), {0, 65535});
  expectOne("<i2", bytesOf<int16_t>({-32768, 32767}), {-32768, 32767});
  expectOne("<u4", bytesOf<uint32_t>({4294967295u, 7}), {4294967295.0, 7});
  expectOne("<i4", bytesOf<int32_t>({INT32_MIN, -5}), {INT32_MIN, -5});
  expectOne("<u8", bytesOf<uint64_t>({UINT64_MAX, 1}),
            {static_cast<double>(UINT64_MAX), 1});
  expectOne("<i8", bytesOf<int64_t>({INT64_MIN, (1LL << 53) + 1}),
            {static_cast<double>(INT64_MIN), static_cast<double>(1LL << 53)});
  expectOne("<f4", bytesOf<float>({0.1f, -3e38f}), {0.1f, -3e38f});
  expectOne("<f8", bytesOf<double>({0.1, 1e300, -2.5}), {0.1, 1e300, -2.5});
  expectOne("<f2", bytesOf<uint16_t>({0x3c00, 0xc500}), {1, -5});
}

TEST_F(TensorsTest, F32WithScaleOneIsCopiedBitForBit) {
  std::vector<uint32_t> bits = {0x7fa00001, 0x80000000, 0x00000001, 0x3dcccccd};
  write("d/v.npy", npy("<f4", {4}, bytesOf(bits)));
  ASSERT_TRUE(open("d", "", {f32("v", {})})) << error;
  for (size_t i = 0; i < bits.size(); ++i)
    EXPECT_EQ(bitsOf(readField<float>(*opened.train, i, 0)[0]), bits[i]) << i;
}

/// The value of a half from its definition, to check all 65536 of them.
double halfValue(uint16_t half) {
  int exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  double sign = half & 0x8000 ? -1 : 1;
  if (exponent == 0x1f)
    return mantissa ? NAN : sign * INFINITY;
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -24);
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

TEST_F(TensorsTest, EveryF16AndEdgeBF16ValuesDecodeExactly) {
  std::vector<uint16_t> halves(65536);
  for (uint32_t i = 0; i < 65536; ++i)
    halves[i] = static_cast<uint16_t>(i);
  std::vector<uint16_t> bfloats = {0x0000, 0x8000, 0x3f80, 0x0001, 0x807f,
                                   0x7f7f, 0x7f80, 0xff80, 0x7fc1, 0x4049};
  write("h.safetensors",
        safetensors(
            {{"h", "F16", {65536}, bytesOf(halves)},
             {"b", "BF16", {1, int64_t(bfloats.size())}, bytesOf(bfloats)}}));
  ASSERT_TRUE(open("h.safetensors", "", {f32("h", {})})) << error;
  int wrong = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    float value = readField<float>(*opened.train, i, 0)[0];
    double expected = halfValue(static_cast<uint16_t>(i));
    bool same = std::isnan(expected)
                    ? std::isnan(value) && (bitsOf(value) >> 31) == (i >> 15)
                    : bitsOf(value) == bitsOf(static_cast<float>(expected));
    wrong += !same;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(readField<float>(*opened.train, 0x7bff, 0)[0], 65504.0f);
  EXPECT_EQ(readField<float>(*opened.train, 1, 0)[0], std::ldexp(1.0f, -24));

  ASSERT_TRUE(open("h.safetensors", "", {f32("b", {10})})) << error;
  std::vector<float> values = readField<float>(*opened.train, 0, 0);
  for (size_t i = 0; i < bfloats.size(); ++i)
    EXPECT_EQ(bitsOf(values[i]), uint32_t(bfloats[i]) << 16) << i;
  EXPECT_EQ(values[2], 1.0f);
  EXPECT_EQ(values[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(values[9], 3.140625f);
}

TEST_F(TensorsTest, IntegerDTypesToI64) {
  write("d/a.npy", npy("|i1", {3}, bytesOf<int8_t>({-128, 0, 127})));
  write("d/b.npy", npy("<u4", {3}, bytesOf<uint32_t>({4294967295u, 0, 1})));
  write("d/c.npy", npy("|b1", {3}, bytesOf<uint8_t>({1, 0, 1})));
  write("d/e.npy", npy("<i8", {3}, bytesOf<int64_t>({INT64_MIN, -1, 2})));
  write("d/f.npy", npy("<u8", {3}, bytesOf<uint64_t>({1ull << 62, 0, 5})));
  write("d/g.npy", npy("<i2", {3}, bytesOf<int16_t>({-300, 2, 3})));
  write("d/h.npy", npy("<u2", {3}, bytesOf<uint16_t>({65535, 2, 3})));
  write("d/i.npy", npy("<i4", {3}, bytesOf<int32_t>({INT32_MIN, 2, 3})));
  write("d/j.npy", npy("|u1", {3}, bytesOf<uint8_t>({255, 2, 3})));
  ASSERT_TRUE(open("d", "",
                   {i64("a", {}), i64("b", {}), i64("c", {}), i64("e", {}),
                    i64("f", {}), i64("g", {}), i64("h", {}), i64("i", {}),
                    i64("j", {})},
                   /*scale=*/10))
      << error;
  std::vector<int64_t> first;
  for (const std::string &row : readRows(*opened.train, 0)) {
    int64_t value;
    std::memcpy(&value, row.data(), 8);
    first.push_back(value);
  }
  EXPECT_EQ(first,
            (std::vector<int64_t>{-128, 4294967295LL, 1, INT64_MIN, 1LL << 62,
                                  -300, 65535, INT32_MIN, 255}));
}

/// The built-in Fashion-MNIST loader and a u8 .npz of the same pixels give
/// the same floats, bit for bit, so that a model trains the same on both.
TEST_F(TensorsTest, MatchesFashionMnistsPixelsBitForBit) {
  auto bigEndian = [](uint32_t value) {
    std::string bytes;
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes += static_cast<char>(value >> shift);
    return bytes;
  };
  auto gzip = [](const std::string &raw) {
    z_stream stream{};
    EXPECT_EQ(deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                           Z_DEFAULT_STRATEGY),
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
  };
  std::string pixels, labels;
  for (int i = 0; i < 2; ++i) {
    for (int p = 0; p < 28 * 28; ++p)
      pixels += static_cast<char>((i * 97 + p) % 256);
    labels += static_cast<char>(i + 3);
  }
  for (const char *part : {"train", "t10k"}) {
    write(std::string(part) + "-images-idx3-ubyte.gz",
          gzip(bigEndian(0x803) + bigEndian(2) + bigEndian(28) + bigEndian(28) +
               pixels));
    write(std::string(part) + "-labels-idx1-ubyte.gz",
          gzip(bigEndian(0x801) + bigEndian(2) + labels));
  }
  Split builtin;
  double scale = 1.0 / 255;
  ASSERT_TRUE(loadFashionMnist(dir.string(), scale, builtin, error)) << error;
  write("fm.npz", zip({{"image.npy", npy("|u1", {2, 28, 28}, pixels)},
                       {"label.npy", npy("|u1", {2}, labels)}}));
  ASSERT_TRUE(open("fm.npz", "fm.npz",
                   {f32("image", {1, 28, 28}), i64("label", {}, 10)}, scale))
      << error;
  TensorExamples expected(builtin.train.fields);
  for (int64_t i = 0; i < 2; ++i)
    EXPECT_EQ(readRows(*opened.train, i), readRows(expected, i)) << i;
}

//===----------------------------------------------------------------------===//
// .npz archives
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, DeflatedMembersAreInflatedAndSaySo) {
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i % 7);
  std::string member = npy("<f4", {10, 100}, bytesOf(values));
  write("c.npz", zip({{"x.npy", member, /*deflate=*/true}}));
  ASSERT_TRUE(open("c.npz", "c.npz", {f32("x", {100})})) << error;
  EXPECT_EQ(readField<float>(*opened.train, 9, 0)[99], values[999]);
  ASSERT_EQ(opened.notes.size(), 2u);
  EXPECT_EQ(opened.notes[0],
            "tensors: c.npz: deflated members 'x.npy' "
            "(numpy.savez_compressed) are held in memory, 0.0 MB in all; "
            "numpy.savez writes stored members, which are read from the file "
            "as training needs them");
}

TEST_F(TensorsTest, DataDescriptorsAndZip64Directories) {
  std::string x = npy("<i4", {2}, bytesOf<int32_t>({5, 6}));
  std::string y = npy("<f8", {2}, bytesOf<double>({0.5, 1.5}));
  for (bool zip64 : {false, true}) {
    SCOPED_TRACE(zip64);
    write("z.npz", zip({{"x.npy", x, false, /*descriptor=*/true},
                        {"y.npy", y, true, /*descriptor=*/true}},
                       zip64));
    ASSERT_TRUE(open("z.npz", "", {i64("x", {}), f32("y", {})})) << error;
    EXPECT_EQ(readField<int64_t>(*opened.train, 1, 0), std::vector<int64_t>{6});
    EXPECT_EQ(readField<float>(*opened.train, 1, 1), std::vector<float>{1.5});
  }
}

TEST_F(TensorsTest, NpzErrors) {
  std::string x = npy("<f4", {1}, bytesOf<float>({1}));
  std::vector<Field> xs = {f32("x", {})};
  auto fails = [&](const std::string &archive) {
    write("bad.npz", archive);
    return openError("bad.npz", xs);
  };
  std::string path = pathOf("bad.npz");

  std::string archive = zip({{"x.npy", x}});
  std::string error = fails(archive.substr(0, archive.size() - 3));
  EXPECT_CONTAINS(error,
                  path + ": byte " + std::to_string(archive.size() - 3) +
                      ": no zip end-of-central-directory record",
                  "truncated or not a .npz archive",
                  "save it again with numpy.savez");

  Member encrypted{"x.npy", x};
  encrypted.flags = 1;
  archive = zip({encrypted});
  error = fails(archive);
  EXPECT_EQ(error, path + ": member 'x.npy', byte " +
                       std::to_string(offsetOf(archive, "PK\x01\x02")) +
                       ": the member is encrypted, which Kiln cannot read; "
                       "save the arrays with numpy.savez, without a password");

  Member bzip{"x.npy", x};
  bzip.method = 12;
  error = fails(zip({bzip}));
  EXPECT_CONTAINS(error, "member 'x.npy', byte ", "zip method 12",
                  "numpy.savez or numpy.savez_compressed");

  error = fails(zip({{"x.npy", x}, {"notes.txt", "hello"}}));
  EXPECT_CONTAINS(error, "member 'notes.txt', byte ", "not a NAME.npy array");

  archive = zip({{"x.npy", x}, {"x.npy", x}});
  error = fails(archive);
  EXPECT_EQ(error, path + ": byte " +
                       std::to_string(offsetOf(archive, "PK\x01\x02", 1)) +
                       ": the zip archive is damaged (member 'x.npy' appears "
                       "twice); save it again with numpy.savez");

  // A central directory that points at the wrong local header.
  archive = zip({{"x.npy", x}});
  archive[0] = 'Q';
  error = fails(archive);
  EXPECT_CONTAINS(error, path + ": byte 0: the zip archive is damaged (no "
                                "local header of member 'x.npy'");

  archive = zip({{"x.npy", x}});
  uint64_t end = offsetOf(archive, "PK\x05\x06");
  archive[end + 4] = 1;
  error = fails(archive);
  EXPECT_EQ(error, path + ": byte " + std::to_string(end) +
                       ": the zip archive spans several disks; join its "
                       "parts into one file (or save it again with "
                       "numpy.savez)");

  archive = zip({{"x.npy", x}}, /*zip64Directory=*/true);
  uint64_t locator = offsetOf(archive, "PK\x06\x07");
  archive[locator] = 'Q';
  error = fails(archive);
  EXPECT_CONTAINS(error, "the end record asks for ZIP64 but no ZIP64 locator");

  archive = zip({{"x.npy", x}});
  archive.insert(offsetOf(archive, "PK\x05\x06"), "junk");
  error = fails(archive);
  EXPECT_CONTAINS(error, "the central directory does not end where the end "
                         "record begins");

  Member stored{"x.npy", x};
  stored.uncompressed = x.size() + 1;
  error = fails(zip({stored}));
  EXPECT_CONTAINS(error, "stored member 'x.npy' has different compressed");
}

/// Damage to the zip structures, each found where it lies.
TEST_F(TensorsTest, DamagedZipStructures) {
  std::string x = npy("<f4", {1}, bytesOf<float>({1}));
  std::string path = pathOf("bad.npz");
  auto damaged = [&](const std::string &archive, uint64_t at,
                     const std::string &what) {
    write("bad.npz", archive);
    EXPECT_EQ(openError("bad.npz", {f32("x", {})}),
              path + ": byte " + std::to_string(at) +
                  ": the zip archive is damaged (" + what +
                  "); save it again with numpy.savez");
  };
  auto patch = [](std::string bytes, uint64_t at, uint64_t value, int size) {
    bytes.replace(at, size, littleEndian(value, size));
    return bytes;
  };
  std::string one = zip({{"x.npy", x}});
  uint64_t central = offsetOf(one, "PK\x01\x02");
  uint64_t end = offsetOf(one, "PK\x05\x06");
  damaged(patch(one, central + 42, 0x7fffffff, 4), central,
          "member 'x.npy' starts past the central directory");
  damaged(patch(patch(one, central + 20, 5000, 4), central + 24, 5000, 4), 55,
          "the data of member 'x.npy' runs into the central directory");
  damaged(patch(patch(one, end + 8, 2, 2), end + 10, 2, 2), end,
          "no central directory entry where one should be");
  damaged(patch(one, central + 28, 300, 2), central,
          "an entry runs past the central directory");

  std::string two = zip({{"x.npy", x}, {"y.npy", x}});
  end = offsetOf(two, "PK\x05\x06");
  damaged(patch(patch(two, end + 8, 1, 2), end + 10, 1, 2),
          offsetOf(two, "PK\x01\x02", 1),
          "the central directory holds more than its entries");

  std::string big = zip({{"x.npy", x}}, /*zip64Directory=*/true);
  uint64_t record = offsetOf(big, "PK\x06\x06");
  uint64_t locator = offsetOf(big, "PK\x06\x07");
  central = offsetOf(big, "PK\x01\x02");
  damaged(patch(big, locator + 8, 1ull << 40, 8), locator,
          "the ZIP64 locator points outside the file");
  damaged(patch(big, record, 0, 4), record,
          "no ZIP64 end record where the locator points");
  uint64_t extra = central + 46 + 5;
  damaged(patch(big, extra + 2, 100, 2), central,
          "an extra field of member 'x.npy' runs past its entry");
  damaged(patch(big, extra + 2, 8, 2), central,
          "the ZIP64 field of member 'x.npy' is too short");
}

TEST_F(TensorsTest, ByteSourcesReadInBoundsOnly) {
  ByteSource memory = ByteSource::ofMemory({1, 2, 3, 4});
  uint8_t out[4] = {};
  std::string reason;
  EXPECT_EQ(memory.size(), 4u);
  ASSERT_TRUE(memory.read(1, 3, out, reason)) << reason;
  EXPECT_EQ(out[2], 4);
  EXPECT_FALSE(memory.read(2, 3, out, reason));
  EXPECT_EQ(reason, "the data ends at byte 4");

  ByteSource file;
  EXPECT_FALSE(ByteSource::openFile(pathOf("absent"), file, reason));
  EXPECT_EQ(reason, "cannot open it (No such file or directory)");
  EXPECT_FALSE(ByteSource::openFile(dir.string(), file, reason));
  EXPECT_EQ(reason, "it is not a regular file");
  ASSERT_TRUE(ByteSource::openFile(write("f", "abcdef"), file, reason));
  ASSERT_TRUE(file.read(4, 2, out, reason)) << reason;
  EXPECT_EQ(out[1], 'f');
  EXPECT_FALSE(file.read(4, 3, out, reason));
  EXPECT_EQ(reason, "the file ends at byte 6, shorter than when it was opened");
}

TEST_F(TensorsTest, DeflatedMemberErrors) {
  std::string x = npy("<f4", {64}, std::string(256, '\1'));
  std::vector<Field> xs = {f32("x", {64})};
  auto fails = [&](const Member &member) {
    write("bad.npz", zip({member}));
    return openError("bad.npz", xs);
  };
  std::string where = pathOf("bad.npz") + ": member 'x.npy', byte ";
  std::string deflated = deflateRaw(x);

  Member damaged{"x.npy", x, true};
  damaged.stored = "\xff\xff\xff\xff" + deflated;
  std::string error = fails(damaged);
  EXPECT_CONTAINS(error, where, "the deflated data is damaged (zlib: ",
                  "numpy.savez_compressed");

  Member truncated{"x.npy", x, true};
  truncated.stored = deflated.substr(0, deflated.size() / 2);
  error = fails(truncated);
  EXPECT_CONTAINS(error, where, "the deflated data ends early, after ",
                  "the file is truncated");

  Member longer{"x.npy", x, true};
  longer.uncompressed = x.size() - 1;
  error = fails(longer);
  EXPECT_CONTAINS(error, where, "the member inflates to more than ",
                  "bytes, but the zip directory gives it");

  Member shorter{"x.npy", x, true};
  shorter.uncompressed = x.size() + 1;
  error = fails(shorter);
  EXPECT_CONTAINS(error, "the member inflates to " + std::to_string(x.size()) +
                             " bytes, but the zip directory gives it " +
                             std::to_string(x.size() + 1));

  Member crc{"x.npy", x, true};
  crc.crc = 1234;
  error = fails(crc);
  EXPECT_CONTAINS(error, where, "CRC-32 does not match");

  Member bomb{"x.npy", x, true};
  bomb.uncompressed = uint64_t(1) << 40;
  write("bad.npz", zip({bomb}, /*zip64Directory=*/true));
  error = openError("bad.npz", xs);
  EXPECT_CONTAINS(error, "the zip archive is damaged (member 'x.npy' claims "
                         "1099511627776 bytes inflated from ");

  // Errors in the inflated .npy count bytes within the member.
  Member big{"x.npy", npy(">f4", {64}, std::string(256, '\1')), true};
  error = fails(big);
  EXPECT_EQ(error.rfind(where + "0 of the inflated member: the array is "
                                "big-endian",
                        0),
            0u)
      << error;
}

/// A deflated member that does not fit in memory fails with a message, not
/// an exception; the address space is limited in a child process.
TEST_F(TensorsTest, OutOfMemoryWhileInflating) {
  Member huge{"x.npy", ""};
  huge.method = 8;
  huge.stored = std::string(1 << 20, '\0');
  huge.uncompressed = uint64_t(1) << 30;
  write("huge.npz", zip({huge}));
  SourceRequest big = request("huge.npz", "", {f32("x", {})});
  auto child = [&] {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlim_t budget = pages * ::sysconf(_SC_PAGESIZE) + (256 << 20);
    struct rlimit limit = {budget, budget};
    ::setrlimit(RLIMIT_AS, &limit);
    OpenedSource result;
    std::string message;
    bool ok = openTensors(big, result, message);
    std::fprintf(stderr, "%s\n", message.c_str());
    std::_Exit(ok ? 1 : 0);
  };
  EXPECT_EXIT(
      child(), ::testing::ExitedWithCode(0),
      "huge.npz: out of memory while opening the arrays; a deflated .npz "
      "member \\(numpy.savez_compressed\\) is inflated into memory whole");
}

//===----------------------------------------------------------------------===//
// .npy headers
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, NpyVersionsAndSpacing) {
  std::string data = bytesOf<float>({1, 2});
  write("v/a.npy", npy("<f4", {2}, data, 2));
  write("v/b.npy", npy("<f4", {2}, data, 3));
  // The spacing and quotes of hand-written or older headers, and Python 2's
  // long sizes.
  write(
      "v/c.npy",
      npyHeader("{ \"shape\" :(2L,) ,'fortran_order':False,\t'descr':'<f4'}") +
          data);
  write("v/d.npy", npyHeader("{'descr': '<f4', 'fortran_order': True, "
                             "'shape': (2,)}") +
                       data);
  ASSERT_TRUE(
      open("v", "", {f32("a", {}), f32("b", {}), f32("c", {}), f32("d", {})}))
      << error;
  for (size_t f = 0; f < 4; ++f)
    EXPECT_EQ(readField<float>(*opened.train, 1, f), std::vector<float>{2})
        << f;
}

TEST_F(TensorsTest, UnsupportedArrays) {
  auto fails = [&](const std::string &contents) {
    fs::remove_all(dir / "d");
    write("d/x.npy", contents);
    return openError("d", {f32("x", {2})});
  };
  std::string where = pathOf("d/x.npy") + ": byte 0: ";
  std::string data(16, '\0');
  EXPECT_EQ(fails(npy(">f4", {2, 2}, data)),
            where + "the array is big-endian ('>f4'); save it little-endian, "
                    "e.g. with x.astype('<f4')");
  EXPECT_EQ(fails(npyHeader(dictOf("<f4", {2, 2}, true)) + data),
            where + "the array is in Fortran order; save it with "
                    "np.save(path, np.ascontiguousarray(x)) so that its rows "
                    "are contiguous");
  EXPECT_CONTAINS(fails(npy("|O", {2, 2}, data)), where,
                  "the array holds Python objects ('|O'), which .npy stores "
                  "as a pickle");
  EXPECT_EQ(fails(npyHeader("{'descr': [('a', '<f4'), ('b', '<i4')], "
                            "'fortran_order': False, 'shape': (2,), }") +
                  data),
            where + "the array has a structured dtype (a list of named "
                    "fields); save each field as an array of its own");
  EXPECT_CONTAINS(fails(npy("<c8", {2, 1}, data)), where,
                  "the dtype '<c8' is not one Kiln reads (bool, u8, ",
                  "x.astype(np.float32)");
  EXPECT_CONTAINS(fails(npy("|f4", {2, 2}, data)), "the dtype '|f4' is not");
  EXPECT_CONTAINS(fails(npy("<U2", {2, 2}, data)), "the dtype '<U2' is not");
}

TEST_F(TensorsTest, MalformedNpyHeaders) {
  auto fails = [&](const std::string &dict) {
    fs::remove_all(dir / "d");
    write("d/x.npy", npyHeader(dict) + std::string(8, '\0'));
    return openError("d", {f32("x", {2})});
  };
  auto expectAt = [&](const std::string &dict, size_t at,
                      const std::string &what) {
    EXPECT_EQ(fails(dict),
              pathOf("d/x.npy") + ": byte " + std::to_string(10 + at) +
                  ": the .npy header is not the dict that numpy writes (" +
                  what + "); save the array again with numpy.save")
        << dict;
  };
  expectAt("['descr']", 0, "expected '{'");
  expectAt("{descr: 1}", 1, "expected a quoted key");
  expectAt("{'descr' '<f4'}", 9, "expected ':'");
  expectAt("{'descr': '<f4' 'shape': (2,)}", 16, "expected ',' or '}'");
  expectAt("{'descr': '<f4', 'order': 1}", 17,
           "the key 'order' is not one numpy writes");
  expectAt("{'descr': '<f4', 'descr': '<f4'}", 17,
           "the key 'descr' appears twice");
  expectAt("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 17,
           "expected ',' or '}'");
  expectAt("{'descr': '<f4\\'', 'fortran_order': False, 'shape': (2,)}", 10,
           "a string without its closing quote");
  expectAt("{'fortran_order': false}", 18, "expected True or False");
  expectAt("{'shape': 2}", 10, "expected '('");
  expectAt("{'shape': (-2,)}", 11, "expected a size");
  expectAt("{'shape': (2 3)}", 13, "expected ',' or ')'");
  expectAt("{'shape': (99999999999999999999,)}", 11,
           "a size larger than 2^63 - 1");
  expectAt("{'descr': '<f4', 'fortran_order': False} x", 41,
           "text follows the closing '}'");
  // The position of "missing" is the end of the dict.
  expectAt("{'descr': '<f4', 'fortran_order': False}", 54,
           "the key 'shape' is missing");
}

TEST_F(TensorsTest, DamagedNpyFiles) {
  auto fails = [&](const std::string &contents) {
    fs::remove_all(dir / "d");
    write("d/x.npy", contents);
    return openError("d", {f32("x", {2})});
  };
  std::string path = pathOf("d/x.npy");
  std::string good = npy("<f4", {3, 2}, bytesOf<float>({1, 2, 3, 4, 5, 6}));

  EXPECT_EQ(fails("PK\x03\x04 not an array"),
            path + ": byte 0: not a .npy array: it does not start with "
                   "\"\\x93NUMPY\"; save the array again with numpy.save");
  EXPECT_EQ(fails(""), path + ": byte 0: not a .npy array: it does not start "
                              "with \"\\x93NUMPY\"; save the array again "
                              "with numpy.save");
  EXPECT_EQ(fails(good.substr(0, 7)),
            path + ": byte 7: the data ends inside the .npy header's first "
                   "10 bytes; the file is truncated");
  std::string v2 = npy("<f4", {2}, "", 2);
  EXPECT_CONTAINS(fails(v2.substr(0, 10)),
                  ": byte 10: the data ends inside the .npy header's first "
                  "12 bytes");
  std::string v4 = good;
  v4[6] = 4;
  EXPECT_EQ(fails(v4), path + ": byte 6: the .npy format version is 4.0, not "
                              "1.0, 2.0 or 3.0 (what numpy writes); save the "
                              "array again with numpy.save");
  EXPECT_EQ(fails(good.substr(0, 40)),
            path + ": byte 40: the data ends inside the .npy header, which "
                   "needs 118 bytes from byte 10; the file is truncated");
  std::string huge =
      std::string("\x93NUMPY\x02") + '\0' + littleEndian(1 << 21, 4) + "{}";
  EXPECT_CONTAINS(fails(huge),
                  ": byte 8: the .npy header is 2097152 bytes long, more "
                  "than the 1048576 Kiln reads");
  EXPECT_EQ(fails(good.substr(0, good.size() - 5)),
            path + ": byte 147: the data ends here, after 19 of the 24 bytes "
                   "that shape [3, 2] of f32 needs (from byte 128); the file "
                   "is truncated");
  EXPECT_EQ(fails(good + "xyz"),
            path + ": byte 152: 3 bytes follow the 24 bytes that shape [3, 2] "
                   "of f32 needs; the header does not describe the data: "
                   "save the array again with numpy.save");
  EXPECT_CONTAINS(fails(npy("<f4", {1LL << 62, 1LL << 62}, "")),
                  ": byte 128: the data ends here, after 0 of the more than "
                  "2^64 bytes");
}

//===----------------------------------------------------------------------===//
// Binding errors
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, PathsThatAreNotTensorFiles) {
  std::string error = openError("absent.npz", {f32("x", {})});
  EXPECT_EQ(error, pathOf("absent.npz") +
                       ": cannot open it (No such file or directory); check "
                       "the path (a relative path is read from the trainer's "
                       "--data directory, or the current one)");

  write("one.npy", npy("<f4", {1}, bytesOf<float>({1})));
  error = openError("one.npy", {f32("x", {})});
  EXPECT_CONTAINS(error,
                  pathOf("one.npy") + ": a .npy file holds one "
                                      "unnamed array",
                  "put one NAME.npy per input in a directory",
                  "numpy.savez(\"data.npz\", image=..., label=...)");
  write("renamed.dat", npy("<f4", {1}, bytesOf<float>({1})));
  EXPECT_CONTAINS(openError("renamed.dat", {f32("x", {})}),
                  "a .npy file holds one unnamed array");

  write("notes.txt", "just some text");
  EXPECT_EQ(openError("notes.txt", {f32("x", {})}),
            pathOf("notes.txt") + ": byte 0: not a .npz archive, a "
                                  "safetensors file or a directory of .npy "
                                  "files; give one of those (numpy.savez "
                                  "writes .npz files, safetensors' save_file "
                                  ".safetensors files)");

  ASSERT_EQ(::mkfifo(pathOf("pipe.npz").c_str(), 0600), 0);
  EXPECT_EQ(openError("pipe.npz", {f32("x", {})}),
            pathOf("pipe.npz") + ": it is not a regular file; give a .npz "
                                 "archive, a safetensors file or a directory "
                                 "of .npy files");
}

TEST_F(TensorsTest, MissingArrayListsTheArraysThereAre) {
  write("a.npz", zip({{"images.npy", npy("<f4", {1}, bytesOf<float>({1}))},
                      {"labels.npy", npy("<i8", {1}, bytesOf<int64_t>({1}))}}));
  EXPECT_EQ(openError("a.npz", {f32("image", {})}),
            pathOf("a.npz") + ": no array 'image' for the model's input "
                              "'image'; it has 'images', 'labels'. Arrays go "
                              "to the model's inputs by name: rename the "
                              "array (numpy.savez(path, image=...)) or the "
                              "input");
  fs::create_directories(dir / "empty");
  EXPECT_EQ(openError("empty", {f32("image", {})})
                .rfind(pathOf("empty") +
                           ": no array 'image' for the model's input "
                           "'image'; it has no arrays.",
                       0),
            0u);
}

TEST_F(TensorsTest, ShapeCountAndTypeMismatches) {
  write("d/image.npy", npy("|u1", {4, 28, 27}, std::string(4 * 28 * 27, 'a')));
  std::string where = pathOf("d/image.npy") + ": byte 0: array 'image' ";
  EXPECT_EQ(openError("d", {f32("image", {1, 28, 28})}),
            where + "has shape [4, 28, 27], whose examples are [28, 27], but "
                    "the model's input 'image' takes [1, 28, 28] per "
                    "example; save the array with shape [4, 1, 28, 28] "
                    "(dimensions of size 1 may be left out or added)");
  EXPECT_CONTAINS(openError("d", {f32("image", {28, 27, 2})}),
                  "takes [28, 27, 2] per example",
                  "save the array with shape [4, 28, 27, 2]");

  write("s/x.npy", npy("<f4", {}, bytesOf<float>({1})));
  EXPECT_EQ(openError("s", {f32("x", {})}),
            pathOf("s/x.npy") + ": byte 0: array 'x' is a single value "
                                "(shape []), but its first dimension must "
                                "count the examples; save one value per "
                                "example");

  write("c/a.npy", npy("<f4", {3}, bytesOf<float>({1, 2, 3})));
  write("c/b.npy", npy("<i8", {2}, bytesOf<int64_t>({1, 2})));
  EXPECT_EQ(openError("c", {f32("a", {}), i64("b", {})}),
            pathOf("c/b.npy") + ": byte 0: array 'b' has 2 examples, but "
                                "array 'a' has 3; the first dimension counts "
                                "the examples, so every array needs the same");

  EXPECT_EQ(openError("c", {i64("a", {})}),
            pathOf("c/a.npy") + ": byte 0: array 'a' holds f32 values, but "
                                "the model's input 'a' takes i64 integers; "
                                "save the array as integers, e.g. "
                                "x.astype(np.int64)");

  Field wide{"a", io::DType::F64, {}, 0};
  EXPECT_EQ(openError("c", {wide}),
            pathOf("c/a.npy") + ": byte 0: array 'a' cannot fill the model's "
                                "input 'a' of element type F64: tensors(...) "
                                "fills f32 and i64 inputs; declare it as one "
                                "of them");

  // The test split is checked as the training split is.
  write("t/a.npy", npy("<f4", {2, 2}, bytesOf<float>({1, 2, 3, 4})));
  EXPECT_CONTAINS(openError("c", {f32("a", {})}, "t"),
                  pathOf("t/a.npy") + ": byte 0: array 'a' has shape [2, 2]");
}

TEST_F(TensorsTest, ClassIdsOutsideTheRange) {
  std::vector<int32_t> ids = {0, 9, 3, 10, 2, -1};
  write("d/label.npy", npy("<i4", {3, 2}, bytesOf(ids)));
  EXPECT_EQ(openError("d", {i64("label", {2}, 10)}),
            pathOf("d/label.npy") + ": byte 140: example 1 of array 'label' "
                                    "holds 10, outside [0, 10) that the "
                                    "model's input 'label' takes; class ids "
                                    "run from 0 to the number of classes "
                                    "minus 1: fix the data, or give the model "
                                    "more classes");
  ids[3] = 4;
  write("d/label.npy", npy("<i4", {3, 2}, bytesOf(ids)));
  EXPECT_CONTAINS(openError("d", {i64("label", {2}, 10)}),
                  ": byte 148: example 2 of array 'label' holds -1, outside");
  // A range that the type cannot exceed still reads, and a valid file opens.
  ids[5] = 0;
  write("d/label.npy", npy("<i4", {3, 2}, bytesOf(ids)));
  EXPECT_TRUE(open("d", "", {i64("label", {2}, 10)})) << error;

  // Every chunk of a large array is scanned, the last value included.
  std::vector<uint8_t> many(3 << 20, 1);
  many.back() = 7;
  write("m/y.npy", npy("|u1", {int64_t(many.size())}, bytesOf(many)));
  EXPECT_CONTAINS(openError("m", {i64("y", {}, 5)}),
                  "example " + std::to_string(many.size() - 1) +
                      " of array 'y' holds 7");
}

TEST_F(TensorsTest, U64ValuesAboveTheLargestI64) {
  write("d/y.npy", npy("<u8", {2}, bytesOf<uint64_t>({1, 1ull << 63})));
  EXPECT_EQ(openError("d", {i64("y", {})}),
            pathOf("d/y.npy") + ": byte 136: example 1 of array 'y' holds "
                                "9223372036854775808, more than the largest "
                                "i64 that the model's input 'y' holds; save "
                                "the array as np.int64 values");
}

TEST_F(TensorsTest, SafetensorsErrorsNameTheTensor) {
  std::string file = safetensors({{"x", "F8_E5M2", {2}, "ab"}});
  write("s.safetensors", file);
  EXPECT_EQ(openError("s.safetensors", {f32("x", {})}),
            pathOf("s.safetensors") + ": tensor 'x', byte 9: the dtype F8_E5M2 "
                                      "is not one Kiln reads (BOOL, U8, I8, "
                                      "U16, I16, U32, I32, U64, I64, F16, "
                                      "BF16, F32 or F64); convert the tensor, "
                                      "e.g. with tensor.to(torch.float32)");
  write("s.safetensors", safetensors({{"x", "F4", {2}, "a"}}));
  EXPECT_CONTAINS(openError("s.safetensors", {f32("x", {})}),
                  ": byte 9: tensor 'x' has the dtype \"F4\", which is not a "
                  "dtype of the safetensors format that Kiln knows");
  write("s.safetensors", safetensors({{"x", "F32", {2}, "abcdefghij"}}));
  EXPECT_CONTAINS(openError("s.safetensors", {f32("x", {})}),
                  "tensor 'x' of shape [2] and dtype F32 needs 8 bytes");
}

TEST_F(TensorsTest, ReadingAFileThatShrankFails) {
  std::string contents = npy("<f4", {4, 2}, std::string(32, '\0'));
  std::string path = write("d/x.npy", contents);
  ASSERT_TRUE(open("d", "", {f32("x", {2})})) << error;
  ASSERT_EQ(::truncate(path.c_str(), 128 + 20), 0);
  std::string row(8, '\0'), reason;
  void *rows[] = {row.data()};
  EXPECT_TRUE(opened.train->read(1, rows, reason)) << reason;
  EXPECT_FALSE(opened.train->read(2, rows, reason));
  EXPECT_EQ(reason, path + ": byte 144: cannot read example 2 of array 'x' "
                           "(the file ends at byte 148, shorter than when it "
                           "was opened); check the file, which must not "
                           "change while the trainer runs");
}

//===----------------------------------------------------------------------===//
// readTensorIndex
//===----------------------------------------------------------------------===//

TEST_F(TensorsTest, TensorIndexGivesAbsoluteRangesOfEveryDType) {
  std::string file = safetensors({{"a", "BF16", {2}, "abcd"},
                                  {"b", "BOOL", {3}, "xyz"},
                                  {"c", "C64", {}, "12345678"}});
  std::string path = write("i.safetensors", file);
  io::TensorIndex index;
  std::string error;
  ASSERT_TRUE(io::readTensorIndex(path, index, error)) << error;
  ASSERT_EQ(index.tensors.size(), 3u);
  uint64_t data = file.size() - 15;
  const io::TensorEntry &b = index.tensors.at("b");
  EXPECT_EQ(b.dtype, "BOOL");
  EXPECT_EQ(b.shape, std::vector<int64_t>{3});
  EXPECT_EQ(b.begin, data + 4);
  EXPECT_EQ(b.end, data + 7);
  EXPECT_EQ(file.substr(b.begin, 3), "xyz");
  EXPECT_EQ(b.headerOffset, offsetOf(file, "\"b\""));
  EXPECT_EQ(index.tensors.at("c").shape, std::vector<int64_t>{});
  EXPECT_EQ(io::safetensorsDTypeSize("I16"), 2u);
  EXPECT_EQ(io::safetensorsDTypeSize("F4"), 0u);

  // As thorough as readTensorFile: a gap in the data is an error.
  std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  write("gap.safetensors", littleEndian(header.size(), 8) + header + "ab");
  EXPECT_FALSE(io::readTensorIndex(pathOf("gap.safetensors"), index, error));
  EXPECT_EQ(error, pathOf("gap.safetensors") + ": byte " +
                       std::to_string(8 + header.size()) +
                       ": data bytes 0 to 1 belong to no tensor; the header "
                       "is corrupt");
  EXPECT_EQ(index.tensors.size(), 3u);
}

//===----------------------------------------------------------------------===//
// Files that numpy writes
//===----------------------------------------------------------------------===//

bool haveNumpy() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

TEST_F(TensorsTest, ReadsWhatNumpyWrites) {
  if (!haveNumpy())
    GTEST_SKIP() << "/usr/bin/python3 with numpy is not installed";
  std::string script = R"(
import sys, numpy as np
d = sys.argv[1]
image = (np.arange(5 * 28 * 28) % 251).astype(np.uint8).reshape(5, 28, 28)
label = np.array([3, 1, 4, 1, 5], dtype=np.int64)
half = np.linspace(-2, 2, 5 * 3).astype(np.float16).reshape(5, 3)
flag = np.array([True, False, True, True, False])
arrays = dict(image=image, label=label, half=half, flag=flag)
np.savez(d + '/stored.npz', **arrays)
np.savez_compressed(d + '/deflated.npz', **arrays)
np.savez(sys.stdout.buffer, **arrays)
for name, array in arrays.items():
    np.save(d + '/dir/' + name + '.npy', array)
with open(d + '/v2/image.npy', 'wb') as f:
    np.lib.format.write_array(f, image, version=(2, 0))
with open(d + '/v2/label.npy', 'wb') as f:
    np.lib.format.write_array(f, label, version=(3, 0))
np.save(d + '/fortran/image.npy', np.asfortranarray(image))
)";
  write("make.py", script);
  fs::create_directories(dir / "dir");
  fs::create_directories(dir / "v2");
  fs::create_directories(dir / "fortran");
  std::string command = "/usr/bin/python3 " + pathOf("make.py") + " " +
                        dir.string() + " | cat > " + pathOf("streamed.npz");
  ASSERT_EQ(std::system(command.c_str()), 0);

  std::vector<Field> all = {f32("image", {1, 28, 28}), i64("label", {}, 6),
                            f32("half", {3}), f32("flag", {})};
  for (const char *source :
       {"stored.npz", "deflated.npz", "streamed.npz", "dir"}) {
    SCOPED_TRACE(source);
    ASSERT_TRUE(open(source, "", all, 0.5)) << error;
    ASSERT_EQ(opened.train->size(), 5);
    std::vector<float> image = readField<float>(*opened.train, 4, 0);
    EXPECT_EQ(image[10], static_cast<float>((4 * 784 + 10) % 251 * 0.5));
    EXPECT_EQ(readField<int64_t>(*opened.train, 4, 1), std::vector<int64_t>{5});
    EXPECT_EQ(readField<float>(*opened.train, 0, 2)[0], -1.0f);
    EXPECT_EQ(readField<float>(*opened.train, 4, 2)[2], 1.0f);
    EXPECT_EQ(readField<float>(*opened.train, 3, 3), std::vector<float>{0.5});
  }
  ASSERT_TRUE(open("v2", "", {f32("image", {1, 28, 28}), i64("label", {})}))
      << error;
  EXPECT_EQ(readField<float>(*opened.train, 1, 0)[0], 784 % 251);
  EXPECT_CONTAINS(openError("fortran", {f32("image", {1, 28, 28})}),
                  "the array is in Fortran order");
}

} // namespace
