//===- TextSource.cpp - text(...): byte- or character-level corpora -------===//
//
// A corpus of any size is windowed in place: the file stays on disk, held
// open, and each example preads its T + 1 tokens, so that any number of
// threads read at once and a corpus larger than memory trains.
//
// With vocab: "bytes" a window starts at byte k * T of its part, so nothing
// is kept per example. With vocab: "chars" code points have 1 to 4 bytes, so
// the pass at open records the byte offset of each window's first code point
// (8 bytes per example, the only memory that grows with the corpus).
//
// The pass reads the file once in chunks: it validates the UTF-8, builds the
// vocabulary and counts the tokens. The size of a test_fraction split is only
// known at the end, so a second pass reads the test part again (the tail of
// the file) to find its windows and take its counts out of the training
// part's, whose unigram entropy is the loss that a language model must beat.
//
//===----------------------------------------------------------------------===//

#include "data/Files.h"
#include "data/Source.h"
#include "data/Text.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <unordered_map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;

namespace {

constexpr size_t kChunkBytes = size_t(1) << 20;
/// The longest UTF-8 sequence.
constexpr size_t kMaxCharBytes = 4;

constexpr const char *kUtf8Hint =
    "use vocab: \"bytes\", or convert the file to UTF-8 (iconv -f LATIN1 -t "
    "UTF-8 FILE > FILE.utf8, with the file's real encoding for LATIN1)";
constexpr const char *kChangedHint =
    "the file changed since the trainer opened it: do not change a corpus "
    "while a trainer reads it, and restart the trainer";

/// "path: byte N: what; hint", the shape of every error about a file's bytes.
bool failAt(std::string &error, const std::string &path, uint64_t offset,
            const std::string &what, const std::string &hint) {
  error = path + ": byte " + std::to_string(offset) + ": " + what + "; " + hint;
  return false;
}

std::string hexByte(uint8_t byte) {
  std::array<char, 5> text;
  std::snprintf(text.data(), text.size(), "0x%02x", byte);
  return text.data();
}

void appendUtf8(std::string &out, char32_t point) {
  if (point < 0x80) {
    out += static_cast<char>(point);
  } else if (point < 0x800) {
    out += static_cast<char>(0xC0 | point >> 6);
    out += static_cast<char>(0x80 | (point & 0x3F));
  } else if (point < 0x10000) {
    out += static_cast<char>(0xE0 | point >> 12);
    out += static_cast<char>(0x80 | (point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | point >> 18);
    out += static_cast<char>(0x80 | (point >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (point >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (point & 0x3F));
  }
}

/// "U+00E9 'é'": a code point as a message shows it, its glyph only when it
/// is printable.
std::string describeChar(char32_t point) {
  std::array<char, 12> code;
  std::snprintf(code.data(), code.size(), "U+%04X", unsigned(point));
  std::string text = code.data();
  if (point >= 0x20 && point != 0x7F && !(point >= 0x80 && point < 0xA0)) {
    text += " '";
    appendUtf8(text, point);
    text += "'";
  }
  return text;
}

enum class Decoded { Char, Invalid, Incomplete };

/// Decodes the code point at the start of `bytes` (size >= 1) as Python's
/// strict decoder does: no overlong forms, no surrogates, nothing above
/// U+10FFFF. `length` is the sequence's length for a Char, and for an
/// Invalid the bytes up to the first one that cannot be part of it.
Decoded decodeUtf8(const uint8_t *bytes, size_t size, char32_t &point,
                   size_t &length) {
  uint8_t lead = bytes[0];
  if (lead < 0x80) {
    point = lead;
    length = 1;
    return Decoded::Char;
  }
  // The length of the sequence and the range of its second byte, from table
  // 3-7 of the Unicode standard.
  uint8_t low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    point = lead & 0x07;
  } else {
    length = 1;
    return Decoded::Invalid;
  }
  if (lead == 0xE0)
    low = 0xA0;
  else if (lead == 0xED)
    high = 0x9F;
  else if (lead == 0xF0)
    low = 0x90;
  else if (lead == 0xF4)
    high = 0x8F;
  for (size_t k = 1; k < length; ++k) {
    if (k == size)
      return Decoded::Incomplete;
    uint8_t next = bytes[k];
    if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) {
      length = k + 1;
      return Decoded::Invalid;
    }
    point = point << 6 | (next & 0x3F);
  }
  return Decoded::Char;
}

std::string hexBytes(const uint8_t *bytes, size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i)
    text += (i ? " " : "") + hexByte(bytes[i]);
  return text;
}

/// Reads up to `size` bytes at `offset`, fewer only at the end of the file.
bool readCorpus(int fd, uint64_t offset, uint8_t *buffer, size_t size,
                size_t &got, std::string &reason) {
  if (readAt(fd, offset, buffer, size, got))
    return true;
  reason = std::string("cannot read it (") + std::strerror(errno) + ")";
  return false;
}

/// A corpus file, held open for the examples' preads.
struct TextFile {
  /// As resolved from the recipe's path: what messages name.
  std::string path;
  int fd = -1;
  /// Its length when it was read at open.
  uint64_t size = 0;

