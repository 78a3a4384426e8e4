//===- TensorsSource.cpp - tensors(...): arrays bound to inputs by name ---===//
//
// Each input of the model takes the array of its name; the first dimension
// counts the examples. Arrays stay in their files: an example is read with
// pread(2) at its offset and converted on the way into the input's row, so
// a training file larger than memory trains and batches can be read from
// several threads. Everything that can be checked at open is: names, shapes,
// counts, element types, and (for class ids) every value's range.
//
// The arrays come from a store (TensorFiles.h): .npz archives are
// TensorFiles.cpp's, with the .npy format; directories of NAME.npy files and
// safetensors files (through their header alone) are here.
//
//===----------------------------------------------------------------------===//

#include "data/Source.h"
#include "data/TensorFiles.h"
#include "data/Text.h"

#include "io/Safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <new>
#include <type_traits>

#include <dirent.h>
#include <sys/stat.h>

using namespace kiln;
using namespace kiln::data;

namespace kiln::data {
bool openTensors(const SourceRequest &request, OpenedSource &opened,
                 std::string &error);
} // namespace kiln::data

namespace {

/// IEEE half precision to float, exactly (every half is a float).
float halfToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | mantissa << 13;
  } else if (exponent != 0) {
    bits = sign | (exponent + 112) << 23 | mantissa << 13;
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // A subnormal half is a normal float: shift the mantissa up to its
    // leading one, lowering the exponent as much.
    int shift = 0;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | uint32_t(113 - shift) << 23 | (mantissa & 0x3ff) << 13;
  }
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// bfloat16 is the high half of a float.
float bfloatToFloat(uint16_t bfloat) {
  uint32_t bits = uint32_t(bfloat) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// How each element type is stored and read as a number.
template <typename T> struct Plain {
  using Raw = T;
  static double real(T raw) { return static_cast<double>(raw); }
  static T integer(T raw) { return raw; }
};
struct Boolean {
  using Raw = uint8_t;
  static double real(uint8_t raw) { return raw != 0; }
  static uint8_t integer(uint8_t raw) { return raw != 0; }
};
struct Half {
  using Raw = uint16_t;
  static double real(uint16_t raw) { return halfToFloat(raw); }
};
struct BFloat {
  using Raw = uint16_t;
  static double real(uint16_t raw) { return bfloatToFloat(raw); }
};

template <typename D> typename D::Raw load(const uint8_t *in, size_t i) {
  typename D::Raw raw;
  std::memcpy(&raw, in + i * sizeof(raw), sizeof(raw));
  return raw;
}

/// Converts `count` elements from `in` into the input's element type.
using Convert = void (*)(const uint8_t *in, size_t count, double scale,
                         uint8_t *out);

/// The arithmetic of Fashion-MNIST's pixels (FashionMnist.cpp): the value in
/// double, times the scale, rounded once to float.
template <typename D>
void toF32(const uint8_t *in, size_t count, double scale, uint8_t *out) {
  for (size_t i = 0; i < count; ++i) {
    float value = static_cast<float>(D::real(load<D>(in, i)) * scale);
    std::memcpy(out + i * sizeof(value), &value, sizeof(value));
  }
}

template <typename D>
void toI64(const uint8_t *in, size_t count, double, uint8_t *out) {
  for (size_t i = 0; i < count; ++i) {
    int64_t value = static_cast<int64_t>(D::integer(load<D>(in, i)));
    std::memcpy(out + i * sizeof(value), &value, sizeof(value));
  }
}

Convert floatConversion(ElementType type) {
  switch (type) {
  case ElementType::Bool:
    return toF32<Boolean>;
  case ElementType::U8:
    return toF32<Plain<uint8_t>>;
  case ElementType::I8:
    return toF32<Plain<int8_t>>;
  case ElementType::U16:
    return toF32<Plain<uint16_t>>;
  case ElementType::I16:
    return toF32<Plain<int16_t>>;
  case ElementType::U32:
    return toF32<Plain<uint32_t>>;
  case ElementType::I32:
    return toF32<Plain<int32_t>>;
  case ElementType::U64:
    return toF32<Plain<uint64_t>>;
  case ElementType::I64:
    return toF32<Plain<int64_t>>;
  case ElementType::F16:
    return toF32<Half>;
  case ElementType::BF16:
    return toF32<BFloat>;
  case ElementType::F32:
    return toF32<Plain<float>>;
  case ElementType::F64:
    return toF32<Plain<double>>;
  }
  return nullptr;
}

/// Calls `visit(D{})` with the integer type's decoder; false for floats.
template <typename Visit> bool visitInteger(ElementType type, Visit &&visit) {
  switch (type) {
  case ElementType::Bool:
    return visit(Boolean{});
  case ElementType::U8:
    return visit(Plain<uint8_t>{});
  case ElementType::I8:
    return visit(Plain<int8_t>{});
  case ElementType::U16:
    return visit(Plain<uint16_t>{});
  case ElementType::I16:
    return visit(Plain<int16_t>{});
  case ElementType::U32:
    return visit(Plain<uint32_t>{});
  case ElementType::I32:
    return visit(Plain<int32_t>{});
  case ElementType::U64:
    return visit(Plain<uint64_t>{});
  case ElementType::I64:
    return visit(Plain<int64_t>{});
  default:
    return false;
  }
}

std::vector<int64_t> withoutOnes(const std::vector<int64_t> &shape) {
  std::vector<int64_t> kept;
  std::copy_if(shape.begin(), shape.end(), std::back_inserter(kept),
               [](int64_t dim) { return dim != 1; });
  return kept;
}

/// "<where>, byte N: what; hint", the shape of every message about an array.
bool failAt(std::string &error, const Location &location, uint64_t offset,
            const std::string &what) {
  error = location.at(offset) + ": " + what;
  return false;
}

/// The message of a path that cannot be opened, from errno.
bool cannotOpen(const std::string &path, std::string &error) {
  error = path + ": cannot open it (" + std::strerror(errno) +
          "); check the path (a relative path is read from the trainer's "
          "--data directory, or the current one)";
  return false;
}

/// A directory of NAME.npy files.
class DirectoryStore : public TensorStore {
public:
  bool open(const std::string &dir, std::string &error) {
    this->dir = dir.back() == '/' ? dir : dir + "/";
    DIR *listing = ::opendir(dir.c_str());
    if (!listing)
      return cannotOpen(dir, error);
    while (const dirent *entry = ::readdir(listing)) {
      std::string name = entry->d_name;
      struct stat status;
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 &&
          ::stat((this->dir + name).c_str(), &status) == 0 &&
          S_ISREG(status.st_mode))
        arrayNames.push_back(name.substr(0, name.size() - 4));
    }
    ::closedir(listing);
    std::sort(arrayNames.begin(), arrayNames.end());
    return true;
  }

  bool load(const std::string &name, TensorArray &array,
            std::string &error) const override {
    array.name = name;
    array.location = Location{dir + name + ".npy", "", false};
    std::string reason;
    if (!ByteSource::openFile(array.location.path, array.bytes, reason))
      return failAt(error, array.location, 0, reason);
    return readNpyArray(array, 0, array.bytes.size(), error);
  }

private:
  std::string dir;
};

