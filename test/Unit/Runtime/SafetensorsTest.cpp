//===- SafetensorsTest.cpp - Reading and writing safetensors files --------===//
//
// Round trips of every kind of tensor, every way a file can be damaged (each
// message must name the file and the byte offset of the problem), and the
// atomicity of writes: a failed write leaves the old file and no temporary.
//
//===----------------------------------------------------------------------===//

#include "io/Safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <sys/resource.h>

using namespace kiln::io;
namespace fs = std::filesystem;

namespace {

template <typename T>
TensorData makeTensor(DType dtype, std::vector<int64_t> shape,
                      const std::vector<T> &values) {
  TensorData tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.bytes.resize(values.size() * sizeof(T));
  std::memcpy(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

/// A file of the format with the given header text and data; `length`
/// overrides the header length written in the first 8 bytes.
std::string rawFile(const std::string &header, const std::string &data,
                    std::optional<uint64_t> length = std::nullopt) {
  uint64_t value = length.value_or(header.size());
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes += static_cast<char>(value >> (8 * i));
  return bytes + header + data;
}

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "safetensors-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  std::string writeRaw(const std::string &name, const std::string &contents) {
    std::string path = pathOf(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  static std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
  }

  /// The names in the test directory, to see that no temporary is left.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto &entry : fs::directory_iterator(dir))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  /// The error of reading `contents` as file `bad.safetensors`.
  std::string readError(const std::string &contents) {
    std::string path = writeRaw("bad.safetensors", contents);
    TensorFile file;
    std::string error;
    EXPECT_FALSE(readTensorFile(path, file, error));
    return error;
  }

  std::string prefix(uint64_t offset) const {
    return pathOf("bad.safetensors") + ": byte " + std::to_string(offset) +
           ": ";
  }

  fs::path dir;
};

TEST_F(SafetensorsTest, RoundTripsEveryDTypeScalarsEmptyTensorsAndMetadata) {
  TensorFile file;
  file.tensors["weight"] =
      makeTensor<float>(DType::F32, {2, 3}, {1, -2, 3.5f, 0, 1e-30f, 7});
  file.tensors["double"] =
      makeTensor<double>(DType::F64, {3}, {0.1, -1e300, 4.25});
  file.tensors["ids"] =
      makeTensor<int64_t>(DType::I64, {2, 2}, {0, -1, INT64_MAX, INT64_MIN});
  file.tensors["scalar"] = makeTensor<double>(DType::F64, {}, {2.5});
  file.tensors["empty"] = TensorData::zeros(DType::F32, {0, 4});
  file.metadata["format"] = "pt";
  file.metadata["step"] = "12";
  std::string path = pathOf("round.safetensors"), error;
  ASSERT_TRUE(writeTensorFile(path, file, error)) << error;

  TensorFile read;
  ASSERT_TRUE(readTensorFile(path, read, error)) << error;
  EXPECT_EQ(read.metadata, file.metadata);
  ASSERT_EQ(read.tensors.size(), file.tensors.size());
  for (const auto &[name, tensor] : file.tensors) {
    const TensorData &copy = read.tensors.at(name);
    EXPECT_EQ(copy.dtype, tensor.dtype) << name;
    EXPECT_EQ(copy.shape, tensor.shape) << name;
    EXPECT_EQ(copy.bytes, tensor.bytes) << name;
  }
  EXPECT_EQ(read.tensors.at("scalar").numElements(), 1);
  EXPECT_EQ(read.tensors.at("empty").numElements(), 0);
  EXPECT_EQ(read.tensors.at("ids").data<int64_t>()[3], INT64_MIN);
}

TEST_F(SafetensorsTest, PadsTheHeaderAndLaysOutTensorsInNameOrder) {
  TensorFile file;
  file.tensors["b"] = makeTensor<float>(DType::F32, {1}, {2});
  file.tensors["a"] = makeTensor<float>(DType::F32, {1}, {1});
  std::string path = pathOf("layout.safetensors"), error;
  ASSERT_TRUE(writeTensorFile(path, file, error)) << error;
  std::string contents = slurp(path);
  uint64_t length = 0;
  std::memcpy(&length, contents.data(), 8);
  EXPECT_EQ(length % 8, 0u);
  EXPECT_EQ(contents.size(), 8 + length + 8);
  std::string header = contents.substr(8, length);
  EXPECT_LT(header.find("\"a\""), header.find("\"b\""));
  EXPECT_NE(header.find("\"data_offsets\":[0,4]"), std::string::npos);
  EXPECT_EQ(header.find_last_not_of(' '), header.rfind('}'));
  float values[2];
  std::memcpy(values, contents.data() + 8 + length, 8);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
}

TEST_F(SafetensorsTest, DTypeNamesAndSizes) {
  EXPECT_STREQ(dtypeName(DType::F32), "F32");
  EXPECT_STREQ(dtypeName(DType::F64), "F64");
  EXPECT_STREQ(dtypeName(DType::I64), "I64");
  EXPECT_EQ(dtypeSize(DType::F32), 4u);
  EXPECT_EQ(dtypeSize(DType::F64), 8u);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_EQ(TensorData::zeros(DType::F64, {2, 3}).bytes.size(), 48u);
}

TEST_F(SafetensorsTest, MissingFile) {
  TensorFile file;
  std::string error, path = pathOf("absent.safetensors");
  EXPECT_FALSE(readTensorFile(path, file, error));
  EXPECT_EQ(error.rfind(path + ": byte 0: cannot open the file", 0), 0u)
      << error;
}

TEST_F(SafetensorsTest, FileShorterThanTheHeaderLength) {
  std::string error = readError("abc");
  EXPECT_EQ(error.rfind(prefix(0) + "the file is 3 bytes long", 0), 0u)
      << error;
  EXPECT_NE(error.find("may be truncated"), std::string::npos) << error;
}

TEST_F(SafetensorsTest, HeaderLengthPastTheEnd) {
  std::string error = readError(rawFile("{}", "", 1000));
  EXPECT_EQ(
      error.rfind(prefix(0) + "the header length 1000 runs past the end", 0),
      0u)
      << error;
}

TEST_F(SafetensorsTest, TruncatedData) {
  std::string header =
      R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})";
  std::string error = readError(rawFile(header, std::string(12, '\0')));
  EXPECT_EQ(error.rfind(prefix(9) + "tensor 'x' has data_offsets [0, 16], "
                                    "past the end of the data section",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, InvalidJSONIsReportedWhereItBreaks) {
  // The parser stops at the 1, byte 5 of the header, where ':' should be.
  std::string error = readError(rawFile(R"({"x" 1})", ""));
  EXPECT_EQ(error.rfind(prefix(13) + "the header is not valid JSON (", 0), 0u)
      << error;
  EXPECT_NE(error.find("not a safetensors file"), std::string::npos) << error;
}

TEST_F(SafetensorsTest, HeaderThatIsNotAnObject) {
  std::string error = readError(rawFile("[1, 2]", ""));
  EXPECT_EQ(error.rfind(prefix(8) + "the header is JSON but not an object", 0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, UnknownDType) {
  // The entry of "y" starts 53 bytes into the header.
  std::string header =
      R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("y":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}})";
  std::string error = readError(rawFile(header, std::string(6, '\0')));
  EXPECT_EQ(error.rfind(prefix(8 + 53) +
                            "tensor 'y' has the unsupported dtype \"BF16\"",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, NegativeShape) {
  std::string error = readError(rawFile(
      R"({"x":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,0]}})", ""));
  EXPECT_EQ(error.rfind(prefix(9) + "tensor 'x' has a negative size in its "
                                    "shape [2,-1]",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, ByteRangeThatDoesNotMatchTheShape) {
  std::string error = readError(
      rawFile(R"({"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
              std::string(20, '\0')));
  EXPECT_EQ(error.rfind(prefix(9) + "tensor 'x' of shape [2, 3] and dtype "
                                    "F32 needs 24 bytes, but its "
                                    "data_offsets [0, 20] hold 20",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, MalformedEntries) {
  EXPECT_NE(readError(rawFile(R"({"x":{"dtype":"F32"}})", ""))
                .find("needs an object with dtype, shape and data_offsets"),
            std::string::npos);
  EXPECT_NE(readError(rawFile(R"({"x":{"dtype":"F32","shape":[1.5],)"
                              R"("data_offsets":[0,4]}})",
                              std::string(4, '\0')))
                .find("not a list of integers"),
            std::string::npos);
  EXPECT_NE(readError(rawFile(R"({"x":{"dtype":"F32","shape":[1],)"
                              R"("data_offsets":[4,0]}})",
                              std::string(4, '\0')))
                .find("not [begin, end]"),
            std::string::npos);
  EXPECT_NE(readError(rawFile(R"({"__metadata__":{"step":3}})", ""))
                .find("__metadata__ entry 'step' is not a string"),
            std::string::npos);
}

TEST_F(SafetensorsTest, OverlappingRanges) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  uint64_t dataStart = 8 + header.size();
  std::string error = readError(rawFile(header, std::string(12, '\0')));
  EXPECT_EQ(error.rfind(prefix(dataStart + 4) +
                            "the data of tensors 'a' and 'b' overlap",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, GapBetweenTensors) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  uint64_t dataStart = 8 + header.size();
  std::string error = readError(rawFile(header, std::string(12, '\0')));
  EXPECT_EQ(error.rfind(prefix(dataStart + 4) +
                            "data bytes 4 to 8 belong to no tensor",
                        0),
            0u)
      << error;
}

TEST_F(SafetensorsTest, TrailingBytes) {
  std::string header =
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  uint64_t dataStart = 8 + header.size();
  std::string error = readError(rawFile(header, std::string(7, '\0')));
  EXPECT_EQ(
      error.rfind(prefix(dataStart + 4) + "data bytes 4 to 7 at the end", 0),
      0u)
      << error;
}

TEST_F(SafetensorsTest, FailedReadLeavesTheResultUntouched) {
  TensorFile file;
  file.metadata["kept"] = "yes";
  std::string path = writeRaw("bad.safetensors", "short"), error;
  EXPECT_FALSE(readTensorFile(path, file, error));
  EXPECT_EQ(file.metadata.at("kept"), "yes");
}

TEST_F(SafetensorsTest, WriteIntoAMissingDirectoryFails) {
  TensorFile file;
  file.tensors["x"] = TensorData::zeros(DType::F32, {2});
  std::string path = pathOf("missing/out.safetensors"), error;
  EXPECT_FALSE(writeTensorFile(path, file, error));
  EXPECT_EQ(error.rfind(path + ": cannot create a temporary file in", 0), 0u)
      << error;
  EXPECT_NE(error.find("check that the directory exists"), std::string::npos);
  EXPECT_TRUE(listing().empty());
}

TEST_F(SafetensorsTest, WriteReplacesTheOldFileAndLeavesNoTemporary) {
  std::string path = pathOf("ckpt.safetensors"), error;
  TensorFile first, second, read;
  first.tensors["x"] = makeTensor<float>(DType::F32, {1}, {1});
  second.tensors["y"] = makeTensor<double>(DType::F64, {1}, {2});
  ASSERT_TRUE(writeTensorFile(path, first, error)) << error;
  ASSERT_TRUE(writeTensorFile(path, second, error)) << error;
  ASSERT_TRUE(readTensorFile(path, read, error)) << error;
  EXPECT_EQ(read.tensors.count("x"), 0u);
  EXPECT_EQ(read.tensors.at("y").data<double>()[0], 2.0);
  EXPECT_EQ(listing(), std::vector<std::string>{"ckpt.safetensors"});
}

TEST_F(SafetensorsTest, FailedWriteKeepsTheOldFile) {
  std::string path = pathOf("ckpt.safetensors"), error;
  TensorFile old;
  old.tensors["x"] = makeTensor<float>(DType::F32, {1}, {1});
  ASSERT_TRUE(writeTensorFile(path, old, error)) << error;
  std::string before = slurp(path);

  // A file-size limit makes the write fail halfway, as a full disk would.
  TensorFile big;
  big.tensors["x"] = TensorData::zeros(DType::F64, {1 << 16});
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limit = saved;
  limit.rlim_cur = 4096;
  auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  bool written = writeTensorFile(path, big, error);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);

  EXPECT_FALSE(written);
  EXPECT_EQ(error.rfind(path + ": cannot write the temporary file", 0), 0u)
      << error;
  EXPECT_EQ(slurp(path), before);
  EXPECT_EQ(listing(), std::vector<std::string>{"ckpt.safetensors"});
}

TEST_F(SafetensorsTest, FailedRenameLeavesNoTemporary) {
  fs::create_directory(dir / "taken");
  TensorFile file;
  file.tensors["x"] = TensorData::zeros(DType::F32, {1});
  std::string path = pathOf("taken"), error;
  EXPECT_FALSE(writeTensorFile(path, file, error));
  EXPECT_EQ(error.rfind(path + ": cannot rename", 0), 0u) << error;
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
}

TEST_F(SafetensorsTest, InconsistentTensorIsNotWritten) {
  std::string path = writeRaw("ckpt.safetensors", "old"), error;
  TensorFile file;
  file.tensors["x"] = TensorData::zeros(DType::F32, {2});
  file.tensors["x"].shape = {3};
  EXPECT_FALSE(writeTensorFile(path, file, error));
  EXPECT_EQ(error.rfind(path + ": cannot write tensor 'x': its shape [3] of "
                               "F32 does not match its 8 bytes",
                        0),
            0u)
      << error;
  EXPECT_EQ(slurp(path), "old");
  file.tensors.clear();
  file.tensors["__metadata__"] = TensorData::zeros(DType::F32, {1});
  EXPECT_FALSE(writeTensorFile(path, file, error));
  EXPECT_NE(error.find("reserves that name"), std::string::npos) << error;
}

} // namespace