  TextFile() = default;
  TextFile(const TextFile &) = delete;
  TextFile &operator=(const TextFile &) = delete;
  ~TextFile() {
    if (fd >= 0)
      ::close(fd);
  }
};

bool openFile(const std::string &path, TextFile &file, std::string &error) {
  file.path = path;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    error = path + ": cannot open it (" + std::strerror(errno) +
            "); check the path (a relative path is read from the trainer's "
            "--data directory, or the current directory)";
    return false;
  }
  struct stat status;
  if (::fstat(file.fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    error = path + ": it is not a regular file; give the path of a text file";
    return false;
  }
  return true;
}

/// The token ids: every byte, or the sorted code points of the training text.
struct Vocabulary {
  bool chars = false;
  std::vector<char32_t> points;
  /// The ids of ASCII code points, -1 for those not in the vocabulary: most
  /// text is ASCII, which then needs no search.
  std::array<int64_t, 128> asciiIds{};

  int64_t size() const {
    return chars ? static_cast<int64_t>(points.size()) : 256;
  }

  /// The id of a token of the text, -1 when it is not in the vocabulary.
  int64_t idOf(char32_t token) const {
    if (!chars)
      return token;
    if (token < 128)
      return asciiIds[token];
    auto it = std::lower_bound(points.begin(), points.end(), token);
    return it != points.end() && *it == token ? it - points.begin() : -1;
  }
};

/// How often each token occurs.
struct Histogram {
  std::array<int64_t, 256> low{};
  std::unordered_map<char32_t, int64_t> high;

  int64_t &operator[](char32_t token) {
    return token < low.size() ? low[token] : high[token];
  }

  /// The tokens that occur, sorted.
  std::vector<char32_t> tokens() const {
    std::vector<char32_t> found;
    for (size_t token = 0; token < low.size(); ++token)
      if (low[token])
        found.push_back(static_cast<char32_t>(token));
    for (const auto &[token, count] : high)
      if (count)
        found.push_back(token);
    std::sort(found.begin(), found.end());
    return found;
  }

