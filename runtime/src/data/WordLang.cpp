//===- WordLang.cpp - Which of ten languages a word comes from ------------===//
//
// The task is defined so that any language reproduces it exactly (see
// loadWordLang in Datasets.h). Words are kept as UTF-8, whose byte order is
// code point order, so comparing bytes compares words as the definition does.
//
// The lists hold 6 million words (polish alone 4.3 million), but a language
// only needs its train + test words of smallest hash that no other list has.
// Whether a word of hash h is in another list only depends on that list's
// words of hash h, so only words with a hash up to some limit are sorted and
// compared; when that yields too few words in some language the limit grows.
// The result does not depend on the limit, only the time does.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Files.h"
#include "io/Hash.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>
#include <unordered_map>

using namespace kiln;
using namespace kiln::data;

namespace {

constexpr size_t kLanguages = std::size(kWordLists);
/// The ids below the characters: 0 pads, 1 stands for an unknown character.
constexpr int64_t kUnknown = 1;
constexpr int64_t kFirstCharacter = 2;

std::string installHint(const char *package) {
  std::string hint = "install the word lists (apt-get install";
  for (const WordList &list : kWordLists)
    hint += std::string(" ") + list.package;
  return hint + "; this one is in " + package +
         "), or give the directory that holds them";
}

/// Whether `bytes` is UTF-8 as Python's strict decoder accepts it: no
/// overlong forms, no surrogates, nothing above U+10FFFF, no cut sequence.
bool isValidUtf8(std::string_view bytes) {
  constexpr uint64_t kHighBits = 0x8080808080808080;
  size_t i = 0, size = bytes.size();
  while (i < size) {
    // Eight ASCII bytes at a time: the lists are mostly ASCII.
    uint64_t eight;
    if (size - i >= 8 &&
        (std::memcpy(&eight, bytes.data() + i, 8), !(eight & kHighBits))) {
      i += 8;
      continue;
    }
    auto lead = static_cast<uint8_t>(bytes[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The length of the sequence and the range of its second byte, from
    // table 3-7 of the Unicode standard.
    size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
      length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
      length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
      length = 4;
    else
      return false;
    if (lead == 0xE0)
      low = 0xA0;
    else if (lead == 0xED)
      high = 0x9F;
    else if (lead == 0xF0)
      low = 0x90;
    else if (lead == 0xF4)
      high = 0x8F;
    if (size - i < length)
      return false;
    auto second = static_cast<uint8_t>(bytes[i + 1]);
    if (second < low || second > high)
      return false;
    for (size_t k = 2; k < length; ++k)
      if ((static_cast<uint8_t>(bytes[i + k]) & 0xC0) != 0x80)
        return false;
    i += length;
  }
  return true;
}

/// Latin-1 bytes as UTF-8: each byte is the code point of the same value.
std::string latin1ToUtf8(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto byte = static_cast<uint8_t>(c);
    if (byte < 0x80) {
      text += c;
    } else {
      text += static_cast<char>(0xC0 | byte >> 6);
      text += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return text;
}

/// The code points of valid UTF-8 text.
std::vector<char32_t> codePoints(std::string_view text) {
  std::vector<char32_t> points;
  for (size_t i = 0; i < text.size();) {
    auto lead = static_cast<uint8_t>(text[i]);
    size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t point = length == 1   ? lead
                     : length == 2 ? lead & 0x1F
                     : length == 3 ? lead & 0x0F
                                   : lead & 0x07;
    for (size_t k = 1; k < length; ++k)
      point = point << 6 | (static_cast<uint8_t>(text[i + k]) & 0x3F);
    points.push_back(point);
    i += length;
  }
  return points;
}

/// One word list: its text as UTF-8 with A-Z lower-cased. Lower-casing the
/// whole text is lower-casing each word, since in UTF-8 the bytes of A-Z only
/// ever stand for A-Z.
struct Language {
  std::string path;
  std::string text;
  /// The number of lines, an upper bound on the number of words.
  size_t lines = 0;
};

bool readLanguage(const std::string &dictDir, const WordList &list,
                  Language &language, std::string &error) {
  language.path = dictDir + "/" + list.file;
  std::string bytes, reason;
  if (!readWholeFile(language.path, bytes, reason)) {
    error = language.path + ": " + reason + "; " + installHint(list.package);
    return false;
  }
  language.text = isValidUtf8(bytes) ? std::move(bytes) : latin1ToUtf8(bytes);
  for (char &c : language.text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  language.lines =
      std::count(language.text.begin(), language.text.end(), '\n') + 1;
  return true;
}

/// Calls `visit` on each word of `text`, duplicates included: each line
/// stripped of " \t\r\n\f\v", unless empty or holding an apostrophe.
template <typename Visit> void forEachWord(std::string_view text, Visit visit) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  while (!text.empty()) {
    size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size()
                                                         : newline + 1);
    size_t first = line.find_first_not_of(kSpace);
    if (first == std::string_view::npos)
      continue;
    std::string_view word =
        line.substr(first, line.find_last_not_of(kSpace) + 1 - first);
    if (word.find('\'') == std::string_view::npos)
      visit(word);
  }
}

/// A word and its hash, ordered as the task orders words.
struct Word {
  uint64_t hash;
  std::string_view text;

  bool operator<(const Word &other) const {
    return hash != other.hash ? hash < other.hash : text < other.text;
  }
  bool operator==(const Word &other) const {
    return hash == other.hash && text == other.text;
  }
};

/// The distinct words of `language` with a hash up to `limit`, in order.
std::vector<Word> candidates(const Language &language, uint64_t limit) {
  std::vector<Word> words;
  forEachWord(language.text, [&](std::string_view text) {
    uint64_t hash = io::fnv1a64(text);
    if (hash <= limit)
      words.push_back({hash, text});
  });
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

/// The first `count` words of each language, in order, that no other
/// language has.
bool selectWords(const std::vector<Language> &languages, size_t count,
                 std::vector<std::vector<std::string_view>> &selected,
                 std::string &error) {
  size_t fewestLines = SIZE_MAX;
  for (const Language &language : languages)
    fewestLines = std::min(fewestLines, language.lines);
  // A share of the hash range that should hold `count` words of the smallest
  // list four times over; any start is correct, a good one saves rounds.
  double share = 4.0 * static_cast<double>(count) / fewestLines;
  uint64_t limit =
      share >= 1 ? UINT64_MAX : static_cast<uint64_t>(share * 0x1.0p64);
  for (;;) {
    std::vector<std::vector<Word>> lists;
    for (const Language &language : languages)
      lists.push_back(candidates(language, limit));
    selected.assign(languages.size(), {});
    bool enough = true;
    for (size_t i = 0; i < lists.size(); ++i) {
      for (const Word &word : lists[i]) {
        if (selected[i].size() == count)
          break;
        bool shared = false;
        for (size_t j = 0; j < lists.size() && !shared; ++j)
          shared = j != i &&
                   std::binary_search(lists[j].begin(), lists[j].end(), word);
        if (!shared)
          selected[i].push_back(word.text);
      }
      enough = enough && selected[i].size() == count;
    }
    if (enough)
      return true;
    if (limit == UINT64_MAX)
      break;
    limit = limit > UINT64_MAX / 4 ? UINT64_MAX : limit * 4 + 3;
  }
  size_t i = 0;
  while (selected[i].size() == count)
    ++i;
  error = languages[i].path + ": only " + std::to_string(selected[i].size()) +
          " of its words are in no other list, fewer than the " +
          std::to_string(count) +
          " training and test words asked for; ask for fewer, or use the "
          "word lists of Debian's w* packages";
  return false;
}

/// Ids 2, 3, ...: the most frequent code points of the training words, ties
/// broken by the smaller code point.
std::vector<char32_t>
makeVocabulary(const std::vector<std::vector<std::string_view>> &selected,
               size_t trainPerLanguage) {
  std::unordered_map<char32_t, int64_t> frequency;
  for (const std::vector<std::string_view> &words : selected)
    for (size_t w = 0; w < trainPerLanguage; ++w)
      for (char32_t point : codePoints(words[w]))
        ++frequency[point];
  std::vector<std::pair<char32_t, int64_t>> ranked(frequency.begin(),
                                                   frequency.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  size_t size =
      std::min<size_t>(ranked.size(), kWordLangVocabulary - kFirstCharacter);
  std::vector<char32_t> vocabulary;
  for (size_t i = 0; i < size; ++i)
    vocabulary.push_back(ranked[i].first);
  return vocabulary;
}

/// The words selected[language][begin .. begin + count) of every language,
/// as ids and labels.
Dataset encode(const std::vector<std::vector<std::string_view>> &selected,
               size_t begin, size_t count, int64_t length,
               const std::unordered_map<char32_t, int64_t> &ids) {
  auto size = static_cast<int64_t>(selected.size() * count);
  io::TensorData idField =
      io::TensorData::zeros(io::DType::I64, {size, length});
  io::TensorData labelField = io::TensorData::zeros(io::DType::I64, {size});
  int64_t example = 0;
  for (size_t language = 0; language < selected.size(); ++language) {
    for (size_t w = begin; w < begin + count; ++w, ++example) {
      std::vector<char32_t> points = codePoints(selected[language][w]);
      auto used = std::min<int64_t>(points.size(), length);
      // Left-padded: the word's first `length` characters end the row, and
      // the zeros before them are the padding id.
      int64_t *row = idField.data<int64_t>() + example * length + length - used;
      for (int64_t c = 0; c < used; ++c) {
        auto found = ids.find(points[c]);
        row[c] = found == ids.end() ? kUnknown : found->second;
      }
      labelField.data<int64_t>()[example] = static_cast<int64_t>(language);
    }
  }
  Dataset dataset;
  dataset.fields.push_back(std::move(idField));
  dataset.fields.push_back(std::move(labelField));
  return dataset;
}

bool buildWordLang(const std::string &dictDir, int64_t trainPerLanguage,
                   int64_t testPerLanguage, int64_t length, Split &out,
                   std::string &error, std::vector<char32_t> *vocabulary) {
  std::vector<Language> languages(kLanguages);
  for (size_t i = 0; i < kLanguages; ++i)
    if (!readLanguage(dictDir, kWordLists[i], languages[i], error))
      return false;
  auto train = static_cast<size_t>(trainPerLanguage);
  auto test = static_cast<size_t>(testPerLanguage);
  std::vector<std::vector<std::string_view>> selected;
  if (!selectWords(languages, train + test, selected, error))
    return false;

  std::vector<char32_t> characters = makeVocabulary(selected, train);
  std::unordered_map<char32_t, int64_t> ids;
  for (size_t i = 0; i < characters.size(); ++i)
    ids[characters[i]] = kFirstCharacter + static_cast<int64_t>(i);
  Split split;
  split.train = encode(selected, 0, train, length, ids);
  split.test = encode(selected, train, test, length, ids);
  out = std::move(split);
  if (vocabulary)
    *vocabulary = std::move(characters);
  return true;
}

} // namespace

bool data::loadWordLang(const std::string &dictDir, int64_t trainPerLanguage,
                        int64_t testPerLanguage, int64_t length, Split &out,
                        std::string &error, std::vector<char32_t> *vocabulary) {
  // Small enough that every count and byte size below fits in 64 bits.
  constexpr int64_t kMaxWords = int64_t(1) << 31;
  constexpr int64_t kMaxLength = int64_t(1) << 20;
  if (trainPerLanguage < 0 || testPerLanguage < 0 ||
      trainPerLanguage > kMaxWords ||
      testPerLanguage > kMaxWords - trainPerLanguage || length < 1 ||
      length > kMaxLength) {
    error = "wordlang: train (" + std::to_string(trainPerLanguage) +
            ") and test (" + std::to_string(testPerLanguage) +
            ") must be at least 0 and together at most 2^31, and length (" +
            std::to_string(length) + ") between 1 and 2^20";
    return false;
  }
  try {
    return buildWordLang(dictDir, trainPerLanguage, testPerLanguage, length,
                         out, error, vocabulary);
  } catch (const std::bad_alloc &) {
    error = dictDir + ": out of memory while reading the word lists";
    return false;
  }
}
