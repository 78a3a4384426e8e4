//===- Numpy.cpp - Writing NumPy's .npy files and .npz archives -----------===//
//
// A .npz archive is a zip file. Its members here are stored, not deflated,
// so that readers can map them; zlib computes their CRC-32. Members of 4 GiB
// or more would need ZIP64, which an error declines in favour of
// safetensors.
//
//===----------------------------------------------------------------------===//

#include "io/Numpy.h"
#include "io/AtomicFile.h"

#include <zlib.h>

#include <cstdint>

using namespace kiln;
using namespace kiln::io;

namespace {

const char *descriptor(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I64:
    return "<i8";
  }
  return "";
}

/// The .npy header of `tensor`: magic, version 1.0, the length, and the
/// dictionary padded with spaces so that the data starts at a multiple of
/// 64 bytes, as NumPy pads it.
std::string npyHeader(const TensorData &tensor) {
  // Python's tuples: "()", "(3,)", "(2, 3)".
  std::string shape = "(";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(tensor.shape[i]);
  shape += tensor.shape.size() == 1 ? ",)" : ")";
  std::string dictionary = std::string("{'descr': '") +
                           descriptor(tensor.dtype) +
                           "', 'fortran_order': False, 'shape': " + shape +
                           ", }";
  size_t unpadded = 10 + dictionary.size() + 1;
  dictionary.append((64 - unpadded % 64) % 64, ' ');
  dictionary += '\n';
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dictionary.size() & 0xff);
  header += static_cast<char>(dictionary.size() >> 8);
  return header + dictionary;
}

void put16(std::string &out, uint32_t value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
}

void put32(std::string &out, uint32_t value) {
  put16(out, value & 0xffff);
  put16(out, value >> 16);
}

} // namespace

bool kiln::io::writeNpyFile(const std::string &path, const TensorData &tensor,
                            std::string &error) {
  std::string header = npyHeader(tensor);
  return writeFileAtomically(
      path,
      {{header.data(), header.size()},
       {tensor.bytes.data(), tensor.bytes.size()}},
      error);
}

bool kiln::io::writeNpzFile(
    const std::string &path,
    const std::vector<std::pair<std::string, TensorData>> &arrays,
    std::string &error) {
  // Each member: its local header and .npy header (kept in `headers`), then
  // the tensor's bytes in place. The central directory follows them.
  std::vector<std::string> headers;
  std::string directory;
  uint64_t offset = 0;
  for (const auto &[name, tensor] : arrays) {
    std::string npy = npyHeader(tensor);
    uint64_t size = npy.size() + tensor.bytes.size();
    if (size >= UINT32_MAX || offset >= UINT32_MAX) {
      error = path + ": array '" + name +
              "' does not fit in a .npz archive without ZIP64; write a "
              ".safetensors file instead";
      return false;
    }
    uLong crc = crc32(0, reinterpret_cast<const Bytef *>(npy.data()),
                      static_cast<uInt>(npy.size()));
    // crc32 takes at most 4 GiB at a time; members are smaller.
    crc = crc32(crc, tensor.bytes.data(),
                static_cast<uInt>(tensor.bytes.size()));
    std::string member = name + ".npy";
    std::string local;
    put32(local, 0x04034b50);
    put16(local, 20); // Version needed: 2.0.
    put16(local, 0);  // Flags.
    put16(local, 0);  // Stored.
    put16(local, 0);  // Time.
    put16(local, 0x21); // Date: 1980-01-01, as NumPy's zipfile writes.
    put32(local, static_cast<uint32_t>(crc));
    put32(local, static_cast<uint32_t>(size));
    put32(local, static_cast<uint32_t>(size));
    put16(local, static_cast<uint32_t>(member.size()));
    put16(local, 0);
    local += member;

    put32(directory, 0x02014b50);
    put16(directory, 20); // Made by: 2.0.
    put16(directory, 20);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0x21);
    put32(directory, static_cast<uint32_t>(crc));
    put32(directory, static_cast<uint32_t>(size));
    put32(directory, static_cast<uint32_t>(size));
    put16(directory, static_cast<uint32_t>(member.size()));
    put16(directory, 0); // Extra.
    put16(directory, 0); // Comment.
    put16(directory, 0); // Disk.
    put16(directory, 0); // Internal attributes.
    put32(directory, 0); // External attributes.
    put32(directory, static_cast<uint32_t>(offset));
    directory += member;

    offset += local.size() + size;
    headers.push_back(local + npy);
  }
  if (offset >= UINT32_MAX || arrays.size() >= 0xffff) {
    error = path + ": the arrays do not fit in a .npz archive without ZIP64; "
                   "write a .safetensors file instead";
    return false;
  }
  std::string end;
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<uint32_t>(arrays.size()));
  put16(end, static_cast<uint32_t>(arrays.size()));
  put32(end, static_cast<uint32_t>(directory.size()));
  put32(end, static_cast<uint32_t>(offset));
  put16(end, 0);

  std::vector<Bytes> pieces;
  for (size_t i = 0; i < arrays.size(); ++i) {
    pieces.push_back({headers[i].data(), headers[i].size()});
    pieces.push_back(
        {arrays[i].second.bytes.data(), arrays[i].second.bytes.size()});
  }
  pieces.push_back({directory.data(), directory.size()});
  pieces.push_back({end.data(), end.size()});
  return writeFileAtomically(path, pieces, error);
}
