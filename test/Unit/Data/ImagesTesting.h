//===- ImagesTesting.h - Image files made for the images(...) tests -------===//
//
// PNG, BMP, TGA and JPEG by stb_image_write, PGM, PPM and GIF by hand, and
// the fixture that writes them into a folder of its own and opens, scans,
// checks and decodes them as images(...) does.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_DATA_IMAGESTESTING_H
#define KILN_TEST_UNIT_DATA_IMAGESTESTING_H

#include "data/ImageFolder.h"
#include "data/Source.h"

#include <stb/stb_image_write.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace kiln::data::testing {

using Bytes = std::vector<uint8_t>;

inline void append(void *context, void *data, int size) {
  static_cast<std::string *>(context)->append(static_cast<char *>(data), size);
}

enum class Format { Png, Bmp, Tga, RunLengthTga, Jpeg };

/// An image written by stb_image_write; JPEG at quality 100.
inline std::string encode(Format format, int width, int height, int channels,
                          const Bytes &pixels) {
  std::string out;
  const uint8_t *data = pixels.data();
  stbi_write_tga_with_rle = format == Format::RunLengthTga;
  if (format == Format::Png)
    stbi_write_png_to_func(append, &out, width, height, channels, data, 0);
  else if (format == Format::Bmp)
    stbi_write_bmp_to_func(append, &out, width, height, channels, data);
  else if (format == Format::Jpeg)
    stbi_write_jpg_to_func(append, &out, width, height, channels, data, 100);
  else
    stbi_write_tga_to_func(append, &out, width, height, channels, data);
  return out;
}

inline std::string png(int width, int height, int channels,
                       const Bytes &pixels) {
  return encode(Format::Png, width, height, channels, pixels);
}

/// Binary PGM ("P5") or PPM ("P6") with 8-bit samples.
inline std::string pnm(const char *magic, int width, int height,
                       const Bytes &data) {
  return std::string(magic) + "\n# made by a test\n" + std::to_string(width) +
         " " + std::to_string(height) + "\n255\n" +
         std::string(data.begin(), data.end());
}

inline std::string littleEndian16(unsigned value) {
  return {static_cast<char>(value & 255), static_cast<char>(value >> 8)};
}

/// A GIF of indices into a palette of four colours, LZW-coded with a clear
/// code before each pixel, so that every code has 3 bits.
inline std::string gif(int width, int height, const Bytes &palette,
                       const Bytes &indices) {
  std::string out = "GIF89a" + littleEndian16(width) + littleEndian16(height);
  out += "\x81";
  out += std::string(2, '\0');
  out.append(palette.begin(), palette.end());
  out += "\x2C" + littleEndian16(0) + littleEndian16(0) +
         littleEndian16(width) + littleEndian16(height) + '\0';
  out += '\x02';
  std::vector<unsigned> codes;
  for (uint8_t index : indices)
    codes.insert(codes.end(), {4, index});
  codes.push_back(5);
  std::string data;
  unsigned bits = 0, count = 0;
  for (unsigned code : codes) {
    bits |= code << count;
    for (count += 3; count >= 8; count -= 8, bits >>= 8)
      data += static_cast<char>(bits & 255);
  }
  if (count)
    data += static_cast<char>(bits);
  out += static_cast<char>(data.size()) + data + '\0' + "\x3B";
  return out;
}

/// `count` bytes (i * 37 + start) mod 256: no two neighbours alike.
inline Bytes pattern(size_t count, unsigned start = 11) {
  Bytes bytes(count);
  for (size_t i = 0; i < count; ++i)
    bytes[i] = static_cast<uint8_t>(i * 37 + start);
  return bytes;
}

inline ::testing::AssertionResult contains(const std::string &text,
                                           const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not contain \"" << part << "\"";
}

inline float unit(int v) { return static_cast<float>(v / 255.0); }

inline Field imageField(int64_t c, int64_t h, int64_t w) {
  return {"image", io::DType::F32, {c, h, w}};
}
inline Field labelField(int64_t range = 0) {
  return {"label", io::DType::I64, {}, range};
}

class ImagesTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "kiln-images-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root); }

  std::string write(const std::string &relative, const std::string &bytes) {
    std::filesystem::path path = std::filesystem::path(root) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }
  std::string writeGrey(const std::string &relative, uint8_t value = 100) {
    return write(relative, pnm("P5", 2, 2, Bytes(4, value)));
  }

  static Arguments arguments(const std::string &train, const std::string &test,
                             std::vector<double> size, int64_t channels) {
    return Arguments({{"train", train},
                      {"test", test},
                      {"size", std::move(size)},
                      {"channels", channels}});
  }

  /// The request of images(train: "train", test: test, ...) in ROOT.
  SourceRequest request(const std::string &test, int64_t c = 1, int64_t h = 2,
                        int64_t w = 2) {
    SourceRequest request;
    request.args = arguments("train", test, {double(h), double(w)}, c);
    request.fields = {imageField(c, h, w), labelField()};
    request.dataDir = root;
    return request;
  }

  /// Opens the source, which must fail, and gives the message.
  std::string openError(const SourceRequest &request) {
    OpenedSource opened;
    std::string error;
    EXPECT_FALSE(openImages(request, opened, error));
    return error;
  }

  std::string scanError(const std::string &relative) {
    ImageFolder folder;
    std::string error;
    EXPECT_FALSE(
        scanImageFolder(root + "/" + relative, nullptr, folder, error));
    return error;
  }

  std::string checkError(const std::string &path) {
    std::string error;
    EXPECT_FALSE(checkImageFile(path, error));
    return error;
  }

  std::vector<float> decode(const std::string &path, int c, int h, int w) {
    std::vector<float> out(size_t(c) * h * w + 1, -7.0f);
    std::string error;
    EXPECT_TRUE(decodeImage(path, c, h, w, out.data(), error)) << error;
    EXPECT_EQ(out.back(), -7.0f) << "wrote past C x H x W";
    out.pop_back();
    return out;
  }

  std::string root;
};

} // namespace kiln::data::testing

#endif // KILN_TEST_UNIT_DATA_IMAGESTESTING_H
