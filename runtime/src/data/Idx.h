//===- Idx.h - gzip and IDX headers, shared by fashion_mnist and idx ------===//
//
// The checks of an IDX file's header and length, and the decompression of a
// gzip file, written once for the Fashion-MNIST loader and the general idx
// source. They report a problem as an offset and what is wrong, without the
// advice, which is the caller's: "reinstall dataset-fashion-mnist" for one,
// "check the file you gave" for the other.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_IDX_H
#define KILN_RUNTIME_DATA_IDX_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

/// What is wrong with a file, and at which byte.
struct FileProblem {
  uint64_t offset = 0;
  std::string what;
};

/// "path: byte N of the <where>: what; hint", the shape of every message
/// about a gzip or IDX file. `where` is "file", "compressed file" or
/// "decompressed data".
std::string fileError(const std::string &path, uint64_t offset,
                      const char *where, const std::string &what,
                      const std::string &hint);

/// Whether `bytes` start with gzip's magic number, 1f 8b.
inline bool startsLikeGzip(const uint8_t *bytes, size_t size) {
  return size >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

/// Decompresses the gzip file `compressed` (one or more members) into `out`,
/// checking each member's CRC-32 and length. On failure returns false and
/// sets `problem`, an offset in the compressed file. Throws std::bad_alloc
/// when the data does not fit in memory.
bool gunzip(const std::string &compressed, std::vector<uint8_t> &out,
            FileProblem &problem);

inline uint32_t readBigEndian32(const uint8_t *bytes) {
  return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 |
         uint32_t(bytes[2]) << 8 | uint32_t(bytes[3]);
}

/// "0x00000803".
std::string hex32(uint32_t value);

/// An IDX header: the magic number, then one big-endian 32-bit size per
/// dimension (the number of dimensions is the magic number's low byte).
inline size_t idxHeaderSize(size_t rank) { return 4 + 4 * rank; }

/// Reads the magic number from the `size` bytes at the start of an IDX file.
/// Fails when there are fewer than 4.
bool readIdxMagic(const uint8_t *bytes, size_t size, uint32_t &magic,
                  FileProblem &problem);

/// Reads the `rank` dimensions that follow the magic number. `size` is the
/// number of bytes at `bytes`, the whole file when it is shorter than the
/// header. Fails when the header does not fit.
bool readIdxDims(const uint8_t *bytes, size_t size, size_t rank,
                 std::vector<uint32_t> &dims, FileProblem &problem);

/// Checks that a file of `fileSize` bytes holds exactly the `expected` bytes
/// of the header's `count` examples after its header of `headerSize` bytes,
/// neither fewer (a truncated file) nor more. The header must fit
/// (readIdxDims).
bool checkIdxLength(uint64_t headerSize, uint64_t count, uint64_t expected,
                    uint64_t fileSize, FileProblem &problem);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_IDX_H
