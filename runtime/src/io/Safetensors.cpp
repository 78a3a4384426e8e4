//===- Safetensors.cpp - Reading and writing safetensors files ------------===//
//
// A file is an 8-byte little-endian header length N, N bytes of JSON, then the
// data section. Reading trusts nothing: every length, dtype, shape and byte
// range is checked before a byte of data is copied, and every problem is
// reported with the file name, the byte offset where it lies, and what to do.
// nlohmann-json reports errors by exception; they are caught here and become
// messages, so that no exception leaves this file.
//
//===----------------------------------------------------------------------===//

#include "io/Safetensors.h"
#include "io/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln::io;
using Json = nlohmann::json;

namespace {

constexpr const char *kMetadataKey = "__metadata__";
constexpr const char *kNotSafetensors =
    "; the file may be truncated or not a safetensors file";

/// "name: byte offset: what", the shape of every reading error.
bool fail(std::string &error, const std::string &path, uint64_t offset,
          const std::string &what) {
  error = path + ": byte " + std::to_string(offset) + ": " + what;
  return false;
}

std::string systemError() { return std::strerror(errno); }

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::optional<DType> parseDType(const std::string &name) {
  for (DType dtype : {DType::F32, DType::F64, DType::I64})
    if (name == dtypeName(dtype))
      return dtype;
  return std::nullopt;
}

/// The size in bytes of a tensor of `shape` with elements of `elementSize`
/// bytes, or nothing when it overflows.
std::optional<uint64_t> byteSize(const std::vector<int64_t> &shape,
                                 uint64_t elementSize) {
  uint64_t size = elementSize;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(size, static_cast<uint64_t>(dim), &size))
      return std::nullopt;
  return size;
}

/// A file descriptor closed on every path out.
struct OpenFile {
  int fd = -1;
  uint64_t size = 0;
  ~OpenFile() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool openFile(const std::string &path, OpenFile &file, std::string &error) {
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0)
    return fail(error, path, 0,
                "cannot open the file (" + systemError() +
                    "); check the path and its permissions");
  struct stat status;
  if (::fstat(file.fd, &status) != 0 || !S_ISREG(status.st_mode))
    return fail(error, path, 0, "is not a regular file; give a file's path");
  file.size = status.st_size;
  return true;
}

/// Bytes [offset, offset + size) of the file, which fstat said it has.
bool readAt(const std::string &path, const OpenFile &file, uint64_t offset,
            uint8_t *out, size_t size, std::string &error) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(file.fd, out + done, size - done, offset + done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      std::string reason = n < 0 ? systemError() : "the file shrank";
      return fail(error, path, offset + done,
                  "cannot read the file (" + reason + "); try again");
    }
    done += n;
  }
  return true;
}

/// One tensor entry of the header, once checked.
struct Entry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
  /// Where the entry's name appears in the file, for messages.
  uint64_t offset;
};

/// Reads a file's header in the steps of the format, each checking what it
/// reads. The checkpoint reader takes only Kiln's dtypes; the index reader
/// takes every dtype of the format.
class Reader {
public:
  Reader(const std::string &path, std::string &error, bool anyDType)
      : path(path), error(error), anyDType(anyDType) {}

  /// Reads and checks the header of `file`; entries() then describe it.
  bool read(const OpenFile &file,
            std::map<std::string, std::string> &metadata) {
    Json header;
    return parseHeader(file, header) && parseEntries(header, metadata) &&
           checkRanges(file.size);
  }

