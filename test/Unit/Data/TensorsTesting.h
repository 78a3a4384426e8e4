//===- TensorsTesting.h - Hand-made .npy, .npz and safetensors ------------===//
//
// The fixtures of the tensors(...) tests, made byte by byte: .npy headers as
// numpy writes them, zip archives with stored, deflated, ZIP64 and
// data-descriptor members, and safetensors files; and the fixture that opens
// them as a trainer does.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_DATA_TENSORSTESTING_H
#define KILN_TEST_UNIT_DATA_TENSORSTESTING_H

#include "data/Source.h"
#include "io/Safetensors.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace kiln::data {
bool openTensors(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

namespace kiln::data::testing {

inline std::string littleEndian(uint64_t value, int size) {
  std::string bytes;
  for (int i = 0; i < size; ++i)
    bytes += static_cast<char>(value >> (8 * i));
  return bytes;
}

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  return std::string(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T));
}

inline std::string tuple(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// The dict that numpy writes for an array.
inline std::string dictOf(const std::string &descr,
                          const std::vector<int64_t> &shape,
                          bool fortran = false) {
  return "{'descr': '" + descr +
         "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + tuple(shape) + ", }";
}

/// A .npy prefix and header as numpy pads it: spaces and a newline, so that
/// the data starts at a multiple of 64.
inline std::string npyHeader(const std::string &dict, int major = 1) {
  size_t lengthSize = major == 1 ? 2 : 4;
  std::string header = dict;
  size_t total = 8 + lengthSize + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  return std::string("\x93NUMPY") + char(major) + '\0' +
         littleEndian(header.size(), lengthSize) + header;
}

inline std::string npy(const std::string &descr,
                       const std::vector<int64_t> &shape,
                       const std::string &data, int major = 1) {
  return npyHeader(dictOf(descr, shape), major) + data;
}

/// `raw` deflated without a wrapper, as zip members are.
inline std::string deflateRaw(const std::string &raw) {
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

inline uint32_t crcOf(const std::string &data) {
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
inline std::string zip(const std::vector<Member> &members,
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
inline uint64_t offsetOf(const std::string &haystack, const std::string &needle,
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
inline std::string safetensors(const std::vector<SafeTensor> &tensors) {
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

inline Field f32(const std::string &name, std::vector<int64_t> shape) {
  return Field{name, io::DType::F32, std::move(shape), 0};
}
inline Field i64(const std::string &name, std::vector<int64_t> shape,
                 int64_t range = 0) {
  return Field{name, io::DType::I64, std::move(shape), range};
}

/// The bit pattern of a float, to compare NaNs and signed zeros.
inline uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

class TensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::path(::testing::TempDir()) / "tensors-XXXXXX")
            .string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  std::string write(const std::string &name, const std::string &contents) {
    std::filesystem::path path = dir / name;
    std::filesystem::create_directories(path.parent_path());
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

  std::filesystem::path dir;
  std::vector<Field> fields;
  OpenedSource opened;
  std::string error;
};

} // namespace kiln::data::testing

/// Expects `text` to contain every one of `parts`.
#define EXPECT_CONTAINS(text, ...)                                             \
  do {                                                                         \
    std::string actual = (text);                                               \
    for (const std::string &part : std::vector<std::string>{__VA_ARGS__})      \
      EXPECT_NE(actual.find(part), std::string::npos)                          \
          << "missing \"" << part << "\" in: " << actual;                      \
  } while (false)

#endif // KILN_TEST_UNIT_DATA_TENSORSTESTING_H
