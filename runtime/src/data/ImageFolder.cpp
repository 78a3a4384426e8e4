//===- ImageFolder.cpp - Folders of images, one per class, decoded by stb -===//
//
// stb_image (Debian's libstb) decodes PNG, JPEG (8-bit baseline and
// progressive, not arithmetic-coded or 12-bit), BMP (not RLE), binary PPM and
// PGM, TGA and GIF (the first frame): the extensions of kImageExtensions.
// torchvision reads .tif, .tiff and .webp too, through PIL; stb cannot, so
// they are counted in a note rather than passed over in silence.
//
// The folder is walked as torchvision's ImageFolder walks it
// (os.walk(followlinks=True), sorted), so a model sees the images in the same
// order and with the same labels, except that a symbolic link back to a
// folder being walked is not followed again: os.walk would repeat it until
// the path grew too long.
//
// stb_image reports a truncated PNG or JPEG, but reads past the end of a
// truncated BMP, TGA or GIF as zeros, and leaves a truncated PNM's pixels
// uninitialized. So the headers of those formats are read here too, and the
// file must be as long as they say: at open where a prefix of the file tells,
// and again on the whole file before each decode, as it may have changed.
//
//===----------------------------------------------------------------------===//

#include "data/Files.h"
#include "data/ImageFolder.h"
#include "data/Text.h"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;