  const std::vector<Entry> &tensors() const { return entries; }
  uint64_t dataOffset() const { return dataStart; }

private:
  bool parseHeader(const OpenFile &file, Json &header) {
    if (file.size < 8)
      return fail(error, path, 0,
                  "the file is " + std::to_string(file.size) +
                      " bytes long, too short for the 8-byte header length" +
                      kNotSafetensors);
    uint8_t prefix[8];
    if (!readAt(path, file, 0, prefix, 8, error))
      return false;
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i)
      length = length << 8 | prefix[i];
    if (length > file.size - 8)
      return fail(error, path, 0,
                  "the header length " + std::to_string(length) +
                      " runs past the end of the file (" +
                      std::to_string(file.size) + " bytes)" + kNotSafetensors);
    headerText.resize(length);
    if (!readAt(path, file, 8, reinterpret_cast<uint8_t *>(headerText.data()),
                length, error))
      return false;
    dataStart = 8 + length;
    try {
      header = Json::parse(headerText);
    } catch (const Json::parse_error &e) {
      // e.byte counts from 1 and points past the offending character.
      uint64_t at = e.byte ? e.byte - 1 : 0;
      return fail(error, path, 8 + at,
                  "the header is not valid JSON (" + std::string(e.what()) +
                      ")" + kNotSafetensors);
    }
    if (!header.is_object())
      return fail(error, path, 8,
                  "the header is JSON but not an object of tensors" +
                      std::string(kNotSafetensors));
    return true;
  }

  /// Where `name` appears as a key in the header: the best place to point a
  /// message about its entry (the header itself when it cannot be found).
  uint64_t offsetOf(const std::string &name) const {
    size_t at = headerText.find(Json(name).dump() + ":");
    if (at == std::string::npos)
      at = headerText.find(Json(name).dump());
    return 8 + (at == std::string::npos ? 0 : at);
  }

  bool entryError(const Entry &entry, const std::string &what) {
    return fail(error, path, entry.offset,
                "tensor '" + entry.name + "' " + what);
  }

  bool parseEntries(const Json &header,
                    std::map<std::string, std::string> &metadata) {
    for (const auto &[name, value] : header.items()) {
      if (name == kMetadataKey) {
        if (!parseMetadata(value, metadata))
          return false;
        continue;
      }
      Entry entry;
      entry.name = name;
      entry.offset = offsetOf(name);
      if (!parseEntry(value, entry))
        return false;
      entries.push_back(std::move(entry));
    }
    return true;
  }

  bool parseMetadata(const Json &value,
                     std::map<std::string, std::string> &metadata) {
    const char *fix = "; metadata must be an object of strings";
    if (!value.is_object())
      return fail(error, path, offsetOf(kMetadataKey),
                  "__metadata__ is not an object" + std::string(fix));
    for (const auto &[key, text] : value.items()) {
      if (!text.is_string())
        return fail(error, path, offsetOf(kMetadataKey),
                    "__metadata__ entry '" + key + "' is not a string" + fix);
      metadata[key] = text.get<std::string>();
    }
    return true;
  }

  bool parseEntry(const Json &value, Entry &entry) {
    if (!value.is_object() || !value.contains("dtype") ||
        !value.contains("shape") || !value.contains("data_offsets"))
      return entryError(entry, "needs an object with dtype, shape and "
                               "data_offsets; the header is malformed");
    const Json &dtype = value["dtype"];
    if (dtype.is_string())
      entry.dtype = dtype.get<std::string>();
    size_t elementSize = safetensorsDTypeSize(entry.dtype);
    if (!anyDType && (!dtype.is_string() || !parseDType(entry.dtype)))
      return entryError(entry, "has the unsupported dtype " + dtype.dump() +
                                   "; Kiln reads F32, F64 and I64, so convert "
                                   "the tensor to one of them");
    if (!dtype.is_string() || !elementSize)
      return entryError(entry,
                        "has the dtype " + dtype.dump() +
                            ", which is not a dtype of the safetensors format "
                            "that Kiln knows; save the tensor as BOOL, an "
                            "integer (U8 to I64) or a float (F16, BF16, F32, "
                            "F64)");

    const Json &shape = value["shape"];
    if (!shape.is_array())
      return entryError(entry, "has a shape that is not a list of sizes: " +
                                   shape.dump() + "; the header is malformed");
    for (const Json &size : shape) {
      if (!size.is_number_integer())
        return entryError(entry, "has a shape that is not a list of "
                                 "integers: " +
                                     shape.dump() +
                                     "; the header is malformed");
      if (size.is_number_unsigned() &&
          size.get<uint64_t>() >
              static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return entryError(entry, "has a size too large in its shape " +
                                     shape.dump() + "; the header is corrupt");
      if (size.get<int64_t>() < 0)
        return entryError(entry, "has a negative size in its shape " +
                                     shape.dump() + "; the header is corrupt");
      entry.shape.push_back(size.get<int64_t>());
    }

    const Json &offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 ||
        !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned() ||
        offsets[0].get<uint64_t>() > offsets[1].get<uint64_t>())
      return entryError(entry, "has data_offsets " + offsets.dump() +
                                   ", not [begin, end] with 0 <= begin <= end; "
                                   "the header is corrupt");
    entry.begin = offsets[0].get<uint64_t>();
    entry.end = offsets[1].get<uint64_t>();

    std::optional<uint64_t> expected = byteSize(entry.shape, elementSize);
    if (!expected || *expected != entry.end - entry.begin)
      return entryError(
          entry,
          "of shape " + formatShape(entry.shape) + " and dtype " + entry.dtype +
              " needs " + (expected ? std::to_string(*expected) : "too many") +
              " bytes, but its data_offsets [" + std::to_string(entry.begin) +
              ", " + std::to_string(entry.end) + "] hold " +
              std::to_string(entry.end - entry.begin) +
              "; the header is corrupt");
    return true;
  }

  /// The tensors, sorted by their byte ranges, must tile the data section
  /// exactly: anything else is a damaged or hand-edited file.
  bool checkRanges(uint64_t fileSize) {
    uint64_t dataSize = fileSize - dataStart;
    for (const Entry &entry : entries)
      if (entry.end > dataSize)
        return fail(error, path, entry.offset,
                    "tensor '" + entry.name + "' has data_offsets [" +
                        std::to_string(entry.begin) + ", " +
                        std::to_string(entry.end) +
                        "], past the end of the data section (" +
                        std::to_string(dataSize) + " bytes from byte " +
                        std::to_string(dataStart) + ")" + kNotSafetensors);
    std::sort(entries.begin(), entries.end(),
              [](const Entry &a, const Entry &b) {
                return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
              });
    uint64_t covered = 0;
    const Entry *previous = nullptr;
    for (const Entry &entry : entries) {
      if (entry.begin < covered)
        return fail(error, path, dataStart + entry.begin,
                    "the data of tensors '" + previous->name + "' and '" +
                        entry.name + "' overlap; the header is corrupt");
      if (entry.begin > covered)
        return fail(error, path, dataStart + covered,
                    "data bytes " + std::to_string(covered) + " to " +
                        std::to_string(entry.begin) +
                        " belong to no tensor; the header is corrupt");
      covered = entry.end;
      previous = &entry;
    }
    if (covered != dataSize)
      return fail(error, path, dataStart + covered,
                  "data bytes " + std::to_string(covered) + " to " +
                      std::to_string(dataSize) +
                      " at the end of the file belong to no tensor; the "
                      "file may be corrupt");
    return true;
  }

  const std::string &path;
  std::string &error;
  bool anyDType;
  std::string headerText;
  uint64_t dataStart = 0;
  std::vector<Entry> entries;
};