  /// -sum p log p over `total` tokens, in nats.
  double entropy(int64_t total) const {
    double sum = 0;
    auto add = [&](int64_t count) {
      if (count == 0)
        return;
      double p = static_cast<double>(count) / static_cast<double>(total);
      sum -= p * std::log(p);
    };
    for (int64_t count : low)
      add(count);
    for (const auto &entry : high)
      add(entry.second);
    return sum;
  }
};

/// Reads `file` from byte `from` to its end in chunks and calls
/// visit(token, offset) for each token: a byte, or with `chars` the code
/// point of a valid UTF-8 sequence. A visit that returns false stops the
/// scan with its error. Sets file.size to the bytes up to the end.
template <typename Visit>
bool scan(TextFile &file, bool chars, uint64_t from, Visit visit,
          std::string &error) {
  // The bytes of a sequence cut by the end of a chunk stay for the next.
  std::vector<uint8_t> buffer(kChunkBytes + kMaxCharBytes);
  uint64_t base = from;
  size_t filled = 0;
  for (;;) {
    size_t got;
    std::string reason;
    if (!readCorpus(file.fd, base + filled, buffer.data() + filled, kChunkBytes,
                got, reason))
      return failAt(error, file.path, base + filled, reason,
                    "check that the file is readable");
    bool atEnd = got < kChunkBytes;
    filled += got;
    size_t pos = 0;
    while (pos < filled) {
      const uint8_t *bytes = buffer.data() + pos;
      if (!chars || bytes[0] < 0x80) {
        if (!visit(char32_t(bytes[0]), base + pos))
          return false;
        ++pos;
        continue;
      }
      char32_t point;
      size_t length;
      Decoded decoded = decodeUtf8(bytes, filled - pos, point, length);
      if (decoded == Decoded::Incomplete && !atEnd)
        break;
      if (decoded == Decoded::Incomplete)
        return failAt(error, file.path, base + pos,
                      "the file ends inside a UTF-8 sequence (" +
                          hexBytes(bytes, filled - pos) + ")",
                      kUtf8Hint);
      if (decoded == Decoded::Invalid)
        return failAt(error, file.path, base + pos,
                      "not valid UTF-8 (" + hexBytes(bytes, length) +
                          (length == 1 ? " cannot start a character)"
                                       : " is not a character)"),
                      kUtf8Hint);
      if (!visit(point, base + pos))
        return false;
      pos += length;
    }
    if (atEnd) {
      file.size = base + filled;
      return true;
    }
    std::memmove(buffer.data(), buffer.data() + pos, filled - pos);
    base += pos;
    filled -= pos;
  }
}

/// The examples of one part of a corpus: windows of `length` + 1 tokens that
/// start `length` tokens apart.
class TextWindows : public Examples {
public:
  TextWindows(std::shared_ptr<const TextFile> file,
              std::shared_ptr<const Vocabulary> vocabulary, const char *split,
              int64_t length, int64_t count, uint64_t begin,
              std::vector<uint64_t> starts)
      : file(std::move(file)), vocabulary(std::move(vocabulary)), split(split),
        length(length), count(count), begin(begin), starts(std::move(starts)) {}

  int64_t size() const override { return count; }

  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    assert(index >= 0 && index < count && "an example of the split");
    bool chars = vocabulary->chars;
    uint64_t window = static_cast<uint64_t>(length) + 1;
    uint64_t offset = chars ? starts[index] : begin + index * length;
    // The next window starts with this one's last code point.
    uint64_t bytes =
        chars ? std::min(starts[index + 1] + kMaxCharBytes, file->size) - offset
              : window;
    std::vector<uint8_t> buffer(bytes);
    size_t got;
    std::string reason;
    if (!readCorpus(file->fd, offset, buffer.data(), bytes, got, reason))
      return fail(error, index, offset, reason,
                  "check that the file is readable");
    auto *tokens = static_cast<int64_t *>(rows[0]);
    auto *targets = static_cast<int64_t *>(rows[1]);
    size_t pos = 0;
    for (uint64_t t = 0; t < window; ++t) {
      if (pos == got)
        return fail(error, index, offset + pos, "the file ends here",
                    kChangedHint);
      char32_t point = buffer[pos];
      size_t size = 1;
      if (chars && decodeUtf8(buffer.data() + pos, got - pos, point, size) !=
                       Decoded::Char)
        return fail(error, index, offset + pos, "not valid UTF-8",
                    kChangedHint);
      int64_t id = vocabulary->idOf(point);
      if (id < 0)
        return fail(error, index, offset + pos,
                    describeChar(point) + " is not in the vocabulary",
                    kChangedHint);
      if (t < window - 1)
        tokens[t] = id;
      if (t > 0)
        targets[t - 1] = id;
      pos += size;
    }
    return true;
  }

private:
  bool fail(std::string &error, int64_t index, uint64_t offset,
            const std::string &what, const char *hint) const {
    return failAt(error, file->path, offset,
                  what + " (reading " + split + " example " +
                      std::to_string(index) + ")",
                  hint);
  }

