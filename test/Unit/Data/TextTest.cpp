//===- TextTest.cpp - text(...): byte- or character-level corpora ---------===//
//
// Corpora written here: the exact ids of each window and its targets, the
// splits, UTF-8 of every length (across the reader's chunks too), the
// vocabulary and its metadata, the entropy note, reads from two threads, and
// each error message with the file, the offset and the advice it must give.
//
//===----------------------------------------------------------------------===//

#include "data/Source.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/resource.h>

using namespace kiln;
using namespace kiln::data;
namespace fs = std::filesystem;

namespace kiln::data {
bool openText(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

namespace {

constexpr size_t kMiB = size_t(1) << 20;

struct Window {
  std::vector<int64_t> tokens, targets;
};

/// Example `index` of `examples`, whose windows have `length` tokens.
Window readWindow(const Examples &examples, int64_t index, int64_t length) {
  Window window{std::vector<int64_t>(length, -1),
                std::vector<int64_t>(length, -1)};
  void *rows[] = {window.tokens.data(), window.targets.data()};
  std::string error;
  EXPECT_TRUE(examples.read(index, rows, error)) << error;
  return window;
}

/// Expects the windows of a part whose token ids are `ids`: window k holds
/// ids[kT, kT + T) and its targets ids[kT + 1, kT + T + 1).
void expectWindows(const Examples &examples, const std::vector<int64_t> &ids,
                   int64_t length) {
  ASSERT_EQ(examples.size(),
            ids.empty() ? 0 : (int64_t(ids.size()) - 1) / length);
  for (int64_t k = 0; k < examples.size(); ++k) {
    Window window = readWindow(examples, k, length);
    auto begin = ids.begin() + k * length;
    EXPECT_EQ(window.tokens, std::vector<int64_t>(begin, begin + length))
        << "window " << k;
    EXPECT_EQ(window.targets,
              std::vector<int64_t>(begin + 1, begin + length + 1))
        << "window " << k;
  }
}

/// Opens `request` with 48 MiB more address space than the process has now,
/// prints the error and exits with 0 when the open fails, 1 when it does not.
[[noreturn]] void openWithLittleMemory(const SourceRequest &request) {
  long pages = 0;
  std::FILE *statm = std::fopen("/proc/self/statm", "r");
  if (!statm || std::fscanf(statm, "%ld", &pages) != 1)
    std::_Exit(2);
  std::fclose(statm);
  rlimit limit;
  limit.rlim_cur = limit.rlim_max =
      static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + 48 * kMiB;
  if (::setrlimit(RLIMIT_AS, &limit) != 0)
    std::_Exit(3);
  OpenedSource opened;
  std::string error;
  bool ok = openText(request, opened, error);
  std::fprintf(stderr, "%s\n", error.c_str());
  std::_Exit(ok ? 1 : 0);
}

class TextTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "text-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  void write(const std::string &name, const std::string &bytes) {
    std::ofstream(pathOf(name), std::ios::binary) << bytes;
  }

  /// A request for corpus.txt with the inputs tokens and targets
  /// i64[length], read from the test's directory.
  SourceRequest request(const std::string &vocab, int64_t length,
                        double testFraction = 0,
                        const std::string &test = "") const {
    SourceRequest request;
    request.args = Arguments({{"train", std::string("corpus.txt")},
                              {"test", test},
                              {"test_fraction", testFraction},
                              {"length", length},
                              {"vocab", vocab}});
    request.fields = {{"tokens", io::DType::I64, {length}, 0},
                      {"targets", io::DType::I64, {length}, 0}};
    request.dataDir = dir.string();
    return request;
  }

  OpenedSource open(const SourceRequest &request) {
    OpenedSource opened;
    std::string error;
    EXPECT_TRUE(openText(request, opened, error)) << error;
    return opened;
  }

  std::string failure(const SourceRequest &request) {
    OpenedSource opened;
    std::string error;
    EXPECT_FALSE(openText(request, opened, error));
    return error;
  }

  /// The message of reading example `index`, which must fail.
  static std::string readFailure(const Examples &examples, int64_t index,
                                 int64_t length) {
    std::vector<int64_t> tokens(length), targets(length);
    void *rows[] = {tokens.data(), targets.data()};
    std::string error;
    EXPECT_FALSE(examples.read(index, rows, error));
    return error;
  }

  fs::path dir;
};

TEST_F(TextTest, BytesWindowsAreTheBytesShiftedByOne) {
  std::string text("hi\0\xfftheir!", 10);
  write("corpus.txt", text);
  OpenedSource opened = open(request("bytes", 3));
  ASSERT_TRUE(opened.train);
  // Bytes are unsigned: 0xff is id 255.
  Window first = readWindow(*opened.train, 0, 3);
  EXPECT_EQ(first.tokens, (std::vector<int64_t>{'h', 'i', 0}));
  EXPECT_EQ(first.targets, (std::vector<int64_t>{'i', 0, 255}));
  std::vector<int64_t> ids;
  for (char c : text)
    ids.push_back(static_cast<uint8_t>(c));
  expectWindows(*opened.train, ids, 3);
  EXPECT_EQ(opened.test->size(), 0);
  EXPECT_EQ(opened.description, "text corpus.txt (10 bytes, 3 windows of 3)");
  EXPECT_EQ(opened.metadata.at("data.vocab"), "bytes");
  EXPECT_EQ(opened.metadata.at("data.vocabulary"), "bytes");
}

TEST_F(TextTest, TheLastPartialWindowIsDropped) {
  // 7 tokens make 2 windows of 3 and the token after the last; 6 make 1.
  write("corpus.txt", "abcdefg");
  OpenedSource seven = open(request("bytes", 3));
  expectWindows(*seven.train, {'a', 'b', 'c', 'd', 'e', 'f', 'g'}, 3);
  EXPECT_EQ(seven.train->size(), 2);
  write("corpus.txt", "abcdef");
  EXPECT_EQ(open(request("bytes", 3)).train->size(), 1);
}

TEST_F(TextTest, CharsWindowsDecodeEveryLength) {
  // 1-, 2-, 3- and 4-byte code points; ids in code point order: a b é € 😀.
  write("corpus.txt", u8"a\u00e9\u20ac\U0001F600b\u00e9a\U0001F600\u20acb");
  OpenedSource opened = open(request("chars", 3));
  Window last = readWindow(*opened.train, 2, 3);
  EXPECT_EQ(last.tokens, (std::vector<int64_t>{0, 4, 3}));
  EXPECT_EQ(last.targets, (std::vector<int64_t>{4, 3, 1}));
  expectWindows(*opened.train, {0, 2, 3, 4, 1, 2, 0, 4, 3, 1}, 3);
  EXPECT_EQ(opened.description, "text corpus.txt (10 chars, 3 windows of 3)");
  EXPECT_EQ(opened.metadata.at("data.vocab"), "chars");
  EXPECT_EQ(opened.metadata.at("data.vocabulary"),
            u8"[\"a\",\"b\",\"\u00e9\",\"\u20ac\",\"\U0001F600\"]");
  ASSERT_EQ(opened.notes.size(), 2u);
  EXPECT_EQ(opened.notes[0].rfind("vocabulary: 5 characters; ", 0), 0u)
      << opened.notes[0];
}

TEST_F(TextTest, TheVocabularyIsValidJsonOfEveryCharacter) {
  write("corpus.txt", u8"a\"\\\n\t\x01/\r\b\f\u00e9\u00e9aa");
  OpenedSource opened = open(request("chars", 1));
  const std::string &json = opened.metadata.at("data.vocabulary");
  EXPECT_EQ(json, u8"[\"\\u0001\",\"\\b\",\"\\t\",\"\\n\",\"\\f\",\"\\r\","
                  u8"\"\\\"\",\"/\",\"\\\\\",\"a\",\"\u00e9\"]");
  std::vector<std::string> parsed =
      nlohmann::json::parse(json).get<std::vector<std::string>>();
  EXPECT_EQ(parsed,
            (std::vector<std::string>{"\x01", "\b", "\t", "\n", "\f", "\r",
                                      "\"", "/", "\\", "a", u8"\u00e9"}));
}

TEST_F(TextTest, TestFractionKeepsTheEndOfTheFile) {
  // floor(0.3 * 10) = 3 test tokens: the training part is "abcdefg".
  write("corpus.txt", "abcdefghij");
  OpenedSource opened = open(request("bytes", 2, 0.3));
  expectWindows(*opened.train, {'a', 'b', 'c', 'd', 'e', 'f', 'g'}, 2);
  expectWindows(*opened.test, {'h', 'i', 'j'}, 2);
  EXPECT_EQ(opened.notes[1],
            "examples: windows of 2 tokens, 3 for training (from 7 tokens), 1 "
            "for test (from 3 tokens, the end of corpus.txt)");

  // floor(0.25 * 10) = 2 test tokens: too few for a window of 2.
  OpenedSource quarter = open(request("bytes", 2, 0.25));
  EXPECT_EQ(quarter.train->size(), 3);
  EXPECT_EQ(quarter.test->size(), 0);
  EXPECT_NE(quarter.notes[1].find("0 for test (from 2 tokens, fewer than the "
                                  "3 that a window needs"),
            std::string::npos)
      << quarter.notes[1];
}

TEST_F(TextTest, TestFractionSplitsCharsInsideAWindow) {
  // Ids: a b c d β € 😀. The training part is the first 7 code points, so
  // the test part starts inside the training file's fourth window of 2, at
  // the second 😀 (byte 16).
  write("corpus.txt", u8"a\u03b2\u20ac\U0001F600b\u03b2\u20ac\U0001F600cd");
  OpenedSource opened = open(request("chars", 2, 0.3));
  expectWindows(*opened.train, {0, 4, 5, 6, 1, 4, 5}, 2);
  expectWindows(*opened.test, {6, 2, 3}, 2);
  // The vocabulary is the whole file's: c and d only occur in the test part.
  EXPECT_EQ(opened.notes[0].rfind("vocabulary: 7 characters; ", 0), 0u);
}

TEST_F(TextTest, ASeparateTestFileUsesTheTrainingVocabulary) {
  write("corpus.txt", "abcabc");
  write("test.txt", "cabca");
  OpenedSource opened = open(request("chars", 2, 0.5, "test.txt"));
  // test_fraction is only for splitting the training file.
  expectWindows(*opened.train, {0, 1, 2, 0, 1, 2}, 2);
  expectWindows(*opened.test, {2, 0, 1, 2, 0}, 2);
  EXPECT_EQ(opened.description,
            "text corpus.txt (6 chars, 2 windows of 2) and test.txt (5 chars, "
            "2 windows)");

  write("test.txt", "xyz\x80");
  OpenedSource bytes = open(request("bytes", 3, 0, "test.txt"));
  expectWindows(*bytes.test, {'x', 'y', 'z', 0x80}, 3);
}

TEST_F(TextTest, TheEntropyNoteIsOfTheTrainingText) {
  // -(4/7 ln 4/7 + 2/7 ln 2/7 + 1/7 ln 1/7) = 0.9557 nats.
  write("corpus.txt", "aaaabbc");
  OpenedSource chars = open(request("chars", 1));
  EXPECT_EQ(chars.notes[0], "vocabulary: 3 characters; unigram entropy of "
                            "the training text 0.956 nats/token");
  OpenedSource bytes = open(request("bytes", 1));
  EXPECT_EQ(bytes.notes[0], "vocabulary: 256 byte values (3 occur in the "
                            "training text); unigram entropy of the training "
                            "text 0.956 nats/token");
  EXPECT_EQ(bytes.notes[1], "examples: windows of 1 tokens, 6 for training "
                            "(from 7 tokens), 0 for test (from 0 tokens, the "
                            "end of corpus.txt)");

  // Half of "aabbaaac" is test text: the training text "aabb" has ln 2
  // nats (the whole file's counts over its 4 tokens would give 0.415).
  write("corpus.txt", "aabbaaac");
  EXPECT_EQ(open(request("chars", 1, 0.5)).notes[0],
            "vocabulary: 3 characters; unigram entropy of the training text "
            "0.693 nats/token");
  EXPECT_EQ(open(request("bytes", 1, 0.5)).notes[0],
            "vocabulary: 256 byte values (2 occur in the training text); "
            "unigram entropy of the training text 0.693 nats/token");
}

TEST_F(TextTest, CodePointsAcrossTheReadersChunks) {
  // The reader takes 1 MiB at a time: the 😀 at byte 2^20 - 2 is cut by the
  // end of the first chunk.
  std::string text(kMiB - 2, 'a');
  text += u8"\U0001F600";
  text += std::string(10, 'b');
  write("corpus.txt", text);
  OpenedSource opened = open(request("chars", 7, 0.001));
  // Code point kMiB - 2 is the 😀 (id 2), the next ones b's (id 1).
  int64_t emoji = kMiB - 2, window = emoji / 7;
  Window around = readWindow(*opened.train, window, 7);
  for (int64_t t = 0; t < 7; ++t)
    EXPECT_EQ(around.tokens[t], window * 7 + t < emoji    ? 0
                                : window * 7 + t == emoji ? 2
                                                          : 1);
  // floor(0.001 * (kMiB + 9)) test tokens, all in the second chunk.
  int64_t tokens = kMiB + 9, testTokens = tokens / 1000;
  EXPECT_EQ(opened.train->size(), (tokens - testTokens - 1) / 7);
  EXPECT_EQ(opened.test->size(), (testTokens - 1) / 7);
  std::vector<int64_t> testIds(testTokens, 0);
  std::fill(testIds.end() - 10, testIds.end(), 1);
  testIds[testTokens - 11] = 2;
  expectWindows(*opened.test, testIds, 7);

  write("corpus.txt", text + "\xff");
  EXPECT_EQ(failure(request("chars", 7))
                .rfind(pathOf("corpus.txt") + ": byte " +
                           std::to_string(kMiB + 12) +
                           ": not valid UTF-8 (0xff cannot start a character)",
                       0),
            0u);
}

TEST_F(TextTest, InvalidUtf8IsAnErrorAtItsOffset) {
  struct Case {
    std::string text;
    uint64_t offset;
    std::string what;
  };
  const Case cases[] = {
      {"abc\xff"
       "def",
       3, "not valid UTF-8 (0xff cannot start a character)"},
      {"ab\xe2\x28\xa1", 2, "not valid UTF-8 (0xe2 0x28 is not a character)"},
      // An overlong '/', a surrogate, a code point above U+10FFFF and an
      // overlong 3-byte form.
      {"a\xc0\xaf", 1, "not valid UTF-8 (0xc0 cannot start a character)"},
      {"a\xed\xa0\x80", 1, "not valid UTF-8 (0xed 0xa0 is not a character)"},
      {"\xf4\x90\x80\x80", 0, "not valid UTF-8 (0xf4 0x90 is not a character)"},
      {"x\xe0\x80\x80", 1, "not valid UTF-8 (0xe0 0x80 is not a character)"},
      {"abc\xe2\x82", 3, "the file ends inside a UTF-8 sequence (0xe2 0x82)"},
  };
  for (const Case &c : cases) {
    write("corpus.txt", c.text);
    std::string error = failure(request("chars", 1));
    EXPECT_EQ(error.rfind(pathOf("corpus.txt") + ": byte " +
                              std::to_string(c.offset) + ": " + c.what + "; ",
                          0),
              0u)
        << error;
    EXPECT_NE(error.find("use vocab: \"bytes\""), std::string::npos) << error;
    EXPECT_NE(error.find("iconv"), std::string::npos) << error;
    // Any bytes are bytes.
    open(request("bytes", 1));
  }
}

TEST_F(TextTest, ATestCharacterOutsideTheVocabularyIsAnError) {
  write("corpus.txt", u8"ab\u00e9");
  write("test.txt", u8"b\u00e9z");
  std::string error = failure(request("chars", 1, 0, "test.txt"));
  EXPECT_EQ(error, pathOf("test.txt") +
                       ": byte 3: U+007A 'z' is not in the vocabulary of the "
                       "training text " +
                       pathOf("corpus.txt") +
                       " (3 characters); add text with it to the training "
                       "file, remove it from the test file, or use vocab: "
                       "\"bytes\"");
  // A control character is shown by its code alone.
  write("test.txt", "ab\x01");
  EXPECT_NE(failure(request("chars", 1, 0, "test.txt"))
                .find(": byte 2: U+0001 is not in the vocabulary"),
            std::string::npos);
}

TEST_F(TextTest, ATrainingTextTooShortForOneWindowIsAnError) {
  write("corpus.txt", "abc");
  EXPECT_EQ(failure(request("bytes", 3)),
            pathOf("corpus.txt") +
                ": the training text has 3 tokens, but length 3 needs 4 (a "
                "window and the token after it); use a longer text or a "
                "smaller length");
  write("corpus.txt", "");
  EXPECT_NE(failure(request("chars", 1))
                .find("has 0 tokens, but length 1 "
                      "needs 2"),
            std::string::npos);
  write("corpus.txt", u8"abc\u00e9\u00e9\u00e9");
  EXPECT_NE(failure(request("chars", 3, 0.5))
                .find(": the training text has 3 tokens (the file's 6 tokens "
                      "less the last 3 of test_fraction 0.5), but length 3 "
                      "needs 4"),
            std::string::npos);
}

TEST_F(TextTest, AVocabularyLargerThanTheModelTakesIsAnError) {
  write("corpus.txt", "abcde");
  SourceRequest tokens = request("chars", 1);
  tokens.fields[0].range = 4;
  EXPECT_EQ(failure(tokens),
            pathOf("corpus.txt") +
                ": the vocabulary has 5 characters, but the model's input "
                "'tokens' takes ids below 4; make its embedding as large as "
                "the vocabulary (embedding num: 5)");
  SourceRequest targets = request("chars", 1);
  targets.fields[1].range = 3;
  EXPECT_EQ(failure(targets),
            pathOf("corpus.txt") +
                ": the vocabulary has 5 characters, but the model's input "
                "'targets' takes ids below 3; give the logits of its loss one "
                "class per token (5)");
  SourceRequest bytes = request("bytes", 1);
  bytes.fields[0].range = 128;
  EXPECT_NE(failure(bytes).find("the vocabulary has 256 byte values, but the "
                                "model's input 'tokens' takes ids below 128; "),
            std::string::npos);
  // Exactly as many ids as the vocabulary has is enough.
  tokens.fields[0].range = 5;
  targets.fields[1].range = 5;
  open(tokens);
  open(targets);
}

TEST_F(TextTest, TheInputsMustBeTokensAndTargetsOfTheLength) {
  write("corpus.txt", "abcdefgh");
  const std::string rule = "text(...) fills two inputs: the tokens i64[4], "
                           "then their next tokens (the targets) i64[4], but ";
  SourceRequest one = request("bytes", 4);
  one.fields.pop_back();
  EXPECT_EQ(failure(one),
            rule + "the model has 1 input; declare the two inputs");
  SourceRequest floats = request("bytes", 4);
  floats.fields[0].dtype = io::DType::F32;
  EXPECT_EQ(failure(floats), rule + "input 'tokens' (the tokens) is f32[4]; "
                                    "declare it i64[4] (length: 4)");
  SourceRequest longer = request("bytes", 4);
  longer.fields[1].shape = {5};
  EXPECT_EQ(failure(longer), rule + "input 'targets' (the targets) is i64[5]; "
                                    "declare it i64[4] (length: 4)");
  SourceRequest matrix = request("bytes", 4);
  matrix.fields[1].shape = {2, 4};
  EXPECT_NE(failure(matrix).find("is i64[2, 4]; "), std::string::npos);
}

TEST_F(TextTest, ArgumentsOutsideTheirRangeAreErrors) {
  write("corpus.txt", "abcdefgh");
  EXPECT_EQ(failure(request("words", 2)),
            "text(...): vocab is \"words\"; use \"bytes\" (one token per byte) "
            "or \"chars\" (one per UTF-8 character)");
  EXPECT_EQ(failure(request("bytes", 0)),
            "text(...): length is 0; give the number of tokens of an example, "
            "at least 1");
  for (double fraction : {1.0, -0.5})
    EXPECT_NE(failure(request("bytes", 2, fraction))
                  .find("; give the share of the text kept for testing, in "
                        "[0, 1)"),
              std::string::npos);
  EXPECT_NE(failure(request("bytes", 2, 1.0)).find("test_fraction is 1;"),
            std::string::npos);
}

TEST_F(TextTest, AMissingFileIsAnError) {
  EXPECT_EQ(failure(request("bytes", 2)),
            pathOf("corpus.txt") +
                ": cannot open it (No such file or directory); check the path "
                "(a relative path is read from the trainer's --data "
                "directory, or the current directory)");
  write("corpus.txt", "abcdefgh");
  EXPECT_EQ(failure(request("chars", 2, 0, "other.txt"))
                .rfind(pathOf("other.txt") + ": cannot open it (", 0),
            0u);
  fs::create_directory(dir / "folder");
  EXPECT_EQ(failure(request("bytes", 2, 0, "folder")),
            pathOf("folder") +
                ": it is not a regular file; give the path of a text file");
  // An absolute path is not read from the data directory.
  SourceRequest absolute = request("bytes", 2);
  absolute.dataDir = "/nonexistent";
  absolute.args = Arguments({{"train", pathOf("corpus.txt")},
                             {"test", std::string()},
                             {"test_fraction", 0.0},
                             {"length", int64_t(2)},
                             {"vocab", std::string("bytes")}});
  EXPECT_EQ(open(absolute).train->size(), 3);
}

TEST_F(TextTest, AFileThatCannotBeReadIsAnError) {
  // Linux's /proc/self/mem opens as a regular file, but reading its first
  // page (never mapped) fails.
  if (!fs::exists("/proc/self/mem"))
    GTEST_SKIP() << "no /proc/self/mem";
  SourceRequest mem = request("bytes", 2);
  mem.dataDir = "/proc/self";
  mem.args = Arguments({{"train", std::string("mem")},
                        {"test", std::string()},
                        {"test_fraction", 0.0},
                        {"length", int64_t(2)},
                        {"vocab", std::string("bytes")}});
  std::string error = failure(mem);
  EXPECT_EQ(error.rfind("/proc/self/mem: byte 0: cannot read it (", 0), 0u)
      << error;
  EXPECT_NE(error.find("); check that the file is readable"), std::string::npos)
      << error;
}

TEST_F(TextTest, AFileChangedAfterOpeningIsAnErrorWhenRead) {
  write("corpus.txt", "abcdefghij");
  OpenedSource bytes = open(request("bytes", 2, 0.3));
  fs::resize_file(pathOf("corpus.txt"), 3);
  EXPECT_EQ(readFailure(*bytes.train, 2, 2),
            pathOf("corpus.txt") +
                ": byte 4: the file ends here (reading training example 2); "
                "the file changed since the trainer opened it: do not change "
                "a corpus while a trainer reads it, and restart the trainer");
  EXPECT_NE(readFailure(*bytes.test, 0, 2)
                .find(": byte 7: the file ends here (reading test example 0)"),
            std::string::npos);

  write("corpus.txt", u8"ab\u00e9ab\u00e9ab");
  OpenedSource chars = open(request("chars", 2));
  write("corpus.txt", "abxxab\xff\xff"
                      "ab");
  EXPECT_NE(readFailure(*chars.train, 1, 2)
                .find(": byte 2: U+0078 'x' is not in the vocabulary (reading "
                      "training example 1); the file changed"),
            std::string::npos);
  EXPECT_NE(readFailure(*chars.train, 2, 2)
                .find(": byte 6: not valid UTF-8 (reading training example "
                      "2); the file changed"),
            std::string::npos);
  fs::resize_file(pathOf("corpus.txt"), 1);
  EXPECT_NE(readFailure(*chars.train, 0, 2)
                .find(": byte 1: the file ends here (reading training example "
                      "0)"),
            std::string::npos);
}

TEST_F(TextTest, TwoThreadsReadAtOnce) {
  // Code point i of the text is encoded[(7i + i/3) % 6], whose index is its
  // id: the code points are in order.
  const char *encoded[] = {"a",        "b",        "c",
                           u8"\u00e9", u8"\u20ac", u8"\U0001F600"};
  std::vector<int64_t> ids;
  std::string text;
  for (int64_t i = 0; i < 20000; ++i) {
    ids.push_back((7 * i + i / 3) % 6);
    text += encoded[ids.back()];
  }
  write("corpus.txt", text);
  constexpr int64_t kLength = 16;
  OpenedSource opened = open(request("chars", kLength, 0.125));
  int64_t trainTokens = 20000 - 2500;
  ASSERT_EQ(opened.train->size(), (trainTokens - 1) / kLength);
  std::atomic<int64_t> wrong{0}, reads{0};
  auto readAll = [&](bool backwards) {
    const Examples &train = *opened.train;
    std::vector<int64_t> tokens(kLength), targets(kLength);
    void *rows[] = {tokens.data(), targets.data()};
    for (int round = 0; round < 5; ++round)
      for (int64_t j = 0; j < train.size(); ++j) {
        int64_t k = backwards ? train.size() - 1 - j : j;
        std::string error;
        bool good = train.read(k, rows, error);
        for (int64_t t = 0; t < kLength; ++t)
          good = good && tokens[t] == ids[k * kLength + t] &&
                 targets[t] == ids[k * kLength + t + 1];
        wrong += !good;
        ++reads;
      }
  };
  std::thread forwards(readAll, false), backwards(readAll, true);
  forwards.join();
  backwards.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(reads, 2 * 5 * opened.train->size());
  expectWindows(*opened.test,
                std::vector<int64_t>(ids.begin() + trainTokens, ids.end()),
                kLength);
}

TEST_F(TextTest, RunningOutOfMemoryIsAnError) {
  // 8 bytes per example: 16 million windows of 1 character need 128 MB,
  // more than the process may then allocate.
  write("corpus.txt", std::string(16 * kMiB, 'a'));
  EXPECT_EXIT(
      openWithLittleMemory(request("chars", 1)), ::testing::ExitedWithCode(0),
      "corpus.txt: out of memory while opening the text \\(vocab: \"chars\" "
      "keeps 8 bytes per example\\); use a larger length or vocab: "
      "\"bytes\"");
}

} // namespace