/// A safetensors file, through its header alone.
class SafetensorsStore : public TensorStore {
public:
  bool open(const std::string &path, std::string &error) {
    this->path = path;
    std::string reason;
    if (!io::readTensorIndex(path, index, error))
      return false;
    if (!ByteSource::openFile(path, file, reason)) {
      error = path + ": " + reason;
      return false;
    }
    for (const auto &[name, entry] : index.tensors)
      arrayNames.push_back(name);
    return true;
  }

  bool load(const std::string &name, TensorArray &array,
            std::string &error) const override {
    static const std::map<std::string, ElementType> types = {
        {"BOOL", ElementType::Bool}, {"U8", ElementType::U8},
        {"I8", ElementType::I8},     {"U16", ElementType::U16},
        {"I16", ElementType::I16},   {"U32", ElementType::U32},
        {"I32", ElementType::I32},   {"U64", ElementType::U64},
        {"I64", ElementType::I64},   {"F16", ElementType::F16},
        {"BF16", ElementType::BF16}, {"F32", ElementType::F32},
        {"F64", ElementType::F64}};
    const io::TensorEntry &entry = index.tensors.at(name);
    array.name = name;
    array.location = Location{path, "tensor '" + name + "'", false};
    array.headerOffset = entry.headerOffset;
    auto it = types.find(entry.dtype);
    if (it == types.end())
      return failAt(error, array.location, entry.headerOffset,
                    "the dtype " + entry.dtype +
                        " is not one Kiln reads (BOOL, U8, I8, U16, I16, U32, "
                        "I32, U64, I64, F16, BF16, F32 or F64); convert the "
                        "tensor, e.g. with tensor.to(torch.float32)");
    array.type = it->second;
    array.shape = entry.shape;
    array.bytes = file;
    array.dataOffset = entry.begin;
    return true;
  }

private:
  std::string path;
  io::TensorIndex index;
  ByteSource file;
};