  std::shared_ptr<const TextFile> file;
  std::shared_ptr<const Vocabulary> vocabulary;
  /// "training" or "test", for messages.
  const char *split;
  int64_t length, count;
  /// vocab: "bytes": the offset of the part's first byte.
  uint64_t begin;
  /// vocab: "chars": the offset of each window's first code point, and of
  /// the code point after the last window.
  std::vector<uint64_t> starts;
};

/// The windows of a part of `tokens` tokens.
int64_t windowsOf(int64_t tokens, int64_t length) {
  return tokens > 0 ? (tokens - 1) / length : 0;
}

/// A part of a corpus as it is found: its windows' starts (chars) and
/// tokens.
struct Part {
  int64_t tokens = 0;
  std::vector<uint64_t> starts;
};

/// Checks that the model's inputs are tokens and targets, i64[length].
bool checkFields(const std::vector<Field> &fields, int64_t length,
                 std::string &error) {
  std::string shape = "i64[" + std::to_string(length) + "]";
  std::string rule = "text(...) fills two inputs: the tokens " + shape +
                     ", then their next tokens (the targets) " + shape;
  if (fields.size() != 2) {
    error = rule + ", but the model has " + std::to_string(fields.size()) +
            (fields.size() == 1 ? " input" : " inputs") +
            "; declare the two inputs";
    return false;
  }
  const char *roles[] = {"tokens", "targets"};
  for (size_t f = 0; f < 2; ++f) {
    const Field &field = fields[f];
    if (field.dtype == io::DType::I64 && field.shape.size() == 1 &&
        field.shape[0] == length)
      continue;
    // The language writes element types in lower case: "f32".
    std::string found = io::dtypeName(field.dtype);
    for (char &c : found)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    found += "[";
    for (size_t d = 0; d < field.shape.size(); ++d)
      found += (d ? ", " : "") + std::to_string(field.shape[d]);
    error = rule + ", but input '" + field.name + "' (the " + roles[f] +
            ") is " + found + "]; declare it " + shape +
            " (length: " + std::to_string(length) + ")";
    return false;
  }
  return true;
}

/// Checks that the inputs that bound their ids take every id.
bool checkRanges(const std::vector<Field> &fields, const Vocabulary &vocabulary,
                 const std::string &path, std::string &error) {
  int64_t size = vocabulary.size();
  std::string count = std::to_string(size) +
                      (vocabulary.chars ? " characters" : " byte values");
  std::string hints[] = {
      "make its embedding as large as the vocabulary (embedding num: " +
          std::to_string(size) + ")",
      "give the logits of its loss one class per token (" +
          std::to_string(size) + ")"};
  for (size_t f = 0; f < 2; ++f) {
    const Field &field = fields[f];
    if (field.range == 0 || field.range >= size)
      continue;
    error = path + ": the vocabulary has " + count +
            ", but the model's input '" + field.name + "' takes ids below " +
            std::to_string(field.range) + "; " + hints[f];
    return false;
  }
  return true;
}

std::string formatReal(const char *format, double value) {
  std::array<char, 32> text;
  std::snprintf(text.data(), text.size(), format, value);
  return text.data();
}

/// The vocabulary as a JSON list of UTF-8 strings, so that ids can be turned
/// back into text.
std::string vocabularyJson(const std::vector<char32_t> &points) {
  std::string json = "[";
  for (size_t i = 0; i < points.size(); ++i) {
    std::string text;
    appendUtf8(text, points[i]);
    json += (i ? "," : "") + jsonString(text);
  }
  return json + "]";
}

