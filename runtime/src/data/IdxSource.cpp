//===- IdxSource.cpp - idx(...): MNIST-family IDX files, gzip or not ------===//
//
// An IDX file is a magic number 0x0000TTNN (TT the element type, NN the
// number of dimensions), NN big-endian 32-bit sizes, the first counting the
// examples, then the big-endian elements in row-major order. A raw file is
// read in place: its descriptor stays open and each example is read with
// pread, so files larger than memory train and any thread may read. A gzip
// file cannot be read at random, so it is decompressed into memory at open.
// Every header is checked, and every label against the model's classes,
// before the first step; a pixel is converted only when its example is read.
//
//===----------------------------------------------------------------------===//

#include "data/Files.h"
#include "data/Idx.h"
#include "data/Source.h"
#include "data/Text.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::data {
bool openIdx(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

using namespace kiln;
using namespace kiln::data;

namespace {

constexpr const char *kOpenHint =
    "check the path (a relative path is read from the trainer's --data "
    "directory, or else from the current one)";
constexpr const char *kDamagedHint =
    "the file is damaged or not an IDX file: check that it was written, or "
    "downloaded, whole";
constexpr const char *kNotIdxHint =
    "give an IDX file (such as MNIST's train-images-idx3-ubyte), "
    "gzip-compressed or not";
constexpr const char *kChangedHint =
    "the file changed after the trainer opened it, or the disk failed: do "
    "not change the data files while a trainer reads them";

/// Gzip files that decompress to more than this in all earn a note: they
/// take memory that the same files uncompressed would not.
constexpr uint64_t kLargeGzip = uint64_t(64) << 20;

/// The header of an IDX file fits in these bytes (255 dimensions).
constexpr size_t kMaxHeader = 4 + 4 * 255;

/// Raw files are read and converted this many bytes at a time: a multiple of
/// every element size.
constexpr size_t kChunk = 16384;

/// An element type of IDX files: the magic number's third byte.
struct IdxType {
  uint8_t code;
  const char *name;
  size_t size;
  bool integer;
};

constexpr IdxType kTypes[] = {{0x08, "u8", 1, true},   {0x09, "i8", 1, true},
                              {0x0b, "i16", 2, true},  {0x0c, "i32", 4, true},
                              {0x0d, "f32", 4, false}, {0x0e, "f64", 8, false}};

const IdxType *findType(uint8_t code) {
  for (const IdxType &type : kTypes)
    if (type.code == code)
      return &type;
  return nullptr;
}

/// Calls fn(i, value) for each of the `count` big-endian elements of type
/// `code` at `bytes`, until fn returns false. Integers up to 32 bits and
/// floats are exact in a double.
template <typename Fn>
bool decode(uint8_t code, const uint8_t *bytes, size_t count, Fn fn) {
  for (size_t i = 0; i < count; ++i) {
    double value = 0;
    switch (code) {
    case 0x08:
      value = bytes[i];
      break;
    case 0x09:
      value = static_cast<int8_t>(bytes[i]);
      break;
    case 0x0b:
      value = static_cast<int16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
      break;
    case 0x0c:
      value = static_cast<int32_t>(readBigEndian32(bytes + 4 * i));
      break;
    case 0x0d: {
      uint32_t bits = readBigEndian32(bytes + 4 * i);
      float real;
      std::memcpy(&real, &bits, sizeof real);
      value = real;
      break;
    }
    default: {
      uint64_t bits = uint64_t(readBigEndian32(bytes + 8 * i)) << 32 |
                      readBigEndian32(bytes + 8 * i + 4);
      std::memcpy(&value, &bits, sizeof value);
      break;
    }
    }
    if (!fn(i, value))
      return false;
  }
  return true;
}

/// The thread-safe strerror of glibc.
std::string errorText(int number) {
  char buffer[256];
  return strerror_r(number, buffer, sizeof buffer);
}

/// Reads `size` bytes at `offset` of `fd` into `out`; on failure sets `reason`.
bool readFully(int fd, uint64_t offset, size_t size, uint8_t *out,
               std::string &reason) {
  size_t got = 0;
  if (!readAt(fd, offset, out, size, got)) {
    reason = errorText(errno);
    return false;
  }
  if (got < size) {
    reason = "the file ends at byte " + std::to_string(offset + got);
    return false;
  }
  return true;
}

/// "0x0d".
std::string hex8(uint8_t value) {
  std::array<char, 5> text;
  std::snprintf(text.data(), text.size(), "0x%02x", value);
  return text.data();
}

std::string dimsText(const std::vector<uint32_t> &dims, size_t from = 0) {
  std::string text;
  for (size_t d = from; d < dims.size(); ++d)
    text += (d > from ? " x " : "") + std::to_string(dims[d]);
  return text;
}

/// One IDX file whose header and length have been checked: the data is read
/// in place (a raw file, `fd` held open) or held in memory (gzip, `bytes`).
class IdxArray {
public:
  IdxArray() = default;
  IdxArray(const IdxArray &) = delete;
  IdxArray &operator=(const IdxArray &) = delete;
  ~IdxArray() {
    if (fd >= 0)
      ::close(fd);
  }

  /// The path that messages name.
  std::string path;
  const IdxType *type = nullptr;
  /// All the header's dimensions, the first counting the examples.
  std::vector<uint32_t> dims;
  bool gzip = false;
  int fd = -1;
  std::vector<uint8_t> bytes;
  uint64_t dataOffset = 0;
  uint64_t exampleElements = 1;

  int64_t count() const { return dims[0]; }
  uint64_t exampleBytes() const { return exampleElements * type->size; }
  /// Where offsets in messages lie.
  const char *where() const { return gzip ? "decompressed data" : "file"; }
  /// The offset of element `element` of example `example`.
  uint64_t offsetOf(int64_t example, uint64_t element) const {
    return dataOffset + (example * exampleElements + element) * type->size;
  }
  /// "path: byte N of the file: what; hint".
  bool fail(std::string &error, uint64_t offset, const std::string &what,
            const std::string &hint) const {
    error = fileError(path, offset, where(), what, hint);
    return false;
  }

  /// Calls visitChunk(element, bytes, n) on the elements of examples [first,
  /// first + examples), `element` counting from the start of example
  /// `first`: all at once from memory, or a chunk at a time from the file.
  template <typename Visit>
  bool visit(int64_t first, int64_t examples, std::string &error,
             Visit visitChunk) const {
    uint64_t begin = offsetOf(first, 0);
    uint64_t size = examples * exampleBytes();
    if (gzip)
      return visitChunk(0, bytes.data() + begin, size / type->size);
    uint8_t chunk[kChunk];
    for (uint64_t done = 0; done < size;) {
      size_t piece =
          static_cast<size_t>(std::min<uint64_t>(size - done, kChunk));
      std::string reason;
      if (!readFully(fd, begin + done, piece, chunk, reason))
        return fail(error, begin + done,
                    "cannot read example " +
                        std::to_string(first + done / exampleBytes()) + " (" +
                        reason + ")",
                    kChangedHint);
      if (!visitChunk(done / type->size, chunk, piece / type->size))
        return false;
      done += piece;
    }
    return true;
  }
};

/// Opens the IDX file `path` and checks its magic number, header and length.
/// Returns null and sets `error` on failure.
std::unique_ptr<IdxArray> openArray(const std::string &path,
                                    std::string &error) {
  auto array = std::make_unique<IdxArray>();
  array->path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = fileError(path, 0, "file",
                      "cannot open it (" + errorText(errno) + ")", kOpenHint);
    return nullptr;
  }
  array->fd = fd;
  struct stat status;
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    error = fileError(path, 0, "file", "it is not a regular file", kOpenHint);
    return nullptr;
  }
  uint64_t fileSize = static_cast<uint64_t>(status.st_size);
  std::vector<uint8_t> header(std::min<uint64_t>(fileSize, kMaxHeader));
  std::string reason;
  if (!readFully(fd, 0, header.size(), header.data(), reason)) {
    error = fileError(path, 0, "file", "cannot read it (" + reason + ")",
                      kChangedHint);
    return nullptr;
  }

  FileProblem problem;
  if (startsLikeGzip(header.data(), header.size())) {
    // Gzip cannot be read at random: the whole file is decompressed here.
    array->gzip = true;
    std::string compressed(fileSize, '\0');
    if (!readFully(fd, 0, compressed.size(),
                   reinterpret_cast<uint8_t *>(compressed.data()), reason)) {
      error = fileError(path, 0, "file", "cannot read it (" + reason + ")",
                        kChangedHint);
      return nullptr;
    }
    ::close(fd);
    array->fd = -1;
    if (!gunzip(compressed, array->bytes, problem)) {
      error = fileError(path, problem.offset, "compressed file", problem.what,
                        kDamagedHint);
      return nullptr;
    }
    fileSize = array->bytes.size();
    header.assign(array->bytes.begin(),
                  array->bytes.begin() +
                      std::min<uint64_t>(fileSize, kMaxHeader));
  }

  uint32_t magic;
  if (!readIdxMagic(header.data(), header.size(), magic, problem)) {
    array->fail(error, problem.offset, problem.what, kDamagedHint);
    return nullptr;
  }
  if (magic >> 16 != 0) {
    array->fail(error, 0,
                "the IDX magic number is " + hex32(magic) +
                    ", but an IDX file starts with two zero bytes",
                kNotIdxHint);
    return nullptr;
  }
  uint8_t code = magic >> 8 & 0xff;
  size_t rank = magic & 0xff;
  array->type = findType(code);
  if (!array->type) {
    std::string known;
    for (const IdxType &type : kTypes)
      known += std::string(known.empty() ? "" : ", ") + hex8(type.code) + " (" +
               type.name + ")";
    array->fail(error, 2,
                "the IDX magic number is " + hex32(magic) +
                    ", whose type byte " + hex8(code) + " is none of " + known,
                kDamagedHint);
    return nullptr;
  }
  if (rank == 0) {
    array->fail(error, 3,
                "the IDX magic number is " + hex32(magic) +
                    ", which gives the file 0 dimensions, but the first "
                    "counts the examples",
                kDamagedHint);
    return nullptr;
  }
  if (!readIdxDims(header.data(), header.size(), rank, array->dims, problem)) {
    array->fail(error, problem.offset, problem.what, kDamagedHint);
    return nullptr;
  }

  // Damaged dimensions can multiply past 64 bits; intact ones fit the file.
  bool overflow = false;
  for (size_t d = 1; d < rank; ++d)
    overflow |=
        __builtin_mul_overflow(array->exampleElements, uint64_t(array->dims[d]),
                               &array->exampleElements);
  uint64_t expected;
  overflow |= __builtin_mul_overflow(array->exampleElements,
                                     uint64_t(array->type->size), &expected);
  overflow |=
      __builtin_mul_overflow(expected, uint64_t(array->dims[0]), &expected);
  if (overflow) {
    array->fail(error, 4,
                "the header's dimensions " + dimsText(array->dims) + " of " +
                    array->type->name + " elements need more than 2^64 bytes",
                kDamagedHint);
    return nullptr;
  }
  array->dataOffset = idxHeaderSize(rank);
  if (!checkIdxLength(array->dataOffset, array->dims[0], expected, fileSize,
                      problem)) {
    array->fail(error, problem.offset, problem.what, kDamagedHint);
    return nullptr;
  }
  if (array->dims[0] == 0) {
    array->fail(error, 4, "the header counts 0 examples",
                "give a file that holds examples, or leave out an empty test "
                "split (test_images and test_labels \"\")");
    return nullptr;
  }
  return array;
}