bool endsWith(const std::string &text, const char *suffix) {
  size_t size = std::strlen(suffix);
  return text.size() >= size &&
         text.compare(text.size() - size, size, suffix) == 0;
}

template <typename Store>
std::unique_ptr<TensorStore> openStore(const std::string &path,
                                       std::string &error) {
  auto store = std::make_unique<Store>();
  if (!store->open(path, error))
    return nullptr;
  return store;
}

} // namespace

std::unique_ptr<TensorStore> data::openTensorStore(const std::string &path,
                                                   std::string &error) {
  struct stat status;
  if (::stat(path.c_str(), &status) != 0) {
    cannotOpen(path, error);
    return nullptr;
  }
  if (S_ISDIR(status.st_mode))
    return openStore<DirectoryStore>(path, error);
  ByteSource file;
  std::string reason;
  char magic[9] = {};
  if (!ByteSource::openFile(path, file, reason) ||
      !file.read(0, std::min<uint64_t>(file.size(), sizeof(magic)), magic,
                 reason)) {
    error = path + ": " + reason +
            "; give a .npz archive, a safetensors file or a directory of "
            ".npy files";
    return nullptr;
  }
  if (endsWith(path, ".npy") || std::memcmp(magic, "\x93NUMPY", 6) == 0) {
    error = path + ": a .npy file holds one unnamed array, but tensors(...) "
                   "gives arrays to the model's inputs by name; put one "
                   "NAME.npy per input in a directory and give the "
                   "directory, or save the arrays together with "
                   "numpy.savez(\"data.npz\", image=..., label=...)";
    return nullptr;
  }
  if (endsWith(path, ".safetensors"))
    return openStore<SafetensorsStore>(path, error);
  if (endsWith(path, ".npz") || std::memcmp(magic, "PK", 2) == 0)
    return openNpzArchive(path, error);
  if (magic[8] == '{')
    return openStore<SafetensorsStore>(path, error);
  error = path + ": byte 0: not a .npz archive, a safetensors file or a "
                 "directory of .npy files; give one of those (numpy.savez "
                 "writes .npz files, safetensors' save_file .safetensors "
                 "files)";
  return nullptr;
}

namespace {

/// The message of bytes of `array` that cannot be read (`what`: "example 3
/// of array 'x'"): the file changed after it was checked, or the disk fails.
bool cannotRead(const TensorArray &array, uint64_t offset,
                const std::string &what, const std::string &reason,
                std::string &error) {
  error = array.location.at(offset) + ": cannot read " + what + " (" + reason +
          "); check the file, which must not change while the trainer runs";
  return false;
}

/// One input's array and how its examples become rows.
struct Column {
  TensorArray array;
  /// Null when the bytes are the row's bytes.
  Convert convert = nullptr;
  double scale = 1;
  /// The bytes of one example in the file, and its elements.
  uint64_t exampleBytes = 0;
  size_t exampleElements = 0;
  size_t rowElementSize = 0;
};

/// The examples of one split, read from their files on demand.
class FileExamples : public Examples {
public:
  FileExamples(std::vector<Column> columns, int64_t count)
      : columns(std::move(columns)), count(count) {}

  int64_t size() const override { return count; }

  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    for (size_t f = 0; f < columns.size(); ++f)
      if (!readColumn(columns[f], index, static_cast<uint8_t *>(rows[f]),
                      error))
        return false;
    return true;
  }

private:
  static bool readColumn(const Column &column, int64_t index, uint8_t *row,
                         std::string &error) {
    const TensorArray &array = column.array;
    uint64_t offset = array.dataOffset + index * column.exampleBytes;
    std::string reason;
    bool read = true;
    if (!column.convert) {
      read = array.bytes.read(offset, column.exampleBytes, row, reason);
    } else {
      // Converted a chunk at a time, through the stack: no allocation, and
      // nothing shared between threads.
      alignas(8) uint8_t chunk[4096];
      size_t size = elementTypeSize(array.type),
             perChunk = sizeof(chunk) / size;
      for (size_t done = 0; read && done < column.exampleElements;) {
        size_t n = std::min(perChunk, column.exampleElements - done);
        read = array.bytes.read(offset + done * size, n * size, chunk, reason);
        if (read)
          column.convert(chunk, n, column.scale,
                         row + done * column.rowElementSize);
        done += n;
      }
    }
    if (!read)
      return cannotRead(array, offset,
                        "example " + std::to_string(index) + " of array '" +
                            array.name + "'",
                        reason, error);
    return true;
  }

  std::vector<Column> columns;
  int64_t count;
};

