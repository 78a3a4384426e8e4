//===- TensorFiles.cpp - Named arrays in files: .npy arrays, .npz archives ===//
//
// A .npy file is the magic "\x93NUMPY", a version, a header length, and a
// header that is a Python dict literal ({'descr': '<f4', 'fortran_order':
// False, 'shape': (3, 4), }) padded with spaces to a newline; the data
// follows. The header is parsed strictly, as a grammar, not evaluated. A .npz
// is a zip archive of NAME.npy members, read through its central directory
// (ZIP64 included, as numpy writes every member with a ZIP64 extra field), so
// members written with data descriptors need no special case. Stored members
// are read in place; their CRC-32 is not checked, since that would read the
// whole file at open. Deflated members are inflated whole into memory, their
// CRC-32 and sizes checked, because deflate cannot be read at random.
//
//===----------------------------------------------------------------------===//

#include "data/Files.h"
#include "data/TensorFiles.h"
#include "data/Text.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <new>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;

const char *data::elementTypeName(ElementType type) {
  static constexpr const char *names[] = {"bool", "u8",  "i8",  "u16", "i16",
                                          "u32",  "i32", "u64", "i64", "f16",
                                          "bf16", "f32", "f64"};
  return names[static_cast<int>(type)];
}

size_t data::elementTypeSize(ElementType type) {
  static constexpr size_t sizes[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 2, 4, 8};
  return sizes[static_cast<int>(type)];
}

bool data::isFloatingPoint(ElementType type) {
  return type == ElementType::F16 || type == ElementType::BF16 ||
         type == ElementType::F32 || type == ElementType::F64;
}

struct ByteSource::File {
  int fd = -1;
  ~File() { ::close(fd); }
};

bool ByteSource::openFile(const std::string &path, ByteSource &source,
                          std::string &reason) {
  // O_NONBLOCK: a FIFO must not block the open; fstat then rejects it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    reason = std::string("cannot open it (") + std::strerror(errno) + ")";
    return false;
  }
  auto file = std::make_shared<File>();
  file->fd = fd;
  struct stat status;
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    reason = "it is not a regular file";
    return false;
  }
  source = ByteSource();
  source.file = std::move(file);
  source.length = static_cast<uint64_t>(status.st_size);
  return true;
}

ByteSource ByteSource::ofMemory(std::vector<uint8_t> bytes) {
  ByteSource source;
  source.length = bytes.size();
  source.memory =
      std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return source;
}

bool ByteSource::read(uint64_t offset, size_t count, void *out,
                      std::string &reason) const {
  auto *bytes = static_cast<uint8_t *>(out);
  if (memory) {
    if (offset > memory->size() || count > memory->size() - offset) {
      reason = "the data ends at byte " + std::to_string(memory->size());
      return false;
    }
    std::memcpy(bytes, memory->data() + offset, count);
    return true;
  }
  size_t done = 0;
  if (!readAt(file->fd, offset, bytes, count, done)) {
    reason = std::string("cannot read it: ") + std::strerror(errno);
    return false;
  }
  if (done < count) {
    reason = "the file ends at byte " + std::to_string(offset + done) +
             ", shorter than when it was opened";
    return false;
  }
  return true;
}

std::string Location::at(uint64_t offset) const {
  return (part.empty() ? path + ": byte " : path + ": " + part + ", byte ") +
         std::to_string(offset) + (inflated ? " of the inflated member" : "");
}

int64_t TensorArray::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

TensorStore::~TensorStore() = default;

namespace {

uint64_t littleEndian(const uint8_t *bytes, int size) {
  uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i)
    value = value << 8 | bytes[i];
  return value;
}

/// Every message about an array: "<where>, byte N: what; hint".
bool failAt(std::string &error, const Location &location, uint64_t offset,
            const std::string &what) {
  error = location.at(offset) + ": " + what;
  return false;
}

constexpr const char *kSaveAgain = "save the array again with numpy.save";
constexpr const char *kKnownTypes =
    "bool, u8, i8, u16, i16, u32, i32, u64, i64, f16, f32 or f64";