/// `shape` without its dimensions of size 1.
std::vector<int64_t> squeezed(std::vector<int64_t> shape) {
  shape.erase(std::remove(shape.begin(), shape.end(), 1), shape.end());
  return shape;
}

/// The examples of one split: images converted to f32 when read, labels
/// checked at open.
class IdxExamples : public Examples {
public:
  IdxExamples(std::unique_ptr<IdxArray> images,
              std::unique_ptr<IdxArray> labels, double scale)
      : images(std::move(images)), labels(std::move(labels)), scale(scale) {}

  int64_t size() const override { return images->count(); }

  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    return readImage(index, static_cast<float *>(rows[0]), error) &&
           readLabel(index, static_cast<int64_t *>(rows[1]), error);
  }

private:
  bool readImage(int64_t index, float *pixels, std::string &error) const {
    auto convert = [&](uint64_t first, const uint8_t *bytes, size_t count) {
      return decode(images->type->code, bytes, count,
                    [&](size_t i, double value) {
                      // Computed in double and rounded once, as
                      // loadFashionMnist does.
                      float pixel = static_cast<float>(value * scale);
                      pixels[first + i] = pixel;
                      return std::isfinite(pixel) ||
                             notFinite(index, first + i, value, error);
                    });
    };
    return images->visit(index, 1, error, convert);
  }

  bool readLabel(int64_t index, int64_t *label, std::string &error) const {
    auto convert = [&](uint64_t, const uint8_t *bytes, size_t) {
      return decode(labels->type->code, bytes, 1, [&](size_t, double value) {
        *label = static_cast<int64_t>(value);
        return true;
      });
    };
    return labels->visit(index, 1, error, convert);
  }

  bool notFinite(int64_t index, uint64_t element, double value,
                 std::string &error) const {
    std::array<char, 80> text;
    std::snprintf(text.data(), text.size(), "%g, which times the scale %g",
                  value, scale);
    return images->fail(error, images->offsetOf(index, element),
                        "element " + std::to_string(element) + " of example " +
                            std::to_string(index) + " is " + text.data() +
                            " is not a finite 32-bit float",
                        "fix or drop the example, or give a smaller scale: a "
                        "NaN or infinite input makes the loss NaN");
  }

  std::unique_ptr<IdxArray> images, labels;
  double scale;
};