/// The header and data of `file`, or false after setting `error`.
bool serialize(const std::string &path, const TensorFile &file,
               std::string &text, std::string &error) {
  Json header = Json::object();
  uint64_t offset = 0;
  for (const auto &[name, tensor] : file.tensors) {
    if (name == kMetadataKey) {
      error = path + ": cannot write a tensor named " + kMetadataKey +
              ": the format reserves that name for metadata; rename it";
      return false;
    }
    std::optional<uint64_t> size =
        byteSize(tensor.shape, dtypeSize(tensor.dtype));
    bool negative = std::any_of(tensor.shape.begin(), tensor.shape.end(),
                                [](int64_t dim) { return dim < 0; });
    if (negative || !size || *size != tensor.bytes.size()) {
      error = path + ": cannot write tensor '" + name + "': its shape " +
              formatShape(tensor.shape) + " of " + dtypeName(tensor.dtype) +
              " does not match its " + std::to_string(tensor.bytes.size()) +
              " bytes; this is a bug in the program that made it";
      return false;
    }
    header[name] = {{"dtype", dtypeName(tensor.dtype)},
                    {"shape", tensor.shape},
                    {"data_offsets", {offset, offset + *size}}};
    offset += *size;
  }
  if (!file.metadata.empty())
    header[kMetadataKey] = file.metadata;
  try {
    text = header.dump();
  } catch (const Json::exception &e) {
    error = path + ": cannot write the header (" + std::string(e.what()) +
            "); tensor names and metadata must be valid UTF-8";
    return false;
  }
  // Padding keeps the data section 8-byte aligned, so that readers can map
  // the file and use the data in place.
  text.append((8 - text.size() % 8) % 8, ' ');
  return true;
}

} // namespace

