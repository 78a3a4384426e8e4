//===- Safetensors.h - Reading and writing safetensors files --------------===//
//
// The tensor file format of Kiln: checkpoints, initial weights, and the inputs
// and outputs of the reference evaluator. It is Hugging Face's safetensors
// format (an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the data), so PyTorch reads and
// writes the same files. No LLVM or MLIR: the runtime uses this too.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_SAFETENSORS_H
#define KILN_RUNTIME_IO_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::io {

enum class DType { F32, F64, I64 };

/// The name of a dtype in a safetensors header: "F32", "F64", "I64".
const char *dtypeName(DType dtype);
/// The size of one element.
size_t dtypeSize(DType dtype);

/// One tensor: element type, shape, and its elements in row-major order,
/// little-endian.
struct TensorData {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t numElements() const;

  template <typename T> T *data() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(bytes.data());
  }

  /// A zero-filled tensor.
  static TensorData zeros(DType dtype, std::vector<int64_t> shape);
};

/// The contents of a safetensors file. Tensors are written in name order.
struct TensorFile {
  std::map<std::string, TensorData> tensors;
  /// The optional "__metadata__" entry of the header: strings only.
  std::map<std::string, std::string> metadata;
};

/// Reads `path`. On failure returns false and sets `error` to a message that
/// names the file and the byte offset of the problem and says what to do,
/// e.g. "ckpt.safetensors: byte 8: the header is not valid JSON (...)".
/// Validates everything: header length against the file size, JSON syntax,
/// known dtypes, non-negative shapes, byte ranges that match the shapes, lie
/// inside the data section, and neither overlap nor leave gaps.
bool readTensorFile(const std::string &path, TensorFile &file,
                    std::string &error);

/// One tensor of a safetensors file as its header describes it.
struct TensorEntry {
  /// The dtype as the header names it: "F32", "BF16", "U8", ...
  std::string dtype;
  std::vector<int64_t> shape;
  /// Where the tensor's bytes lie, counted from the start of the file.
  uint64_t begin = 0, end = 0;
  /// Where the tensor's entry lies in the header, for messages.
  uint64_t headerOffset = 0;
};

/// The header of a safetensors file: what each tensor is and where.
struct TensorIndex {
  std::map<std::string, TensorEntry> tensors;
  std::map<std::string, std::string> metadata;
};

/// The size of one element of the safetensors dtype `name` (BOOL, U8, I8,
/// F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, I64, U64,
/// F64, C64), or 0 for a name that is not one of these.
size_t safetensorsDTypeSize(const std::string &name);

/// Reads the header of `path` and none of its data, so that a file larger
/// than memory can be read tensor by tensor. Validates it as readTensorFile
/// does, but accepts every dtype that safetensorsDTypeSize knows. On failure
/// returns false and sets `error` as readTensorFile does.
bool readTensorIndex(const std::string &path, TensorIndex &index,
                     std::string &error);

/// Writes `file` to `path` atomically: to a temporary file in the same
/// directory, flushed with fsync, then renamed over `path`, so that a crash
/// leaves either the old file or the new one, never a half-written one.
bool writeTensorFile(const std::string &path, const TensorFile &file,
                     std::string &error);

} // namespace kiln::io

#endif // KILN_RUNTIME_IO_SAFETENSORS_H