/// "train-images-idx3-ubyte.gz (60000 x 28 x 28 u8)".
std::string arrayText(const std::string &name, const IdxArray &array) {
  return name + " (" + dimsText(array.dims) + " " + array.type->name + ")";
}

/// The recipe's arguments that name files, train split first.
constexpr const char *kPathArguments[4] = {"images", "labels", "test_images",
                                           "test_labels"};

/// What opening the splits gathers.
struct Opening {
  explicit Opening(const SourceRequest &request) : request(request) {}

  const SourceRequest &request;
  double scale = 1;
  OpenedSource result;
  /// The bytes held in memory for gzip files.
  uint64_t gzipBytes = 0;
  /// The recipe's path of the file being read, for the message when memory
  /// runs out.
  const std::string *reading = nullptr;
};

/// Checks that the labels are classes of `field`, a chunk at a time.
bool checkLabels(const IdxArray &labels, const Field &field,
                 std::string &error) {
  if (field.range == 0)
    return true;
  auto check = [&](uint64_t first, const uint8_t *bytes, size_t count) {
    return decode(labels.type->code, bytes, count, [&](size_t i, double value) {
      if ((value >= 0 && value < field.range) ||
          (field.ignoreIndex &&
           value == static_cast<double>(*field.ignoreIndex)))
        return true;
      int64_t example = first + i;
      return labels.fail(
          error, labels.offsetOf(example, 0),
          "label " + std::to_string(static_cast<int64_t>(value)) +
              " of example " + std::to_string(example) +
              " is not a class in [0, " + std::to_string(field.range) + ")",
          "input '" + field.name + "' has " + std::to_string(field.range) +
              " classes: fix the labels, or give the model as many classes "
              "as the data has");
    });
  };
  return labels.visit(0, labels.count(), error, check);
}