const char *kiln::io::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::F64:
    return "F64";
  case DType::I64:
    return "I64";
  }
  return "?";
}

size_t kiln::io::dtypeSize(DType dtype) { return dtype == DType::F32 ? 4 : 8; }

int64_t TensorData::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

TensorData TensorData::zeros(DType dtype, std::vector<int64_t> shape) {
  TensorData tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.bytes.assign(tensor.numElements() * dtypeSize(dtype), 0);
  return tensor;
}

size_t kiln::io::safetensorsDTypeSize(const std::string &name) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1},    {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},     {"BF16", 2},
      {"I32", 4},     {"U32", 4}, {"F32", 4}, {"I64", 8},     {"U64", 8},
      {"F64", 8},     {"C64", 8}};
  auto it = sizes.find(name);
  return it == sizes.end() ? 0 : it->second;
}

namespace {
/// Opens `path` and reads its header with `reader`; Reader checks every
/// JSON value before using it, and the catch keeps a case it missed from
/// escaping as an exception.
bool readHeader(const std::string &path, Reader &reader, OpenFile &file,
                std::map<std::string, std::string> &metadata,
                std::string &error) {
  if (!openFile(path, file, error))
    return false;
  try {
    return reader.read(file, metadata);
  } catch (const Json::exception &e) {
    return fail(error, path, 8,
                "the header cannot be read (" + std::string(e.what()) + ")" +
                    kNotSafetensors);
  }
}
} // namespace

bool kiln::io::readTensorFile(const std::string &path, TensorFile &file,
                              std::string &error) {
  TensorFile result;
  Reader reader(path, error, /*anyDType=*/false);
  OpenFile opened;
  if (!readHeader(path, reader, opened, result.metadata, error))
    return false;
  for (const Entry &entry : reader.tensors()) {
    TensorData &tensor = result.tensors[entry.name];
    tensor.dtype = *parseDType(entry.dtype);
    tensor.shape = entry.shape;
    tensor.bytes.resize(entry.end - entry.begin);
    if (!readAt(path, opened, reader.dataOffset() + entry.begin,
                tensor.bytes.data(), tensor.bytes.size(), error))
      return false;
  }
  file = std::move(result);
  return true;
}

bool kiln::io::readTensorIndex(const std::string &path, TensorIndex &index,
                               std::string &error) {
  TensorIndex result;
  Reader reader(path, error, /*anyDType=*/true);
  OpenFile opened;
  if (!readHeader(path, reader, opened, result.metadata, error))
    return false;
  for (const Entry &entry : reader.tensors()) {
    TensorEntry &tensor = result.tensors[entry.name];
    tensor.dtype = entry.dtype;
    tensor.shape = entry.shape;
    tensor.begin = reader.dataOffset() + entry.begin;
    tensor.end = reader.dataOffset() + entry.end;
    tensor.headerOffset = entry.offset;
  }
  index = std::move(result);
  return true;
}

bool kiln::io::writeTensorFile(const std::string &path, const TensorFile &file,
                               std::string &error) {
  std::string header;
  if (!serialize(path, file, header, error))
    return false;

  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(header.size() >> (8 * i));
  std::vector<Bytes> pieces = {{length, 8}, {header.data(), header.size()}};
  for (const auto &[name, tensor] : file.tensors)
    pieces.push_back({tensor.bytes.data(), tensor.bytes.size()});
  return writeFileAtomically(path, pieces, error);
}
