//===- NumpyTest.cpp - Writing .npy files and .npz archives ---------------===//
//
// What predict writes must read back, bit for bit, with the data layer's
// NumPy readers (TensorFiles.h), which check every header field; the .npy
// header is NumPy's own, padded to 64 bytes. (test/Trainer/predict.test
// reads the archives with NumPy and checks their CRC-32 with Python's
// zipfile.)
//
//===----------------------------------------------------------------------===//

#include "data/TensorFiles.h"
#include "io/Numpy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace kiln;
using namespace kiln::io;
namespace fs = std::filesystem;

namespace {

class NumpyTest : public ::testing::Test {
protected:
  NumpyTest()
      : dir(fs::temp_directory_path() /
            ("kiln-numpy-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::create_directories(dir);
  }
  ~NumpyTest() override { fs::remove_all(dir); }

  std::string path(const char *name) const { return (dir / name).string(); }

  static std::string contents(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  /// The array's values as the data layer reads them from `bytes`.
  static std::vector<uint8_t> values(const data::TensorArray &array) {
    std::vector<uint8_t> out(array.numElements() *
                             data::elementTypeSize(array.type));
    std::string reason;
    EXPECT_TRUE(array.bytes.read(array.dataOffset, out.size(), out.data(),
                                 reason))
        << reason;
    return out;
  }

  fs::path dir;
};

TensorData floats(std::vector<int64_t> shape) {
  TensorData tensor = TensorData::zeros(DType::F32, std::move(shape));
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    tensor.data<float>()[i] = 0.5f * static_cast<float>(i) - 3.25f;
  return tensor;
}

TEST_F(NumpyTest, NpyHeaderIsNumpys) {
  std::string error;
  ASSERT_TRUE(writeNpyFile(path("a.npy"), floats({2, 3}), error)) << error;
  std::string file = contents(path("a.npy"));
  ASSERT_EQ(file.size(), 128u + 24u);
  EXPECT_EQ(file.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  // The header's length, little-endian: the data starts at byte 128.
  EXPECT_EQ(static_cast<uint8_t>(file[8]) + 256 * static_cast<uint8_t>(file[9]),
            118);
  EXPECT_EQ(file.substr(10, 59),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(file[127], '\n');

  // One dimension keeps its comma; a scalar has none.
  TensorData column = TensorData::zeros(DType::I64, {4});
  ASSERT_TRUE(writeNpyFile(path("b.npy"), column, error)) << error;
  EXPECT_NE(contents(path("b.npy")).find("'descr': '<i8'"), std::string::npos);
  EXPECT_NE(contents(path("b.npy")).find("'shape': (4,)"), std::string::npos);
  ASSERT_TRUE(writeNpyFile(path("c.npy"), TensorData::zeros(DType::F64, {}),
                           error));
  EXPECT_NE(contents(path("c.npy")).find("'shape': ()"), std::string::npos);
}

TEST_F(NumpyTest, NpyReadsBack) {
  TensorData tensor = floats({3, 1, 2});
  std::string error;
  ASSERT_TRUE(writeNpyFile(path("a.npy"), tensor, error)) << error;
  data::TensorArray array;
  std::string reason;
  ASSERT_TRUE(data::ByteSource::openFile(path("a.npy"), array.bytes, reason));
  array.location.path = path("a.npy");
  ASSERT_TRUE(data::readNpyArray(array, 0, array.bytes.size(), error)) << error;
  EXPECT_EQ(array.type, data::ElementType::F32);
  EXPECT_EQ(array.shape, (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(values(array), tensor.bytes);
}

TEST_F(NumpyTest, NpzMembersReadBack) {
  TensorData logits = floats({4, 3});
  TensorData classes = TensorData::zeros(DType::I64, {4});
  for (int64_t i = 0; i < 4; ++i)
    classes.data<int64_t>()[i] = i * 7;
  std::string error;
  ASSERT_TRUE(writeNpzFile(path("out.npz"),
                           {{"logits", logits}, {"predictions", classes}},
                           error))
      << error;
  std::unique_ptr<data::TensorStore> store =
      data::openNpzArchive(path("out.npz"), error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->names(), (std::vector<std::string>{"logits", "predictions"}));
  data::TensorArray array, predictions;
  ASSERT_TRUE(store->load("logits", array, error)) << error;
  EXPECT_EQ(array.shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(values(array), logits.bytes);
  ASSERT_TRUE(store->load("predictions", predictions, error)) << error;
  EXPECT_EQ(predictions.type, data::ElementType::I64);
  EXPECT_EQ(predictions.shape, std::vector<int64_t>{4});
  EXPECT_EQ(values(predictions), classes.bytes);

}

TEST_F(NumpyTest, FailuresNameTheFileAndLeaveNothing) {
  std::string error;
  std::string missing = path("no/such/dir/a.npy");
  EXPECT_FALSE(writeNpyFile(missing, floats({1}), error));
  EXPECT_EQ(error.rfind(missing + ": cannot create a temporary file", 0), 0u)
      << error;
  EXPECT_FALSE(writeNpzFile(path("no/such/b.npz"), {{"x", floats({1})}}, error));
  EXPECT_TRUE(fs::is_empty(dir));
}

} // namespace