/// Opens the images and labels of split `split` (0 train, 1 test), checks
/// them against the model's inputs and each other, and adds them to
/// `opening`.
bool openSplit(Opening &opening, int split, std::string &error) {
  const SourceRequest &request = opening.request;
  const std::string &imagesName =
      request.args.string(kPathArguments[2 * split]);
  const std::string &labelsName =
      request.args.string(kPathArguments[2 * split + 1]);
  std::string imagesPath = request.resolve(imagesName);
  std::string labelsPath = request.resolve(labelsName);

  opening.reading = &imagesName;
  std::unique_ptr<IdxArray> images = openArray(imagesPath, error);
  if (!images)
    return false;
  const Field &imageField = request.fields[0];
  std::vector<int64_t> imageShape(images->dims.begin() + 1, images->dims.end());
  if (squeezed(imageShape) != squeezed(imageField.shape))
    return images->fail(
        error, 8,
        "the images are " +
            (imageShape.empty() ? std::string("single values")
                                : dimsText(images->dims, 1)) +
            " (the dimensions after the count), but input '" + imageField.name +
            "' is f32" + formatBatchShape(imageField.shape),
        "declare input '" + imageField.name + "' as f32" +
            formatBatchShape(imageShape) +
            " (dimensions of size 1 may be added or left out), or give "
            "images of its shape");

  opening.reading = &labelsName;
  std::unique_ptr<IdxArray> labels = openArray(labelsPath, error);
  if (!labels)
    return false;
  const char *labelsHint = "give the labels file (such as MNIST's "
                           "train-labels-idx1-ubyte): one integer class id "
                           "per example";
  if (labels->dims.size() != 1)
    return labels->fail(
        error, 3,
        "the labels file has " + std::to_string(labels->dims.size()) +
            " dimensions (" + dimsText(labels->dims) + "), expected 1",
        labelsHint);
  if (!labels->type->integer)
    return labels->fail(error, 2,
                        std::string("the labels are ") + labels->type->name +
                            ", expected an integer type (u8, i8, i16 or i32)",
                        labelsHint);
  if (labels->count() != images->count())
    return labels->fail(error, 4,
                        "the file has " + std::to_string(labels->count()) +
                            " labels, but " + imagesPath + " has " +
                            std::to_string(images->count()) + " images",
                        "the files do not belong together: give the labels "
                        "of these images");
  if (!checkLabels(*labels, request.fields[1], error))
    return false;
  opening.reading = nullptr;

  for (const IdxArray *array : {images.get(), labels.get()})
    if (array->gzip)
      opening.gzipBytes += array->bytes.size();
  OpenedSource &result = opening.result;
  result.description += std::string(split ? "; test" : "") + " images " +
                        arrayText(imagesName, *images) + " and labels " +
                        arrayText(labelsName, *labels);
  (split ? result.test : result.train) = std::make_unique<IdxExamples>(
      std::move(images), std::move(labels), opening.scale);
  return true;
}