/// Real headers are a few hundred bytes; numpy refuses to read those over
/// 10000 by default. The bound keeps a damaged length from asking for
/// gigabytes.
constexpr uint64_t kMaxHeaderSize = 1 << 20;

/// The dict of a .npy header, parsed strictly: the keys numpy writes, once
/// each, Python's literal syntax, and the spacing numpy (or a hand) writes.
class NpyHeaderParser {
public:
  /// `text` starts at byte `base`, in the header that starts at byte
  /// `headerOffset`.
  NpyHeaderParser(const std::string &text, uint64_t base, uint64_t headerOffset,
                  const Location &location, std::string &error)
      : text(text), base(base), headerOffset(headerOffset), location(location),
        error(error) {}

  bool parse(std::string &descr, bool &fortran, std::vector<int64_t> &shape) {
    skipSpace();
    if (!expect('{'))
      return false;
    bool seen[3] = {false, false, false};
    for (;;) {
      skipSpace();
      if (peek() == '}')
        break;
      uint64_t keyAt = pos;
      std::string key;
      if (!parseString(key, "a quoted key"))
        return false;
      skipSpace();
      if (!expect(':'))
        return false;
      skipSpace();
      int which = key == "descr"           ? 0
                  : key == "fortran_order" ? 1
                  : key == "shape"         ? 2
                                           : -1;
      if (which < 0)
        return malformedAt(keyAt, "the key '" + key +
                                      "' is not one numpy "
                                      "writes");
      if (seen[which])
        return malformedAt(keyAt, "the key '" + key + "' appears twice");
      seen[which] = true;
      if (which == 0 && peek() == '[')
        return failAt(error, location, headerOffset,
                      "the array has a structured dtype (a list of named "
                      "fields); save each field as an array of its own");
      bool parsed = which == 0   ? parseString(descr, "a quoted dtype")
                    : which == 1 ? parseBool(fortran)
                                 : parseShape(shape);
      if (!parsed)
        return false;
      skipSpace();
      if (peek() == ',') {
        ++pos;
        continue;
      }
      if (peek() != '}')
        return malformed("expected ',' or '}'");
    }
    ++pos;
    skipSpace();
    if (pos != text.size())
      return malformed("text follows the closing '}'");
    static constexpr const char *keys[] = {"descr", "fortran_order", "shape"};
    for (int k = 0; k < 3; ++k)
      if (!seen[k])
        return malformed(std::string("the key '") + keys[k] + "' is missing");
    return true;
  }

private:
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }

  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t'))
      ++pos;
  }

  bool malformedAt(uint64_t at, const std::string &what) {
    return failAt(error, location, base + at,
                  "the .npy header is not the dict that numpy writes (" + what +
                      "); " + kSaveAgain);
  }
  bool malformed(const std::string &what) { return malformedAt(pos, what); }

  bool expect(char c) {
    if (peek() != c)
      return malformed(std::string("expected '") + c + "'");
    ++pos;
    return true;
  }

  bool parseString(std::string &value, const char *what) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return malformed(std::string("expected ") + what);
    size_t close = text.find(quote, pos + 1);
    size_t escape = text.find('\\', pos + 1);
    if (close == std::string::npos || escape < close)
      return malformed("a string without its closing quote");
    value = text.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    return true;
  }

  bool parseBool(bool &value) {
    for (bool candidate : {true, false}) {
      const char *word = candidate ? "True" : "False";
      if (text.compare(pos, std::strlen(word), word) == 0) {
        value = candidate;
        pos += std::strlen(word);
        return true;
      }
    }
    return malformed("expected True or False");
  }

  /// A tuple of sizes: "()", "(3,)", "(3, 4)", "(3L, 4L)" as Python 2 wrote.
  bool parseShape(std::vector<int64_t> &shape) {
    if (!expect('('))
      return false;
    for (;;) {
      skipSpace();
      if (peek() == ')')
        break;
      if (!std::isdigit(static_cast<unsigned char>(peek())))
        return malformed("expected a size");
      uint64_t at = pos;
      int64_t size = 0;
      while (std::isdigit(static_cast<unsigned char>(peek())))
        if (__builtin_mul_overflow(size, 10, &size) ||
            __builtin_add_overflow(size, text[pos++] - '0', &size))
          return malformedAt(at, "a size larger than 2^63 - 1");
      if (peek() == 'L')
        ++pos;
      shape.push_back(size);
      skipSpace();
      if (peek() == ',') {
        ++pos;
        continue;
      }
      if (peek() != ')')
        return malformed("expected ',' or ')'");
    }
    ++pos;
    return true;
  }

  const std::string &text;
  uint64_t base, headerOffset;
  const Location &location;
  std::string &error;
  size_t pos = 0;
};