/// "from 10 tokens", and why they make no window when they do not.
std::string describePart(int64_t tokens, int64_t length) {
  std::string text = "from " + std::to_string(tokens) + " tokens";
  if (tokens > 0 && tokens <= length)
    text += ", fewer than the " + std::to_string(length + 1) +
            " that a window needs";
  return text;
}

bool open(const SourceRequest &request, OpenedSource &opened,
          std::string &error) {
  const Arguments &args = request.args;
  const std::string &trainName = args.string("train");
  const std::string &testName = args.string("test");
  double testFraction = args.real("test_fraction");
  int64_t length = args.integer("length");
  const std::string &vocab = args.string("vocab");
  if (vocab != "bytes" && vocab != "chars") {
    error = "text(...): vocab is \"" + vocab +
            "\"; use \"bytes\" (one token per byte) or \"chars\" (one per "
            "UTF-8 character)";
    return false;
  }
  if (length < 1) {
    error = "text(...): length is " + std::to_string(length) +
            "; give the number of tokens of an example, at least 1";
    return false;
  }
  if (!(testFraction >= 0 && testFraction < 1)) {
    error = "text(...): test_fraction is " + formatReal("%g", testFraction) +
            "; give the share of the text kept for testing, in [0, 1)";
    return false;
  }
  if (!checkFields(request.fields, length, error))
    return false;

  auto vocabulary = std::make_shared<Vocabulary>();
  vocabulary->chars = vocab == "chars";
  bool chars = vocabulary->chars;
  auto trainFile = std::make_shared<TextFile>();
  if (!openFile(request.resolve(trainName), *trainFile, error))
    return false;

  // The first pass: every token of the training file, the start of every
  // window, and the counts of the tokens.
  Histogram counts;
  Part whole;
  auto countToken = [&](char32_t token, uint64_t offset) {
    if (chars && whole.tokens % length == 0)
      whole.starts.push_back(offset);
    ++counts[token];
    ++whole.tokens;
    return true;
  };
  if (!scan(*trainFile, chars, 0, countToken, error))
    return false;
  if (chars) {
    vocabulary->points = counts.tokens();
    vocabulary->asciiIds.fill(-1);
    for (size_t id = 0; id < vocabulary->points.size(); ++id)
      if (vocabulary->points[id] < 128)
        vocabulary->asciiIds[vocabulary->points[id]] = id;
  }
  if (!checkRanges(request.fields, *vocabulary, trainFile->path, error))
    return false;

  bool split = testName.empty();
  int64_t testTokens =
      split ? static_cast<int64_t>(
                  std::floor(testFraction * static_cast<double>(whole.tokens)))
            : 0;
  int64_t trainTokens = whole.tokens - testTokens;
  if (trainTokens < length + 1) {
    error = trainFile->path + ": the training text has " +
            std::to_string(trainTokens) + " tokens";
    if (testTokens > 0)
      error += " (the file's " + std::to_string(whole.tokens) +
               " tokens less the last " + std::to_string(testTokens) +
               " of test_fraction " + formatReal("%g", testFraction) + ")";
    error += ", but length " + std::to_string(length) + " needs " +
             std::to_string(length + 1) +
             " (a window and the token after it); use a longer text or a "
             "smaller length";
    return false;
  }
  int64_t trainWindows = windowsOf(trainTokens, length);

  // The test part: the tail of the training file, or a file of its own whose
  // characters must all be in the training text's vocabulary.
  Part test;
  std::shared_ptr<TextFile> testFile = trainFile;
  uint64_t testBegin = 0;
  if (split && testTokens > 0) {
    // Scans the tail from the start of the window it begins in, skipping
    // the training tokens before it.
    int64_t skip = chars ? trainTokens % length : 0;
    uint64_t from = chars ? whole.starts[trainTokens / length] : trainTokens;
    testBegin = from;
    int64_t seen = 0;
    auto takeTestToken = [&](char32_t token, uint64_t offset) {
      if (seen++ < skip)
        return true;
      if (chars && test.tokens % length == 0)
        test.starts.push_back(offset);
      --counts[token];
      ++test.tokens;
      return true;
    };
    if (!scan(*trainFile, chars, from, takeTestToken, error))
      return false;
  } else if (!split) {
    testFile = std::make_shared<TextFile>();
    if (!openFile(request.resolve(testName), *testFile, error))
      return false;
    auto takeTestToken = [&](char32_t token, uint64_t offset) {
      if (vocabulary->idOf(token) < 0)
        return failAt(error, testFile->path, offset,
                      describeChar(token) +
                          " is not in the vocabulary of the training text " +
                          trainFile->path + " (" +
                          std::to_string(vocabulary->size()) + " characters)",
                      "add text with it to the training file, remove it "
                      "from the test file, or use vocab: \"bytes\"");
      if (chars && test.tokens % length == 0)
        test.starts.push_back(offset);
      ++test.tokens;
      return true;
    };
    if (!scan(*testFile, chars, 0, takeTestToken, error))
      return false;
  }
  int64_t testWindows = windowsOf(test.tokens, length);

  // A window's bytes end with the first code point of the next window.
  if (chars) {
    whole.starts.resize(trainWindows + 1);
    test.starts.resize(testWindows ? testWindows + 1 : 0);
  }
  opened.train =
      std::make_unique<TextWindows>(trainFile, vocabulary, "training", length,
                                    trainWindows, 0, std::move(whole.starts));
  opened.test = std::make_unique<TextWindows>(testFile, vocabulary, "test",
                                              length, testWindows, testBegin,
                                              std::move(test.starts));

  const char *unit = chars ? " chars" : " bytes";
  opened.description = "text " + trainName + " (" +
                       std::to_string(whole.tokens) + unit + ", " +
                       std::to_string(trainWindows) + " windows of " +
                       std::to_string(length) + ")";
  if (!split)
    opened.description += " and " + testName + " (" +
                          std::to_string(test.tokens) + unit + ", " +
                          std::to_string(testWindows) + " windows)";
  std::string entropy = "unigram entropy of the training text " +
                        formatReal("%.3f", counts.entropy(trainTokens)) +
                        " nats/token";
  if (chars)
    opened.notes.push_back("vocabulary: " + std::to_string(vocabulary->size()) +
                           " characters; " + entropy);
  else
    opened.notes.push_back("vocabulary: 256 byte values (" +
                           std::to_string(counts.tokens().size()) +
                           " occur in the training text); " + entropy);
  opened.notes.push_back(
      "examples: windows of " + std::to_string(length) + " tokens, " +
      std::to_string(trainWindows) + " for training (" +
      describePart(trainTokens, length) + "), " + std::to_string(testWindows) +
      " for test (" + describePart(test.tokens, length) +
      (split ? ", the end of " + trainName : ", " + testName) + ")");
  opened.metadata["data.vocab"] = vocab;
  opened.metadata["data.vocabulary"] =
      chars ? vocabularyJson(vocabulary->points) : "bytes";
  return true;
}

} // namespace

namespace kiln::data {
/// Registered as "text" in Sources.cpp.
bool openText(const SourceRequest &request, OpenedSource &opened,
              std::string &error);
} // namespace kiln::data

bool data::openText(const SourceRequest &request, OpenedSource &opened,
                    std::string &error) {
  try {
    return open(request, opened, error);
  } catch (const std::bad_alloc &) {
    error = request.resolve(request.args.string("train")) +
            ": out of memory while opening the text (vocab: \"chars\" keeps "
            "8 bytes per example); use a larger length or vocab: \"bytes\"";
    return false;
  }
}
