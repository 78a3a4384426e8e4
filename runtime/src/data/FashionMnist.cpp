//===- FashionMnist.cpp - Fashion-MNIST from its gzip IDX files -----------===//
//
// An IDX file is a big-endian magic number 0x000008NN (unsigned bytes, NN
// dimensions), NN big-endian 32-bit dimensions, then the bytes in row-major
// order. Debian ships them gzip-compressed. The whole file is decompressed
// with zlib's inflate (not gzread, which would read a file that is not gzip as
// if it were the data) and then checked before a pixel is converted. Errors
// in the gzip stream give the offset in the compressed file, errors in the
// IDX data the offset in the decompressed stream; both say which.
//
// The gzip and IDX header checks (Idx.h) are shared with the idx source.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Files.h"
#include "data/Idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <new>

using namespace kiln;
using namespace kiln::data;

std::string data::fileError(const std::string &path, uint64_t offset,
                            const char *where, const std::string &what,
                            const std::string &hint) {
  return path + ": byte " + std::to_string(offset) + " of the " + where + ": " +
         what + "; " + hint;
}

std::string data::hex32(uint32_t value) {
  std::array<char, 11> text;
  std::snprintf(text.data(), text.size(), "0x%08x", value);
  return text.data();
}

namespace {
/// Frees zlib's state on every path out of gunzip.
struct InflateStream : z_stream {
  InflateStream() : z_stream() {}
  ~InflateStream() { inflateEnd(this); }
};

bool failWith(FileProblem &problem, uint64_t offset, std::string what) {
  problem.offset = offset;
  problem.what = std::move(what);
  return false;
}
} // namespace

bool data::gunzip(const std::string &compressed, std::vector<uint8_t> &out,
                  FileProblem &problem) {
  if (compressed.empty())
    return failWith(problem, 0, "the file is empty");
  InflateStream stream;
  // 16 + window bits: a gzip wrapper and nothing else.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
    throw std::bad_alloc();

  auto *begin = reinterpret_cast<const uint8_t *>(compressed.data());
  const uint8_t *end = begin + compressed.size();
  // The last four bytes, little-endian, give the length of the data modulo
  // 2^32: a good first size for the output, grown if it is wrong. Deflate
  // expands at most 1032 times, so a damaged length cannot ask for more.
  size_t guess = 64;
  if (compressed.size() >= 18)
    guess = uint32_t(end[-4]) | uint32_t(end[-3]) << 8 |
            uint32_t(end[-2]) << 16 | uint32_t(end[-1]) << 24;
  out.resize(std::clamp<size_t>(guess, 64, compressed.size() * 1032));

  stream.next_in = begin;
  size_t produced = 0;
  for (;;) {
    if (stream.avail_in == 0)
      stream.avail_in =
          static_cast<uInt>(std::min<size_t>(end - stream.next_in, UINT_MAX));
    if (produced == out.size())
      out.resize(out.size() * 2);
    stream.next_out = out.data() + produced;
    stream.avail_out =
        static_cast<uInt>(std::min<size_t>(out.size() - produced, UINT_MAX));
    uInt room = stream.avail_out;
    int status = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    uint64_t offset = stream.next_in - begin;
    if (status == Z_STREAM_END) {
      if (stream.next_in == end)
        break;
      // Concatenated gzip members form one stream, as gunzip reads them.
      inflateReset(&stream);
      continue;
    }
    if (status == Z_OK)
      continue;
    if (status == Z_BUF_ERROR && stream.next_in == end)
      return failWith(problem, offset,
                      "the gzip stream ends early (the file is truncated)");
    if (status == Z_MEM_ERROR)
      throw std::bad_alloc();
    return failWith(problem, offset,
                    std::string("not valid gzip data (zlib: ") +
                        (stream.msg ? stream.msg : "unknown error") + ")");
  }
  out.resize(produced);
  return true;
}

bool data::readIdxMagic(const uint8_t *bytes, size_t size, uint32_t &magic,
                        FileProblem &problem) {
  if (size < 4)
    return failWith(problem, size, "the data ends inside the IDX magic number");
  magic = readBigEndian32(bytes);
  return true;
}

bool data::readIdxDims(const uint8_t *bytes, size_t size, size_t rank,
                       std::vector<uint32_t> &dims, FileProblem &problem) {
  size_t headerSize = idxHeaderSize(rank);
  if (size < headerSize)
    return failWith(problem, size,
                    "the data ends inside the IDX header, which has " +
                        std::to_string(headerSize) + " bytes");
  dims.resize(rank);
  for (size_t d = 0; d < rank; ++d)
    dims[d] = readBigEndian32(bytes + 4 + 4 * d);
  return true;
}

bool data::checkIdxLength(uint64_t headerSize, uint64_t count,
                          uint64_t expected, uint64_t fileSize,
                          FileProblem &problem) {
  uint64_t found = fileSize - headerSize;
  if (found < expected)
    return failWith(problem, fileSize,
                    "the data ends after " + std::to_string(found) +
                        " of the " + std::to_string(expected) +
                        " bytes that the header's " + std::to_string(count) +
                        " examples need");
  if (found > expected)
    return failWith(problem, headerSize + expected,
                    std::to_string(found - expected) +
                        " bytes follow the last of the header's " +
                        std::to_string(count) + " examples");
  return true;
}

namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;
constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

constexpr const char *kInstallHint =
    "install dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
    "or give the directory that holds its four .gz files";
constexpr const char *kDamagedHint =
    "the file is damaged or not Fashion-MNIST: reinstall it (apt-get install "
    "--reinstall dataset-fashion-mnist)";