/// The element type of a numpy descr such as '<f4' or '|u1'.
bool parseDescr(const std::string &descr, const Location &location,
                uint64_t headerOffset, ElementType &type, std::string &error) {
  static const std::map<std::string, ElementType> types = {
      {"b1", ElementType::Bool}, {"u1", ElementType::U8},
      {"i1", ElementType::I8},   {"u2", ElementType::U16},
      {"i2", ElementType::I16},  {"u4", ElementType::U32},
      {"i4", ElementType::I32},  {"u8", ElementType::U64},
      {"i8", ElementType::I64},  {"f2", ElementType::F16},
      {"f4", ElementType::F32},  {"f8", ElementType::F64}};
  char order = descr.empty() ? '\0' : descr[0];
  auto it = types.find(descr.substr(descr.empty() ? 0 : 1));
  if (descr.size() > 1 && descr[1] == 'O')
    return failAt(error, location, headerOffset,
                  "the array holds Python objects ('" + descr +
                      "'), which .npy stores as a pickle; save an array of "
                      "numbers instead, e.g. np.asarray(x, dtype=np.float32)");
  if (it != types.end() && elementTypeSize(it->second) > 1 && order == '>')
    return failAt(error, location, headerOffset,
                  "the array is big-endian ('" + descr +
                      "'); save it little-endian, e.g. with x.astype('<" +
                      descr.substr(1) + "')");
  bool known = it != types.end() &&
               (order == '<' ||
                (elementTypeSize(it->second) == 1 && std::strchr("|>", order)));
  if (!known)
    return failAt(error, location, headerOffset,
                  "the dtype '" + descr + "' is not one Kiln reads (" +
                      kKnownTypes +
                      "); convert the array, e.g. with "
                      "x.astype(np.float32), and save it again");
  type = it->second;
  return true;
}

} // namespace

