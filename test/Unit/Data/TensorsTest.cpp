//===- TensorsTest.cpp - tensors(...): binding, conversions, errors -------===//
//
// The source over .npy directories, .npz archives and safetensors files
// (made by hand in TensorsTesting.h): binding arrays to the model's inputs
// by name, every conversion checked against its arithmetic, and the binding
// errors, each of which must name the file, the array and the byte offset,
// and say what to do. The last tests read files that numpy itself writes,
// when /usr/bin/python3 has numpy. NpyNpzTest.cpp tests the formats.
//
//===----------------------------------------------------------------------===//

#include "TensorsTesting.h"

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
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;
using namespace kiln::data::testing;
namespace fs = std::filesystem;

namespace {

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