namespace {

/// How much of the start of each file the length checks at open read: the
/// headers of PNM (but for very long comments), BMP and TGA.
constexpr size_t kPrefixBytes = 4096;

constexpr const char *kFormatsHint =
    "images(...) reads PNG, JPEG (8-bit, not arithmetic-coded), BMP (not "
    "RLE), binary PPM and PGM, TGA and GIF: convert it (with ImageMagick: "
    "convert FILE FILE.png), or move it out of the image folder";

constexpr const char *kTruncatedHint =
    "it is truncated: copy it again, or move it out of the image folder";

bool hasExtension(std::string_view name, std::string_view extension) {
  if (name.size() < extension.size())
    return false;
  std::string_view tail = name.substr(name.size() - extension.size());
  return std::equal(tail.begin(), tail.end(), extension.begin(),
                    [](char a, char b) {
                      return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
                    });
}

/// torchvision's extensions that stb cannot decode.
bool isUndecodableImageName(std::string_view name) {
  return hasExtension(name, ".tif") || hasExtension(name, ".tiff") ||
         hasExtension(name, ".webp");
}

std::string extensionList() {
  std::string list;
  for (const char *extension : kImageExtensions)
    list += std::string(list.empty() ? "" : " ") + extension;
  return list;
}

std::string errnoText() { return std::strerror(errno); }

/// Closes a file descriptor on every path out.
struct FileDescriptor {
  int fd = -1;
  FileDescriptor() = default;
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Opens `path`, which must be a regular file that stb_image can take
/// (1 byte to INT_MAX bytes), and gives its size.
bool openImageFile(const std::string &path, FileDescriptor &file,
                   uint64_t &size, std::string &error) {
  // O_NONBLOCK: a FIFO with an image's name must not hang the trainer.
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (file.fd < 0) {
    error = path + ": cannot open it (" + errnoText() +
            "); make it readable, or move it out of the image folder";
    return false;
  }
  struct stat status;
  if (::fstat(file.fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    error = path + ": not a regular file (a FIFO, a socket or a device with "
                   "an image's name); move it out of the image folder";
    return false;
  }
  size = static_cast<uint64_t>(status.st_size);
  if (size == 0) {
    error = path + ": byte 0: the file is empty; copy it again, or move it "
                   "out of the image folder";
    return false;
  }
  if (size > static_cast<uint64_t>(INT_MAX)) {
    error = path + ": the file has " + std::to_string(size) +
            " bytes, more than the " + std::to_string(INT_MAX) +
            " that stb_image reads; save it smaller (as JPEG, say)";
    return false;
  }
  return true;
}

/// stb_image's callbacks over a file read with pread, so that stbi_info
/// reads only the header, however far into the file it lies (JPEG's markers
/// follow its metadata).
struct Cursor {
  int fd;
  uint64_t size;
  uint64_t position = 0;
  int readErrno = 0;

  static int read(void *user, char *data, int count) {
    auto *cursor = static_cast<Cursor *>(user);
    size_t done = 0;
    if (!readAt(cursor->fd, cursor->position, data, static_cast<size_t>(count),
                done))
      cursor->readErrno = errno;
    // A short read is the end, even of a file that shrank meanwhile.
    if (done < static_cast<size_t>(count))
      cursor->size = cursor->position + done;
    cursor->position += done;
    return static_cast<int>(done);
  }
  static void skip(void *user, int count) {
    auto *cursor = static_cast<Cursor *>(user);
    if (count < 0)
      cursor->position -= std::min<uint64_t>(cursor->position, -int64_t(count));
    else
      cursor->position = std::min(cursor->size, cursor->position + count);
  }
  static int eof(void *user) {
    auto *cursor = static_cast<Cursor *>(user);
    return cursor->position >= cursor->size;
  }
};

/// A read error (EIO, say) of a file that opened.
bool failRead(const std::string &path, int reason, std::string &error) {
  error = path + ": cannot read it (" + std::strerror(reason) +
          "); copy it again, or move it out of the image folder";
  return false;
}

bool failHeader(const std::string &path, std::string &error) {
  error = path + ": byte 0: not an image that stb_image reads (stb: " +
          stbi_failure_reason() + "); " + kFormatsHint;
  return false;
}

bool checkPixels(const std::string &path, int width, int height,
                 std::string &error) {
  if (int64_t(width) * height <= kMaxImagePixels)
    return true;
  error = path + ": the image is " + std::to_string(width) + " x " +
          std::to_string(height) + " pixels, more than the " +
          std::to_string(kMaxImagePixels) +
          " that images(...) decodes at once; shrink it beforehand (with "
          "ImageMagick: mogrify -resize 4096x4096 FILE)";
  return false;
}

bool failTruncated(const std::string &path, uint64_t fileSize,
                   const std::string &needs, std::string &error) {
  error = path + ": byte " + std::to_string(fileSize) +
          ": the file ends there, but " + needs + "; " + kTruncatedHint;
  return false;
}

/// "1 byte", "3 bytes".
std::string bytesText(uint64_t count) {
  return std::to_string(count) + (count == 1 ? " byte" : " bytes");
}

uint32_t littleEndian16(const unsigned char *bytes) {
  return uint32_t(bytes[0]) | uint32_t(bytes[1]) << 8;
}

uint32_t littleEndian32(const unsigned char *bytes) {
  return littleEndian16(bytes) | littleEndian16(bytes + 2) << 16;
}

/// A bound on the file's length as a header says it: the bytes that must
/// exist, and what needs them.
struct Needed {
  uint64_t bytes = 0;
  std::string what;
};

bool isPnmSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

/// The header of a binary PNM file: "P5" (grey) or "P6" (RGB), then width,
/// height and the maximum sample as text between whitespace and comments,
/// one whitespace character, then the samples, two bytes each (big-endian)
/// when the maximum is above 255.
struct PnmHeader {
  uint64_t width = 0, height = 0, channels = 0, maximum = 0;
  size_t samples = 0;
  uint64_t sampleBytes() const { return maximum > 255 ? 2 : 1; }
  uint64_t end() const {
    return samples + width * height * channels * sampleBytes();
  }
};

/// False when `bytes` is not a PNM header or the header does not end within
/// them.
bool parsePnm(const unsigned char *bytes, size_t available, PnmHeader &header) {
  if (available < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6'))
    return false;
  size_t at = 2;
  for (uint64_t *number : {&header.width, &header.height, &header.maximum}) {
    for (;;) {
      while (at < available && isPnmSpace(bytes[at]))
        ++at;
      if (at >= available || bytes[at] != '#')
        break;
      while (at < available && bytes[at] != '\n' && bytes[at] != '\r')
        ++at;
    }
    size_t start = at;
    *number = 0;
    // stb_image has read these numbers; the bound keeps the products in
    // 64 bits for a file that changed since.
    while (at < available && bytes[at] >= '0' && bytes[at] <= '9' &&
           *number <= kMaxImagePixels)
      *number = *number * 10 + (bytes[at++] - '0');
    if (at == start || at >= available || *number > kMaxImagePixels)
      return false;
  }
  header.channels = bytes[1] == '5' ? 1 : 3;
  header.samples = at + 1;
  return true;
}

bool pnmNeeds(const unsigned char *bytes, size_t available, Needed &needed) {
  PnmHeader header;
  if (!parsePnm(bytes, available, header))
    return false;
  uint64_t pixelBytes = header.channels * header.sampleBytes();
  needed.bytes = header.end();
  needed.what = "its PNM header (" + std::to_string(header.width) + " x " +
                std::to_string(header.height) + " pixels of " +
                bytesText(pixelBytes) + ") needs " +
                std::to_string(needed.bytes) + " bytes";
  return true;
}

/// stb_image 2.27 takes PNM samples for numbers from 0 to 255 whatever the
/// header's maximum, and reads 16-bit ones with their bytes swapped. So a
/// PNM file whose maximum is not 255 is rewritten to 8 bits here, each
/// sample v as round(v * 255 / maximum), the meaning Netpbm gives it. The
/// file's length has been checked.
void rescalePnm(std::vector<unsigned char> &bytes) {
  PnmHeader header;
  if (!parsePnm(bytes.data(), bytes.size(), header) || header.maximum == 255)
    return;
  std::string start = std::string("P") + char(bytes[1]) + " " +
                      std::to_string(header.width) + " " +
                      std::to_string(header.height) + " 255\n";
  uint64_t count = header.width * header.height * header.channels;
  std::vector<unsigned char> rescaled(start.begin(), start.end());
  rescaled.resize(start.size() + count);
  const unsigned char *sample = bytes.data() + header.samples;
  uint64_t maximum = std::max<uint64_t>(header.maximum, 1);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t value = header.sampleBytes() == 2
                         ? uint64_t(sample[2 * i]) << 8 | sample[2 * i + 1]
                         : sample[i];
    rescaled[start.size() + i] = static_cast<unsigned char>(
        std::min<uint64_t>(255, (value * 255 + maximum / 2) / maximum));
  }
  bytes = std::move(rescaled);
}

/// BMP: rows of width * bits / 8 bytes, each padded to 4, from the offset that
/// the file header gives (stb_image insists that the pixels start there).
/// Only uncompressed files: stb rejects RLE ones.
bool bmpNeeds(const unsigned char *bytes, size_t available, Needed &needed) {
  if (available < 34)
    return false;
  uint64_t offset = littleEndian32(bytes + 10);
  uint64_t width, height, bits;
  if (littleEndian32(bytes + 14) == 12) {
    width = littleEndian16(bytes + 18);
    height = littleEndian16(bytes + 20);
    bits = littleEndian16(bytes + 24);
  } else {
    if (uint32_t compression = littleEndian32(bytes + 30);
        compression != 0 && compression != 3)
      return false;
    width = littleEndian32(bytes + 18);
    // A negative height is a top-down image of that many rows.
    auto rows = static_cast<int32_t>(littleEndian32(bytes + 22));
    height = rows < 0 ? -int64_t(rows) : rows;
    bits = littleEndian16(bytes + 28);
  }
  if (width > kMaxImagePixels || height > kMaxImagePixels)
    return false;
  uint64_t stride = (width * bits + 31) / 32 * 4;
  needed.bytes = offset + stride * height;
  needed.what = "its BMP header (pixels from byte " + std::to_string(offset) +
                ", " + std::to_string(height) + " rows of " +
                std::to_string(stride) + " bytes) needs " +
                std::to_string(needed.bytes) + " bytes";
  return true;
}

/// TGA (as stb_image reads it): an 18-byte header, an ID field, a palette
/// when the image is indexed, then the pixels, plain or as run-length
/// packets. The packets are walked only when all of the file is at hand.
bool tgaNeeds(const unsigned char *bytes, size_t available, uint64_t fileSize,
              Needed &needed) {
  if (available < 18)
    return false;
  bool indexed = bytes[1] == 1;
  bool runLength = bytes[2] >= 8;
  uint64_t width = littleEndian16(bytes + 12);
  uint64_t height = littleEndian16(bytes + 14);
  uint64_t pixelBytes = (bytes[16] + 7) / 8;
  uint64_t at = 18 + bytes[0];
  if (indexed)
    at += littleEndian16(bytes + 3) +
          uint64_t(littleEndian16(bytes + 5)) * ((bytes[7] + 7) / 8);
  uint64_t pixels = width * height;
  if (!runLength) {
    needed.bytes = at + pixels * pixelBytes;
    needed.what = "its TGA header (" + std::to_string(width) + " x " +
                  std::to_string(height) + " pixels of " +
                  bytesText(pixelBytes) + ") needs " +
                  std::to_string(needed.bytes) + " bytes";
    return true;
  }
  if (available < fileSize)
    return false;
  uint64_t decoded = 0;
  while (decoded < pixels && at < fileSize) {
    unsigned char packet = bytes[at++];
    uint64_t count = 1 + (packet & 127);
    at += (packet & 128) ? pixelBytes : count * pixelBytes;
    decoded += count;
  }
  std::string size = std::to_string(width) + " x " + std::to_string(height);
  if (decoded < pixels) {
    needed.bytes = fileSize + 1;
    needed.what = "its run-length packets end after " +
                  std::to_string(decoded) + " of its " + size + " pixels";
  } else {
    needed.bytes = at;
    needed.what = "its run-length packets for " + size + " pixels need " +
                  std::to_string(at) + " bytes";
  }
  return true;
}

/// GIF: the blocks up to the end of the first frame's image data, the frame
/// that stb_image decodes. Only when all of the file is at hand.
bool gifNeeds(const unsigned char *bytes, uint64_t fileSize, Needed &needed) {
  auto colorTable = [&](unsigned char flags) -> uint64_t {
    return (flags & 0x80) ? 3u << ((flags & 7) + 1) : 0;
  };
  // Data sub-blocks: a length byte and that many bytes, until length 0.
  auto subBlocks = [&](uint64_t &at) {
    while (at < fileSize && bytes[at] != 0)
      at += 1 + bytes[at];
    ++at;
  };
  needed.what = "its first frame's GIF blocks go on past it";
  if (fileSize < 13)
    return false;
  uint64_t at = 13 + colorTable(bytes[10]);
  while (at < fileSize && bytes[at] == 0x21) {
    at += 2;
    subBlocks(at);
  }
  if (at >= fileSize) {
    needed.bytes = fileSize + 1;
    return true;
  }
  // Something other than a frame: stb_image's to judge.
  if (bytes[at] != 0x2C)
    return false;
  at += 10;
  if (at <= fileSize)
    at += colorTable(bytes[at - 1]);
  // The code size of the LZW data, then its sub-blocks.
  ++at;
  subBlocks(at);
  needed.bytes = at;
  return true;
}

/// Checks that the file at `path`, of `fileSize` bytes starting with the
/// `available` bytes at `bytes`, is as long as its header says, for the
/// formats whose truncation stb_image does not notice (see the top).
/// stb_image must have read the header already.
bool checkLength(const std::string &path, const unsigned char *bytes,
                 size_t available, uint64_t fileSize, std::string &error) {
  if (available < 4)
    return true;
  Needed needed;
  bool known = false;
  if (bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6'))
    known = pnmNeeds(bytes, available, needed);
  else if (bytes[0] == 'B' && bytes[1] == 'M')
    known = bmpNeeds(bytes, available, needed);
  else if (std::memcmp(bytes, "GIF8", 4) == 0)
    known = available == fileSize && gifNeeds(bytes, fileSize, needed);
  // Every other format that stb_image knows has a signature whose second
  // byte is above 1; a TGA file's second byte, the colour map type, is 0 or
  // 1.
  else if (bytes[1] <= 1)
    known = tgaNeeds(bytes, available, fileSize, needed);
  if (!known || needed.bytes <= fileSize)
    return true;
  return failTruncated(path, fileSize, needed.what, error);
}

} // namespace

bool data::isImageFileName(std::string_view name) {
  return std::any_of(
      std::begin(kImageExtensions), std::end(kImageExtensions),
      [&](const char *extension) { return hasExtension(name, extension); });
}

bool data::checkImageFile(const std::string &path, std::string &error) {
  FileDescriptor file;
  uint64_t size = 0;
  if (!openImageFile(path, file, size, error))
    return false;
  Cursor cursor{file.fd, size};
  stbi_io_callbacks callbacks{Cursor::read, Cursor::skip, Cursor::eof};
  int width = 0, height = 0, channels = 0;
  int known =
      stbi_info_from_callbacks(&callbacks, &cursor, &width, &height, &channels);
  if (cursor.readErrno != 0) {
    return failRead(path, cursor.readErrno, error);
  }
  if (!known)
    return failHeader(path, error);
  if (!checkPixels(path, width, height, error))
    return false;
  std::array<unsigned char, kPrefixBytes> prefix;
  size_t available = 0;
  if (!readAt(file.fd, 0, prefix.data(), prefix.size(), available))
    return failRead(path, errno, error);
  return checkLength(path, prefix.data(), available, size, error);
}

bool data::decodeImage(const std::string &path, int channels, int height,
                       int width, float *out, std::string &error) {
  try {
    FileDescriptor file;
    uint64_t size = 0;
    if (!openImageFile(path, file, size, error))
      return false;
    std::vector<unsigned char> bytes(size);
    size_t done = 0;
    if (!readAt(file.fd, 0, bytes.data(), bytes.size(), done))
      return failRead(path, errno, error);
    bytes.resize(done);
    // The file was checked at open, but it may have changed since.
    int length = static_cast<int>(bytes.size());
    int fileWidth = 0, fileHeight = 0, fileChannels = 0;
    if (!stbi_info_from_memory(bytes.data(), length, &fileWidth, &fileHeight,
                               &fileChannels))
      return failHeader(path, error);
    if (!checkPixels(path, fileWidth, fileHeight, error) ||
        !checkLength(path, bytes.data(), bytes.size(), bytes.size(), error))
      return false;
    rescalePnm(bytes);
    length = static_cast<int>(bytes.size());

    std::unique_ptr<stbi_uc, void (*)(void *)> pixels(
        stbi_load_from_memory(bytes.data(), length, &fileWidth, &fileHeight,
                              &fileChannels, channels),
        stbi_image_free);
    if (!pixels) {
      error = path +
              ": stb_image cannot decode it (stb: " + stbi_failure_reason() +
              "); the file is damaged: open it in an image viewer, then "
              "save it again or move it out of the image folder";
      return false;
    }
    bytes = {};

    const unsigned char *source = pixels.get();
    std::vector<unsigned char> resized;
    if (fileWidth != width || fileHeight != height) {
      resized.resize(size_t(width) * height * channels);
      // stb_image_resize's default filters (Mitchell when shrinking,
      // Catmull-Rom when enlarging) on the 8-bit values, as torchvision's
      // Resize works on the 8-bit PIL image; the pixels differ slightly from
      // PIL's bilinear ones.
      if (!stbir_resize_uint8(pixels.get(), fileWidth, fileHeight, 0,
                              resized.data(), width, height, 0, channels)) {
        error = path + ": out of memory while resizing it from " +
                std::to_string(fileWidth) + " x " + std::to_string(fileHeight) +
                " pixels; use fewer batch threads, or shrink the images "
                "beforehand";
        return false;
      }
      source = resized.data();
    }

    // ToTensor's division, rounded once from double as PyTorch's float
    // division by 255 rounds.
    std::array<float, 256> values;
    for (int v = 0; v < 256; ++v)
      values[v] = static_cast<float>(v / 255.0);
    size_t plane = size_t(width) * height;
    for (int c = 0; c < channels; ++c)
      for (size_t p = 0; p < plane; ++p)
        out[c * plane + p] = values[source[p * channels + c]];
    return true;
  } catch (const std::bad_alloc &) {
    error = path + ": out of memory while decoding it; use fewer batch "
                   "threads, or shrink the images beforehand";
    return false;
  }
}

namespace {

/// A folder's identity, to notice a symbolic link back to a folder being
/// walked.
struct FolderId {
  dev_t device;
  ino_t inode;
  bool operator==(const FolderId &other) const {
    return device == other.device && inode == other.inode;
  }
};

/// The entries of a folder but "." and "..".
bool listFolder(const std::string &path, std::vector<std::string> &names,
                std::string &error) {
  std::unique_ptr<DIR, int (*)(DIR *)> folder(::opendir(path.c_str()),
                                              ::closedir);
  if (!folder) {
    error = path + ": cannot open the folder (" + errnoText() +
            "); make it readable, or give another folder";
    return false;
  }
  names.clear();
  for (;;) {
    errno = 0;
    const dirent *entry = ::readdir(folder.get());
    if (!entry)
      break;
    if (std::strcmp(entry->d_name, ".") != 0 &&
        std::strcmp(entry->d_name, "..") != 0)
      names.emplace_back(entry->d_name);
  }
  if (errno != 0) {
    error = path + ": cannot read the folder (" + errnoText() +
            "); make it readable, or give another folder";
    return false;
  }
  std::sort(names.begin(), names.end());
  return true;
}

/// The walk of one class folder.
struct Walk {
  /// Every image: the folder that holds it and its name.
  std::vector<std::pair<std::string, std::string>> images;
  /// The folders from the root down to the one being listed.
  std::vector<FolderId> ancestors;
  std::vector<std::string> loops;
  int64_t undecodable = 0;
  std::string firstUndecodable;
};

/// Walks `folder` and the folders below it, following symbolic links.
bool walk(const std::string &folder, Walk &state, std::string &error) {
  std::vector<std::string> names;
  if (!listFolder(folder, names, error))
    return false;
  for (const std::string &name : names) {
    std::string path = folder + "/" + name;
    struct stat status;
    if (::stat(path.c_str(), &status) != 0) {
      int reason = errno;
      // torchvision fails on an image it cannot open; other names are not
      // its business.
      if (!isImageFileName(name))
        continue;
      error = path + ": cannot open it (" + std::strerror(reason) +
              (reason == ENOENT ? ": a symbolic link to nothing" : "") +
              "); fix it, or move it out of the image folder";
      return false;
    }
    if (S_ISDIR(status.st_mode)) {
      FolderId id{status.st_dev, status.st_ino};
      if (std::find(state.ancestors.begin(), state.ancestors.end(), id) !=
          state.ancestors.end()) {
        state.loops.push_back(path);
        continue;
      }
      state.ancestors.push_back(id);
      if (!walk(path, state, error))
        return false;
      state.ancestors.pop_back();
    } else if (isImageFileName(name)) {
      state.images.emplace_back(folder, name);
    } else if (isUndecodableImageName(name)) {
      if (state.undecodable++ == 0)
        state.firstUndecodable = path;
    }
  }
  return true;
}

} // namespace

bool data::scanImageFolder(const std::string &rootPath,
                           const std::vector<std::string> *trainClasses,
                           ImageFolder &folder, std::string &error) {
  std::string root = rootPath;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  const char *layout = "images(...) reads ROOT/CLASS/IMAGE, one folder of "
                       "images per class (as torchvision's ImageFolder)";
  struct stat status;
  if (::stat(root.c_str(), &status) != 0) {
    error = root + ": cannot open the folder (" + errnoText() +
            "); give the folder of the images: " + layout;
    return false;
  }
  if (!S_ISDIR(status.st_mode)) {
    error = root + ": not a folder; " + layout;
    return false;
  }

  std::vector<std::string> names;
  if (!listFolder(root, names, error))
    return false;
  std::vector<std::string> classes;
  for (const std::string &name : names) {
    struct stat entry;
    if (::stat((root + "/" + name).c_str(), &entry) == 0 &&
        S_ISDIR(entry.st_mode))
      classes.push_back(name);
  }
  if (classes.empty()) {
    error = root + ": the folder has no class folders; " + layout;
    return false;
  }

  ImageFolder result;
  result.root = root;
  std::vector<std::string> empty;
  for (const std::string &name : classes) {
    int64_t label = static_cast<int64_t>(result.classes.size());
    if (trainClasses) {
      auto it =
          std::lower_bound(trainClasses->begin(), trainClasses->end(), name);
      if (it == trainClasses->end() || *it != name) {
        error = root + "/" + name + ": the test split has the class '" + name +
                "', which the training split has not (its classes: " +
                quotedList(*trainClasses, 10) +
                "); give every test class a training folder of the same "
                "name, or move this one out";
        return false;
      }
      label = it - trainClasses->begin();
    }
    result.classes.push_back(name);

    Walk state;
    state.ancestors.push_back({status.st_dev, status.st_ino});
    std::string path = root + "/" + name;
    struct stat classStatus;
    if (::stat(path.c_str(), &classStatus) == 0)
      state.ancestors.push_back({classStatus.st_dev, classStatus.st_ino});
    if (!walk(path, state, error))
      return false;
    if (state.images.empty())
      empty.push_back(name);
    // torchvision's order: sorted(os.walk(...)) by folder, then the sorted
    // names in each.
    std::sort(state.images.begin(), state.images.end());
    for (auto &[holder, file] : state.images) {
      result.paths.push_back(holder + "/" + file);
      result.labels.push_back(label);
    }
    for (const std::string &loop : state.loops)
      result.notes.push_back(loop +
                             ": a symbolic link back to a folder above it, "
                             "not followed again");
    if (state.undecodable)
      result.notes.push_back(
          "ignored " + std::to_string(state.undecodable) +
          " .tif, .tiff or .webp files of class '" + name + "' (" +
          state.firstUndecodable +
          ", ...), which stb_image cannot decode: convert them to PNG to "
          "train on them");
  }
  if (!empty.empty()) {
    error = root + ": no image in the class folder" +
            (empty.size() == 1 ? " " : "s ") + quotedList(empty, 10) +
            "; images(...) reads files ending in " + extensionList() +
            " (in any case), in the class folder or below it: add images, "
            "or move the folder out";
    return false;
  }
  for (const std::string &path : result.paths)
    if (!checkImageFile(path, error))
      return false;
  folder = std::move(result);
  return true;
}