bool data::readNpyArray(TensorArray &array, uint64_t begin, uint64_t end,
                        std::string &error) {
  const Location &location = array.location;
  std::string reason;
  uint8_t prefix[12];
  uint64_t available = end - begin;
  size_t prefixSize = std::min<uint64_t>(available, sizeof(prefix));
  if (!array.bytes.read(begin, prefixSize, prefix, reason))
    return failAt(error, location, begin, reason);
  auto truncatedHeader = [&](uint64_t size) {
    return failAt(error, location, end,
                  "the data ends inside the .npy header's first " +
                      std::to_string(size) + " bytes; the file is truncated");
  };
  if (prefixSize == 0 ||
      std::memcmp(prefix, "\x93NUMPY", std::min<size_t>(prefixSize, 6)) != 0)
    return failAt(error, location, begin,
                  "not a .npy array: it does not start with \"\\x93NUMPY\"; " +
                      std::string(kSaveAgain));
  if (prefixSize < 8)
    return truncatedHeader(10);
  int major = prefix[6], minor = prefix[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return failAt(error, location, begin + 6,
                  "the .npy format version is " + std::to_string(major) + "." +
                      std::to_string(minor) +
                      ", not 1.0, 2.0 or 3.0 (what numpy writes); " +
                      kSaveAgain);
  size_t lengthSize = major == 1 ? 2 : 4;
  uint64_t headerStart = 8 + lengthSize;
  if (prefixSize < headerStart)
    return truncatedHeader(headerStart);
  uint64_t headerSize = littleEndian(prefix + 8, lengthSize);
  if (headerSize > kMaxHeaderSize)
    return failAt(error, location, begin + 8,
                  "the .npy header is " + std::to_string(headerSize) +
                      " bytes long, more than the " +
                      std::to_string(kMaxHeaderSize) +
                      " Kiln reads; the file is damaged or holds a "
                      "structured dtype: " +
                      kSaveAgain);
  if (headerSize > available - headerStart)
    return failAt(error, location, end,
                  "the data ends inside the .npy header, which needs " +
                      std::to_string(headerSize) + " bytes from byte " +
                      std::to_string(begin + headerStart) +
                      "; the file is truncated");
  std::string header(headerSize, '\0');
  if (!array.bytes.read(begin + headerStart, headerSize, header.data(), reason))
    return failAt(error, location, begin + headerStart, reason);

  std::string descr;
  bool fortran = false;
  array.headerOffset = begin;
  if (!NpyHeaderParser(header, begin + headerStart, begin, location, error)
           .parse(descr, fortran, array.shape) ||
      !parseDescr(descr, location, begin, array.type, error))
    return false;
  if (fortran && array.shape.size() > 1)
    return failAt(error, location, begin,
                  "the array is in Fortran order; save it with "
                  "np.save(path, np.ascontiguousarray(x)) so that its rows "
                  "are contiguous");

  array.dataOffset = begin + headerStart + headerSize;
  uint64_t have = end - array.dataOffset, need = elementTypeSize(array.type);
  bool overflow = false;
  for (int64_t dim : array.shape)
    overflow |= __builtin_mul_overflow(need, static_cast<uint64_t>(dim), &need);
  std::string needs = (overflow ? "more than 2^64" : std::to_string(need)) +
                      " bytes that shape " + formatShape(array.shape) + " of " +
                      elementTypeName(array.type) + " needs";
  if (overflow || have < need)
    return failAt(error, location, end,
                  "the data ends here, after " + std::to_string(have) +
                      " of the " + needs + " (from byte " +
                      std::to_string(array.dataOffset) +
                      "); the file is truncated");
  if (have > need)
    return failAt(error, location, array.dataOffset + need,
                  std::to_string(have - need) + " bytes follow the " + needs +
                      "; the header does not describe the data: " + kSaveAgain);
  return true;
}

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr const char *kSaveNpz = "save it again with numpy.savez";

/// A .npz archive: a zip of NAME.npy members.
class NpzStore : public TensorStore {
public:
  bool open(const std::string &path, std::string &error) {
    this->path = path;
    std::string reason;
    if (!ByteSource::openFile(path, file, reason)) {
      error = path + ": " + reason;
      return false;
    }
    return readDirectory(error);
  }

  bool load(const std::string &name, TensorArray &array,
            std::string &error) const override {
    const Member &member = members.at(name);
    array.name = name;
    array.location = Location{path, "member '" + member.name + "'", false};
    uint8_t local[30];
    std::string reason;
    if (member.localOffset > directoryOffset ||
        directoryOffset - member.localOffset < sizeof(local))
      return damaged(error, member.centralOffset,
                     "member '" + member.name +
                         "' starts past the central directory");
    if (!file.read(member.localOffset, sizeof(local), local, reason))
      return failAt(error, array.location, member.localOffset, reason);
    uint64_t nameSize = littleEndian(local + 26, 2);
    uint64_t start =
        member.localOffset + 30 + nameSize + littleEndian(local + 28, 2);
    std::string localName(nameSize, '\0');
    if (littleEndian(local, 4) != kLocalHeader || start > directoryOffset ||
        !file.read(member.localOffset + 30, nameSize, localName.data(),
                   reason) ||
        localName != member.name)
      return damaged(error, member.localOffset,
                     "no local header of member '" + member.name +
                         "' where the central directory puts it");
    if (member.compressed > directoryOffset - start)
      return damaged(error, start,
                     "the data of member '" + member.name +
                         "' runs into the central directory");
    if (member.method == 0) {
      if (member.compressed != member.uncompressed)
        return damaged(error, member.centralOffset,
                       "stored member '" + member.name +
                           "' has different compressed and uncompressed "
                           "sizes");
      array.bytes = file;
      return readNpyArray(array, start, start + member.compressed, error);
    }
    std::vector<uint8_t> inflated;
    if (!inflate(member, start, array.location, inflated, error))
      return false;
    array.location.inflated = true;
    array.bytes = ByteSource::ofMemory(std::move(inflated));
    return readNpyArray(array, 0, array.bytes.size(), error);
  }

private:
  struct Member {
    std::string name;
    uint32_t method = 0, crc = 0;
    uint64_t compressed = 0, uncompressed = 0, localOffset = 0;
    /// Where its central directory entry lies, for messages.
    uint64_t centralOffset = 0;
  };

  bool damaged(std::string &error, uint64_t offset,
               const std::string &what) const {
    error = path + ": byte " + std::to_string(offset) +
            ": the zip archive is damaged (" + what + "); " + kSaveNpz;
    return false;
  }

  bool readAt(uint64_t offset, size_t size, std::vector<uint8_t> &out,
              std::string &error) const {
    out.resize(size);
    std::string reason;
    if (file.read(offset, size, out.data(), reason))
      return true;
    error = path + ": byte " + std::to_string(offset) + ": " + reason;
    return false;
  }

  /// Finds the central directory through the end-of-central-directory
  /// record (and its ZIP64 form), then reads every member's entry.
  bool readDirectory(std::string &error) {
    uint64_t size = file.size();
    uint64_t tailSize = std::min<uint64_t>(size, 22 + 0xffff);
    std::vector<uint8_t> tail;
    if (!readAt(size - tailSize, tailSize, tail, error))
      return false;
    // The record is 22 bytes and a comment that ends the file.
    std::optional<uint64_t> record;
    for (uint64_t at = tailSize >= 22 ? tailSize - 22 + 1 : 0; at-- > 0;)
      if (littleEndian(&tail[at], 4) == kEndOfDirectory &&
          at + 22 + littleEndian(&tail[at + 20], 2) == tailSize) {
        record = at;
        break;
      }
    if (!record) {
      error = path + ": byte " + std::to_string(size) +
              ": no zip end-of-central-directory record at the end of the "
              "file: it is truncated or not a .npz archive; " +
              kSaveNpz;
      return false;
    }
    const uint8_t *end = &tail[*record];
    uint64_t endOffset = size - tailSize + *record;
    uint64_t disk = littleEndian(end + 4, 2),
             directoryDisk = littleEndian(end + 6, 2);
    uint64_t diskEntries = littleEndian(end + 8, 2),
             entries = littleEndian(end + 10, 2);
    uint64_t directorySize = littleEndian(end + 12, 4);
    directoryOffset = littleEndian(end + 16, 4);
    uint64_t directoryEnd = endOffset;
    bool zip64 =
        *record >= 20 && littleEndian(&tail[*record - 20], 4) == kZip64Locator;
    if (!zip64 && (entries == 0xffff || directorySize == 0xffffffff ||
                   directoryOffset == 0xffffffff))
      return damaged(error, endOffset,
                     "the end record asks for ZIP64 but no ZIP64 locator "
                     "precedes it");
    if (zip64) {
      uint64_t at = littleEndian(&tail[*record - 20 + 8], 8);
      std::vector<uint8_t> big;
      if (at > endOffset - 20 || endOffset - 20 - at < 56)
        return damaged(error, endOffset - 20,
                       "the ZIP64 locator points outside the file");
      if (!readAt(at, 56, big, error))
        return false;
      if (littleEndian(big.data(), 4) != kZip64EndOfDirectory)
        return damaged(error, at,
                       "no ZIP64 end record where the locator "
                       "points");
      disk = littleEndian(&big[16], 4);
      directoryDisk = littleEndian(&big[20], 4);
      diskEntries = littleEndian(&big[24], 8);
      entries = littleEndian(&big[32], 8);
      directorySize = littleEndian(&big[40], 8);
      directoryOffset = littleEndian(&big[48], 8);
      directoryEnd = at;
    }
    if (disk != 0 || directoryDisk != 0 || diskEntries != entries) {
      error = path + ": byte " + std::to_string(endOffset) +
              ": the zip archive spans several disks; join its parts into "
              "one file (or " +
              kSaveNpz + ")";
      return false;
    }
    if (directoryOffset > directoryEnd ||
        directorySize != directoryEnd - directoryOffset)
      return damaged(error, endOffset,
                     "the central directory does not end where the end "
                     "record begins");
    std::vector<uint8_t> directory;
    if (!readAt(directoryOffset, directorySize, directory, error))
      return false;
    uint64_t pos = 0;
    for (uint64_t i = 0; i < entries; ++i)
      if (!readMember(directory, pos, error))
        return false;
    if (pos != directory.size())
      return damaged(error, directoryOffset + pos,
                     "the central directory holds more than its entries");
    return true;
  }

  /// Reads the central directory entry at `pos` and moves past it.
  bool readMember(const std::vector<uint8_t> &directory, uint64_t &pos,
                  std::string &error) {
    uint64_t at = directoryOffset + pos;
    const uint8_t *entry = directory.data() + pos;
    uint64_t left = directory.size() - pos;
    if (left < 46 || littleEndian(entry, 4) != kCentralHeader)
      return damaged(error, at,
                     "no central directory entry where one "
                     "should be");
    uint64_t nameSize = littleEndian(entry + 28, 2),
             extraSize = littleEndian(entry + 30, 2),
             commentSize = littleEndian(entry + 32, 2);
    if (left - 46 < nameSize + extraSize + commentSize)
      return damaged(error, at, "an entry runs past the central directory");
    Member member;
    member.name.assign(reinterpret_cast<const char *>(entry + 46), nameSize);
    member.centralOffset = at;
    uint64_t flags = littleEndian(entry + 8, 2);
    member.method = littleEndian(entry + 10, 2);
    member.crc = littleEndian(entry + 16, 4);
    member.compressed = littleEndian(entry + 20, 4);
    member.uncompressed = littleEndian(entry + 24, 4);
    member.localOffset = littleEndian(entry + 42, 4);
    // The ZIP64 extra field holds, in this order, the values that the
    // entry marks 0xffffffff.
    const uint8_t *extra = entry + 46 + nameSize;
    for (uint64_t e = 0; e + 4 <= extraSize;) {
      uint64_t id = littleEndian(extra + e, 2),
               length = littleEndian(extra + e + 2, 2);
      if (length > extraSize - e - 4)
        return damaged(error, at,
                       "an extra field of member '" + member.name +
                           "' runs past its entry");
      uint64_t field = e + 4, fieldEnd = field + length;
      for (uint64_t *value :
           {&member.uncompressed, &member.compressed, &member.localOffset})
        if (id == 1 && *value == 0xffffffff) {
          if (fieldEnd - field < 8)
            return damaged(error, at,
                           "the ZIP64 field of member '" + member.name +
                               "' is too short");
          *value = littleEndian(extra + field, 8);
          field += 8;
        }
      e = fieldEnd;
    }
    pos += 46 + nameSize + extraSize + commentSize;

    Location location{path, "member '" + member.name + "'", false};
    if (flags & 0x41)
      return failAt(error, location, at,
                    "the member is encrypted, which Kiln cannot read; save "
                    "the arrays with numpy.savez, without a password");
    if (member.method != 0 && member.method != 8)
      return failAt(error, location, at,
                    "the member is compressed with zip method " +
                        std::to_string(member.method) +
                        ", not stored (0) or deflated (8); save the arrays "
                        "with numpy.savez or numpy.savez_compressed");
    if (nameSize <= 4 || member.name.compare(nameSize - 4, 4, ".npy") != 0)
      return failAt(error, location, at,
                    "the member is not a NAME.npy array, and a .npz archive "
                    "holds only those; write the archive with numpy.savez");
    std::string name = member.name.substr(0, nameSize - 4);
    if (members.count(name))
      return damaged(error, at, "member '" + member.name + "' appears twice");
    arrayNames.insert(
        std::lower_bound(arrayNames.begin(), arrayNames.end(), name), name);
    members.emplace(std::move(name), std::move(member));
    return true;
  }

  /// Inflates a deflated member into memory, checking its sizes and CRC-32.
  bool inflate(const Member &member, uint64_t start, const Location &location,
               std::vector<uint8_t> &out, std::string &error) const {
    // Deflate expands at most 1032 times: a larger size is damage, not a
    // reason to allocate it.
    if (member.uncompressed / 1032 > member.compressed + 1)
      return damaged(error, member.centralOffset,
                     "member '" + member.name + "' claims " +
                         std::to_string(member.uncompressed) +
                         " bytes inflated from " +
                         std::to_string(member.compressed));
    // One byte more than the directory gives shows a member that is longer.
    out.resize(member.uncompressed + 1);
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
      throw std::bad_alloc();
    std::array<uint8_t, 1 << 16> chunk;
    uint64_t consumed = 0;
    int status = Z_OK;
    std::string reason;
    while (status == Z_OK && stream.total_out < out.size()) {
      if (stream.avail_in == 0) {
        size_t count =
            std::min<uint64_t>(member.compressed - consumed, chunk.size());
        if (!file.read(start + consumed, count, chunk.data(), reason)) {
          inflateEnd(&stream);
          return failAt(error, location, start + consumed, reason);
        }
        stream.next_in = chunk.data();
        stream.avail_in = static_cast<uInt>(count);
        consumed += count;
      }
      stream.next_out = out.data() + stream.total_out;
      stream.avail_out = static_cast<uInt>(
          std::min<uint64_t>(out.size() - stream.total_out, 1u << 30));
      status = ::inflate(&stream, Z_NO_FLUSH);
      // Z_BUF_ERROR: no progress without more input, which may remain.
      if (status == Z_BUF_ERROR && consumed < member.compressed)
        status = Z_OK;
    }
    uint64_t at = start + consumed - stream.avail_in;
    uint64_t produced = stream.total_out;
    std::string message = stream.msg ? stream.msg : "unknown error";
    inflateEnd(&stream);
    if (status == Z_MEM_ERROR)
      throw std::bad_alloc();
    const char *hint = "; save the archive again with numpy.savez_compressed";
    if (status == Z_DATA_ERROR || status == Z_NEED_DICT)
      return failAt(error, location, at,
                    "the deflated data is damaged (zlib: " + message + ")" +
                        hint);
    if (produced != member.uncompressed &&
        (status == Z_STREAM_END || produced > member.uncompressed))
      return failAt(
          error, location, at,
          "the member inflates to " +
              std::string(produced > member.uncompressed ? "more than " : "") +
              std::to_string(std::min(produced, member.uncompressed)) +
              " bytes, but the zip directory gives it " +
              std::to_string(member.uncompressed) + hint);
    if (status != Z_STREAM_END)
      return failAt(error, location, at,
                    "the deflated data ends early, after " +
                        std::to_string(member.compressed) +
                        " bytes; the file is truncated" + hint);
    out.pop_back();
    if (crc32_z(0, out.data(), out.size()) != member.crc)
      return failAt(error, location, start,
                    "the inflated member's CRC-32 does not match the zip "
                    "directory's; the file is damaged" +
                        std::string(hint));
    return true;
  }

  std::string path;
  ByteSource file;
  uint64_t directoryOffset = 0;
  std::map<std::string, Member> members;
};

} // namespace

std::unique_ptr<TensorStore> data::openNpzArchive(const std::string &path,
                                                  std::string &error) {
  auto store = std::make_unique<NpzStore>();
  if (!store->open(path, error))
    return nullptr;
  return store;
}
