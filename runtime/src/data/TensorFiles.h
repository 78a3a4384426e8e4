//===- TensorFiles.h - Named arrays in files: .npy arrays, .npz archives --===//
//
// The files that PyTorch and NumPy users keep their arrays in: a .npz
// archive (numpy.savez, stored members; numpy.savez_compressed, deflated
// ones), a safetensors file, or a directory of NAME.npy files. A store of
// named arrays is opened by reading its directory (the zip's central
// directory, the safetensors header, the directory's listing) and no array;
// loading an array reads and checks its header, and leaves its data in the
// file, to be read with pread(2) from any thread, so that a file larger than
// memory can be trained on. Only a deflated member, which cannot be read at
// random, is inflated into memory. This file declares what the formats
// share and NumPy's two readers; TensorsSource.cpp adds the directory and
// safetensors stores.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_TENSORFILES_H
#define KILN_RUNTIME_DATA_TENSORFILES_H

#include "data/Source.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kiln::data {

/// The element types that arrays may have in a tensor file.
enum class ElementType {
  Bool,
  U8,
  I8,
  U16,
  I16,
  U32,
  I32,
  U64,
  I64,
  F16,
  BF16,
  F32,
  F64
};

/// The name of an element type as messages give it: "u8", "bf16", "bool".
const char *elementTypeName(ElementType type);
size_t elementTypeSize(ElementType type);
bool isFloatingPoint(ElementType type);

/// Where an array's bytes lie: an open file, or memory (an inflated
/// member). Copies share the file descriptor or the memory.
class ByteSource {
public:
  ByteSource() = default;
  /// Opens `path` for reading; on failure sets `reason`, e.g. "cannot open
  /// it (No such file or directory)".
  static bool openFile(const std::string &path, ByteSource &source,
                       std::string &reason);
  static ByteSource ofMemory(std::vector<uint8_t> bytes);

  /// The file's size when opened, or the memory's.
  uint64_t size() const { return length; }

  /// Copies bytes [offset, offset + count) to `out`. Thread-safe (pread(2),
  /// never a shared file position). On failure sets `reason`, e.g. "the
  /// file ends at byte 1200".
  bool read(uint64_t offset, size_t count, void *out,
            std::string &reason) const;

private:
  struct File;
  std::shared_ptr<const File> file;
  std::shared_ptr<const std::vector<uint8_t>> memory;
  uint64_t length = 0;
};

/// How messages name the place of a byte of an array.
struct Location {
  /// The file: "train.npz", "data/image.npy".
  std::string path;
  /// The array within it: "member 'image.npy'", "tensor 'image'"; empty for
  /// a .npy file.
  std::string part;
  /// Offsets count in the inflated member, not in the file.
  bool inflated = false;

  /// "train.npz: member 'image.npy', byte 1234", "data/image.npy: byte 80",
  /// "train.npz: member 'image.npy', byte 80 of the inflated member".
  std::string at(uint64_t offset) const;
};

/// One array of a tensor file, its header checked: the data lies in
/// `bytes` from `dataOffset`, in row-major order, little-endian, and has
/// exactly the bytes that its type and shape need.
struct TensorArray {
  std::string name;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;
  ByteSource bytes;
  uint64_t dataOffset = 0;
  /// Where the header lies in `bytes`, for messages about what it says.
  uint64_t headerOffset = 0;
  Location location;

  int64_t numElements() const;
};

/// The arrays of a .npz archive, a safetensors file or a directory of .npy
/// files, by name.
class TensorStore {
public:
  virtual ~TensorStore();

  /// The names of the arrays, sorted.
  const std::vector<std::string> &names() const { return arrayNames; }

  /// Reads and checks the header of the array called `name`, one of
  /// names(), inflating it into memory when it is a deflated member. On
  /// failure returns false and sets `error`; throws std::bad_alloc when
  /// memory runs out.
  virtual bool load(const std::string &name, TensorArray &array,
                    std::string &error) const = 0;

protected:
  std::vector<std::string> arrayNames;
};

/// Reads the .npy array in bytes [begin, end) of array.bytes (array.bytes
/// and array.location set): its header (versions 1.0, 2.0 and 3.0), then
/// checks that the data holds exactly what the shape needs. Sets type,
/// shape, headerOffset and dataOffset. On failure returns false and sets
/// `error`.
bool readNpyArray(TensorArray &array, uint64_t begin, uint64_t end,
                  std::string &error);

/// Opens the .npz archive `path` (a zip of NAME.npy members, stored or
/// deflated, ZIP64 or not) through its central directory. On failure
/// returns null and sets `error`.
std::unique_ptr<TensorStore> openNpzArchive(const std::string &path,
                                            std::string &error);

/// Opens `path`: a directory of NAME.npy files, a .npz archive or a
/// safetensors file, told apart by the file's first bytes, or its name when
/// they are damaged. A single .npy file is an error: it holds one unnamed
/// array. On failure returns null and sets `error`.
std::unique_ptr<TensorStore> openTensorStore(const std::string &path,
                                             std::string &error);

/// The arrays of one store, bound to the model's inputs.
struct TensorSplit {
  std::unique_ptr<Examples> examples;
  /// "train.npz (image u8[60000, 28, 28], label i64[60000])".
  std::string description;
  /// The arrays that no field takes.
  std::vector<std::string> ignored;
  /// The deflated members held in memory ("image.npy") and their bytes.
  std::vector<std::string> inflated;
  uint64_t inflatedBytes = 0;
};

/// Gives each field the array of its name in `store` (opened from `path`,
/// which messages name; `shown` is how the description names it): the same
/// number of examples in each, shapes checked up to dimensions of size 1,
/// values converted to the field's type (f32 ones times `scale`), i64 ones
/// checked against the field's range. Examples are read from the file on
/// demand. On failure returns false and sets `error`; throws std::bad_alloc
/// when memory runs out.
bool openTensorSplit(const TensorStore &store, const std::string &path,
                     const std::string &shown, const std::vector<Field> &fields,
                     double scale, TensorSplit &split, std::string &error);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_TENSORFILES_H