/// Reads every value of an integer array bound to an i64 input and reports
/// the first outside [0, limit) that is not the field's ignored label,
/// reading a chunk at a time so that memory stays bounded whatever the
/// file's size.
template <typename D>
bool checkValues(const Column &column, const Field &field, uint64_t limit,
                 std::string &error) {
  using Raw = typename D::Raw;
  const TensorArray &array = column.array;
  std::vector<uint8_t> chunk(1 << 20);
  uint64_t total = array.numElements(), perChunk = chunk.size() / sizeof(Raw);
  std::string reason;
  for (uint64_t done = 0; done < total;) {
    uint64_t n = std::min(perChunk, total - done);
    uint64_t offset = array.dataOffset + done * sizeof(Raw);
    if (!array.bytes.read(offset, n * sizeof(Raw), chunk.data(), reason))
      return cannotRead(array, offset, "array '" + array.name + "'", reason,
                        error);
    for (uint64_t i = 0; i < n; ++i) {
      auto value = D::integer(load<D>(chunk.data(), i));
      bool negative = false, ignored = false;
      if constexpr (std::is_signed_v<decltype(value)>) {
        negative = value < 0;
        ignored = static_cast<int64_t>(value) == field.ignoreIndex;
      } else {
        ignored = field.ignoreIndex && *field.ignoreIndex >= 0 &&
                  static_cast<uint64_t>(value) ==
                      static_cast<uint64_t>(*field.ignoreIndex);
      }
      if ((!negative && static_cast<uint64_t>(value) < limit) || ignored)
        continue;
      uint64_t element = done + i;
      std::string where =
          array.location.at(array.dataOffset + element * sizeof(Raw)) +
          ": example " + std::to_string(element / column.exampleElements) +
          " of array '" + array.name + "' holds " + std::to_string(value);
      if (field.range > 0)
        error = where + ", outside [0, " + std::to_string(field.range) +
                ") that the model's input '" + field.name + "' takes" +
                (field.ignoreIndex
                     ? " (with " + std::to_string(*field.ignoreIndex) +
                           ", the ignored label)"
                     : "") +
                "; class ids run from 0 to the number of classes "
                "minus 1: fix the data, or give the model more classes";
      else
        error = where + ", more than the largest i64 that the model's input '" +
                field.name + "' holds; save the array as np.int64 values";
      return false;
    }
    done += n;
  }
  return true;
}

/// Checks that `array` can fill `field` and makes its column.
bool bind(const Field &field, TensorArray array, double scale, Column &column,
          std::string &error) {
  const Location &location = array.location;
  std::string head =
      location.at(array.headerOffset) + ": array '" + array.name + "' ";
  if (array.shape.empty()) {
    error = head + "is a single value (shape []), but its first dimension "
                   "must count the examples; save one value per example";
    return false;
  }
  std::vector<int64_t> example(array.shape.begin() + 1, array.shape.end());
  if (withoutOnes(example) != withoutOnes(field.shape)) {
    std::vector<int64_t> wanted = field.shape;
    wanted.insert(wanted.begin(), array.shape[0]);
    error = head + "has shape " + formatShape(array.shape) +
            ", whose examples are " + formatShape(example) +
            ", but the model's input '" + field.name + "' takes " +
            formatShape(field.shape) +
            " per example; save the array with shape " + formatShape(wanted) +
            " (dimensions of size 1 may be left out or added)";
    return false;
  }
  column.exampleElements = static_cast<size_t>(field.numElements());
  column.exampleBytes = column.exampleElements * elementTypeSize(array.type);
  column.scale = scale;
  column.rowElementSize = io::dtypeSize(field.dtype);
  if (field.dtype == io::DType::F32) {
    if (array.type != ElementType::F32 || scale != 1)
      column.convert = floatConversion(array.type);
  } else if (field.dtype == io::DType::I64) {
    if (isFloatingPoint(array.type)) {
      error = head + "holds " + elementTypeName(array.type) +
              " values, but the model's input '" + field.name +
              "' takes i64 integers; save the array as integers, e.g. "
              "x.astype(np.int64)";
      return false;
    }
    if (array.type != ElementType::I64)
      visitInteger(array.type, [&](auto decoder) {
        column.convert = toI64<decltype(decoder)>;
        return true;
      });
  } else {
    error = head + "cannot fill the model's input '" + field.name +
            "' of element type " + io::dtypeName(field.dtype) +
            ": tensors(...) fills f32 and i64 inputs; declare it as one of "
            "them";
    return false;
  }
  column.array = std::move(array);
  if (field.dtype != io::DType::I64 ||
      (field.range <= 0 && column.array.type != ElementType::U64))
    return true;
  uint64_t limit =
      field.range > 0 ? static_cast<uint64_t>(field.range) : uint64_t(1) << 63;
  return visitInteger(column.array.type, [&](auto decoder) {
    return checkValues<decltype(decoder)>(column, field, limit, error);
  });
}

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MB", bytes / 1e6);
  return text;
}

} // namespace