/// Checks the arguments and inputs that no file is needed for.
bool checkRequest(const SourceRequest &request, double scale,
                  std::string &error) {
  if (!std::isfinite(scale)) {
    error = "idx: scale is " + std::to_string(scale) +
            "; give a finite number, such as 1 / 255";
    return false;
  }
  const std::vector<Field> &fields = request.fields;
  if (fields.size() != 2 || fields[0].dtype != io::DType::F32 ||
      fields[1].dtype != io::DType::I64 || fields[1].numElements() != 1) {
    std::string declared;
    for (const Field &field : fields)
      declared += (declared.empty() ? "" : ", ") + field.name + ": " +
                  formatDeclaredField(field);
    error = "idx: the model's inputs are " +
            (declared.empty() ? std::string("none") : declared) +
            ", but idx fills two, the images (f32) and then one class id per "
            "example (i64); declare two inputs, such as image: "
            "f32[batch, 1, 28, 28] and label: i64[batch]";
    return false;
  }
  const Arguments &args = request.args;
  for (int i = 0; i < 2; ++i)
    if (args.string(kPathArguments[i]).empty()) {
      error = std::string("idx: the argument '") + kPathArguments[i] +
              "' is empty; give the path of an IDX file";
      return false;
    }
  const std::string &testImages = args.string("test_images");
  const std::string &testLabels = args.string("test_labels");
  if (testImages.empty() != testLabels.empty()) {
    bool images = !testImages.empty();
    error = std::string("idx: ") + (images ? "test_images" : "test_labels") +
            " is \"" + (images ? testImages : testLabels) + "\" but " +
            (images ? "test_labels" : "test_images") +
            " is empty; give both test files for a test split, or neither";
    return false;
  }
  return true;
}

} // namespace

bool data::openIdx(const SourceRequest &request, OpenedSource &opened,
                   std::string &error) {
  // Out here for the message when memory runs out; allocates nothing.
  Opening opening(request);
  try {
    opening.scale = request.args.real("scale");
    if (!checkRequest(request, opening.scale, error))
      return false;
    OpenedSource &result = opening.result;
    result.description = "idx";
    bool hasTest = !request.args.string("test_images").empty();
    for (int split = 0; split < (hasTest ? 2 : 1); ++split)
      if (!openSplit(opening, split, error))
        return false;
    if (!hasTest)
      result.test = noExamples();
    if (opening.gzipBytes > kLargeGzip)
      result.notes.push_back(
          "idx: the gzip files take " +
          std::to_string(opening.gzipBytes >> 20) +
          " MiB of memory decompressed, as gzip cannot be read at random; "
          "gunzip them so that the trainer reads them in place");
    opened = std::move(result);
    return true;
  } catch (const std::bad_alloc &) {
    error = "idx: out of memory while reading " +
            (opening.reading ? *opening.reading : std::string("the source")) +
            " (a gzip file is held in memory decompressed, as gzip cannot be "
            "read at random); gunzip it so that the trainer reads it in place";
    return false;
  }
}