bool fail(std::string &error, const std::string &path, uint64_t offset,
          const char *where, const std::string &what,
          const char *hint = kDamagedHint) {
  error = fileError(path, offset, where, what, hint);
  return false;
}

bool failCompressed(std::string &error, const std::string &path,
                    const FileProblem &problem) {
  return fail(error, path, problem.offset, "compressed file", problem.what);
}

bool failData(std::string &error, const std::string &path, uint64_t offset,
              const std::string &what) {
  return fail(error, path, offset, "decompressed data", what);
}

bool failData(std::string &error, const std::string &path,
              const FileProblem &problem) {
  return failData(error, path, problem.offset, problem.what);
}

/// A decompressed IDX file whose header has been checked.
struct IdxFile {
  std::string path;
  std::vector<uint8_t> bytes;
  /// The first dimension: the number of examples.
  int64_t count = 0;
  /// Where the data starts.
  size_t dataOffset = 0;
};

/// Reads the IDX file `dir/name` of unsigned bytes whose dimensions after the
/// first must be `innerDims`.
bool readIdx(const std::string &dir, const char *name, uint32_t magic,
             const char *what, const std::vector<uint32_t> &innerDims,
             IdxFile &file, std::string &error) {
  file.path = dir + "/" + name;
  std::string compressed, reason;
  if (!readWholeFile(file.path, compressed, reason))
    return fail(error, file.path, 0, "file", reason, kInstallHint);
  FileProblem problem;
  if (!gunzip(compressed, file.bytes, problem))
    return failCompressed(error, file.path, problem);
  const std::string &path = file.path;
  const std::vector<uint8_t> &bytes = file.bytes;
  size_t rank = innerDims.size() + 1;
  uint32_t found;
  if (!readIdxMagic(bytes.data(), bytes.size(), found, problem))
    return failData(error, path, problem);
  if (found != magic)
    return failData(
        error, path, 0,
        "the IDX magic number is " + hex32(found) + ", expected " +
            hex32(magic) + " (unsigned bytes, " + std::to_string(rank) +
            (rank == 1 ? " dimension" : " dimensions") + ") for " + what);
  std::vector<uint32_t> dims;
  if (!readIdxDims(bytes.data(), bytes.size(), rank, dims, problem))
    return failData(error, path, problem);
  file.count = dims[0];
  uint64_t exampleSize = 1;
  for (size_t d = 0; d < innerDims.size(); ++d) {
    if (dims[d + 1] != innerDims[d])
      return failData(error, path, 8 + 4 * d,
                      "dimension " + std::to_string(d + 1) + " is " +
                          std::to_string(dims[d + 1]) + ", expected " +
                          std::to_string(innerDims[d]) + " for " + what);
    exampleSize *= dims[d + 1];
  }
  // At most 2^32 examples of 28 * 28 bytes: no overflow in 64 bits.
  file.dataOffset = idxHeaderSize(rank);
  if (!checkIdxLength(file.dataOffset, file.count, file.count * exampleSize,
                      bytes.size(), problem))
    return failData(error, path, problem);
  return true;
}

/// One of the two parts (train or t10k) of the data set.
bool loadPart(const std::string &dir, const std::string &prefix, double scale,
              Dataset &part, std::string &error) {
  std::string imagesName = prefix + "-images-idx3-ubyte.gz";
  std::string labelsName = prefix + "-labels-idx1-ubyte.gz";
  IdxFile images, labels;
  if (!readIdx(dir, imagesName.c_str(), kImagesMagic, "images", {kSide, kSide},
               images, error) ||
      !readIdx(dir, labelsName.c_str(), kLabelsMagic, "labels", {}, labels,
               error))
    return false;
  if (labels.count != images.count)
    return failData(error, labels.path, 4,
                    "the file has " + std::to_string(labels.count) +
                        " labels, but " + images.path + " has " +
                        std::to_string(images.count) +
                        " images: the files do not belong together");

  io::TensorData labelField =
      io::TensorData::zeros(io::DType::I64, {labels.count});
  const uint8_t *labelBytes = labels.bytes.data() + labels.dataOffset;
  for (int64_t i = 0; i < labels.count; ++i) {
    if (labelBytes[i] >= kClasses)
      return failData(error, labels.path, labels.dataOffset + i,
                      "label " + std::to_string(labelBytes[i]) +
                          " of example " + std::to_string(i) +
                          " is not a class in [0, 10)");
    labelField.data<int64_t>()[i] = labelBytes[i];
  }

  // One product per pixel value, in double and then rounded, as PyTorch's
  // float division by 255 rounds once.
  std::array<float, 256> values;
  for (int pixel = 0; pixel < 256; ++pixel)
    values[pixel] = static_cast<float>(pixel * scale);
  io::TensorData imageField =
      io::TensorData::zeros(io::DType::F32, {images.count, 1, kSide, kSide});
  const uint8_t *pixels = images.bytes.data() + images.dataOffset;
  float *destination = imageField.data<float>();
  for (int64_t i = 0, e = imageField.numElements(); i < e; ++i)
    destination[i] = values[pixels[i]];

  part.fields.clear();
  part.fields.push_back(std::move(imageField));
  part.fields.push_back(std::move(labelField));
  return true;
}

} // namespace

bool data::loadFashionMnist(const std::string &dir, double scale, Split &out,
                            std::string &error) {
  try {
    Split split;
    if (!loadPart(dir, "train", scale, split.train, error) ||
        !loadPart(dir, "t10k", scale, split.test, error))
      return false;
    out = std::move(split);
    return true;
  } catch (const std::bad_alloc &) {
    error = dir + ": out of memory while reading Fashion-MNIST (it needs "
                  "about 300 MB)";
    return false;
  }
}