bool data::openTensorSplit(const TensorStore &store, const std::string &path,
                           const std::string &shown,
                           const std::vector<Field> &fields, double scale,
                           TensorSplit &report, std::string &error) {
  const std::vector<std::string> &names = store.names();
  std::vector<Column> columns;
  std::string contents;
  for (const Field &field : fields) {
    if (!std::binary_search(names.begin(), names.end(), field.name)) {
      error =
          path + ": no array '" + field.name + "' for the model's input '" +
          field.name + "'; " +
          (names.empty() ? "it has no arrays" : "it has " + quotedList(names)) +
          ". Arrays go to the model's inputs by name: rename the array "
          "(numpy.savez(path, " +
          field.name + "=...)) or the input";
      return false;
    }
    TensorArray array;
    if (!store.load(field.name, array, error))
      return false;
    columns.emplace_back();
    if (!bind(field, std::move(array), scale, columns.back(), error))
      return false;
    const TensorArray &bound = columns.back().array;
    const TensorArray &first = columns.front().array;
    if (bound.shape[0] != first.shape[0]) {
      error = bound.location.at(bound.headerOffset) + ": array '" + bound.name +
              "' has " + std::to_string(bound.shape[0]) +
              " examples, but array '" + first.name + "' has " +
              std::to_string(first.shape[0]) +
              "; the first dimension counts the examples, so every array "
              "needs the same";
      return false;
    }
    contents += (contents.empty() ? "" : ", ") + field.name + " " +
                elementTypeName(bound.type) + formatShape(bound.shape);
    if (bound.location.inflated) {
      report.inflated.push_back(field.name + ".npy");
      report.inflatedBytes += bound.bytes.size();
    }
  }
  for (const std::string &name : names)
    if (std::none_of(fields.begin(), fields.end(),
                     [&](const Field &field) { return field.name == name; }))
      report.ignored.push_back(name);
  report.description = shown + " (" + contents + ")";
  int64_t count = columns.empty() ? 0 : columns.front().array.shape[0];
  report.examples = std::make_unique<FileExamples>(std::move(columns), count);
  return true;
}

namespace {

bool openSplit(const SourceRequest &request, const std::string &argument,
               double scale, std::unique_ptr<Examples> &examples,
               TensorSplit &report, std::string &error) {
  std::string path = request.resolve(argument);
  std::unique_ptr<TensorStore> store = openTensorStore(path, error);
  if (!store || !openTensorSplit(*store, path, argument, request.fields, scale,
                                 report, error))
    return false;
  examples = std::move(report.examples);
  return true;
}

} // namespace

bool data::openTensors(const SourceRequest &request, OpenedSource &opened,
                       std::string &error) {
  const std::string &train = request.args.string("train");
  const std::string &test = request.args.string("test");
  double scale = request.args.real("scale");
  const std::string *opening = &train;
  try {
    OpenedSource result;
    TensorSplit trainReport, testReport;
    if (!openSplit(request, train, scale, result.train, trainReport, error))
      return false;
    opening = &test;
    if (test.empty())
      result.test = noExamples();
    else if (!openSplit(request, test, scale, result.test, testReport, error))
      return false;

    result.description = "tensors from " + trainReport.description;
    if (!test.empty())
      result.description += " and " + testReport.description;
    std::string ignored;
    for (const auto &[file, report] :
         {std::pair(&train, &trainReport), std::pair(&test, &testReport)}) {
      if (!report->ignored.empty())
        ignored += (ignored.empty() ? "" : "; ") + quotedList(report->ignored) +
                   " in " + *file;
      if (!report->inflated.empty())
        result.notes.push_back(
            "tensors: " + *file + ": deflated members " +
            quotedList(report->inflated) +
            " (numpy.savez_compressed) are held in memory, " +
            megabytes(report->inflatedBytes) +
            " in all; numpy.savez writes stored members, which are read from "
            "the file as training needs them");
    }
    if (!ignored.empty())
      result.notes.push_back(
          "tensors: arrays that no input of the model takes, ignored: " +
          ignored);
    opened = std::move(result);
    return true;
  } catch (const std::bad_alloc &) {
    error = request.resolve(*opening) +
            ": out of memory while opening the arrays; a deflated .npz "
            "member (numpy.savez_compressed) is inflated into memory whole, "
            "so save large arrays with numpy.savez, whose members are read "
            "from the file as training needs them";
    return false;
  }
}
