//===- CsvTable.cpp - A CSV table with a header row, read by libcsv -------===//
//
// libcsv splits the bytes into cells and rows; what the cells mean is checked
// here, cell by cell, as the rows arrive. The file is read in blocks and only
// the wanted columns are kept, so the text itself is never held whole.
// libcsv runs in strict mode (a quote inside a cell is an error rather than
// text) and reports every line end, so that blank lines, though skipped,
// still count in the row numbers of the messages, as in a spreadsheet.
//
// libcsv is C: its callbacks must not throw through it. They record the
// first problem and ignore the rest of the block; running out of memory is
// rethrown as std::bad_alloc once libcsv has returned.
//
//===----------------------------------------------------------------------===//

#include "data/CsvTable.h"

#include <csv.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_map>

#include <fcntl.h>
#include <locale.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;

namespace {

/// What pandas.read_csv reads as a missing value (its default na_values).
constexpr const char *kMissingMarkers[] = {
    "",     "#N/A",   "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
    "-nan", "1.#IND", "1.#QNAN",  "<NA>", "N/A",     "NA",       "NULL",
    "NaN",  "None",   "n/a",      "nan",  "null"};

constexpr const char *kMissingHint =
    "fill or drop the rows with missing values (pandas: df.dropna() or "
    "df.fillna(...))";

constexpr size_t kBlockSize = 1 << 16;

bool isMissingMarker(std::string_view cell) {
  return std::any_of(std::begin(kMissingMarkers), std::end(kMissingMarkers),
                     [&](const char *marker) { return cell == marker; });
}

/// strtod's "C" locale, whatever setlocale the program called.
locale_t cLocale() {
  static locale_t locale = ::newlocale(LC_ALL_MASK, "C", locale_t(0));
  if (!locale)
    throw std::bad_alloc();
  return locale;
}

/// The length of the UTF-8 sequence that starts with `lead`, 0 when no
/// sequence does.
size_t sequenceLength(unsigned char lead) {
  if (lead < 0x80)
    return 1;
  if (lead < 0xc2)
    return 0;
  if (lead < 0xe0)
    return 2;
  if (lead < 0xf0)
    return 3;
  return lead < 0xf5 ? 4 : 0;
}

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF): a checkpoint's metadata must be.
bool isUtf8(std::string_view text) {
  auto *bytes = reinterpret_cast<const unsigned char *>(text.data());
  size_t size = text.size();
  for (size_t i = 0; i < size;) {
    unsigned char lead = bytes[i];
    size_t length = sequenceLength(lead);
    if (length == 0 || i + length > size)
      return false;
    for (size_t k = 1; k < length; ++k)
      if ((bytes[i + k] & 0xc0) != 0x80)
        return false;
    unsigned char second = length > 1 ? bytes[i + 1] : 0;
    if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second >= 0xa0) ||
        (lead == 0xf0 && second < 0x90) || (lead == 0xf4 && second >= 0x90))
      return false;
    i += length;
  }
  return true;
}

/// Reads up to `size` bytes, fewer only at the end of the file.
ssize_t readBlock(int fd, char *buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t count = ::read(fd, buffer + done, size - done);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      return -1;
    if (count == 0)
      break;
    done += static_cast<size_t>(count);
  }
  return static_cast<ssize_t>(done);
}

/// Closes a file on every way out.
struct FileCloser {
  int fd;
  ~FileCloser() { ::close(fd); }
};

/// Frees libcsv's buffer on every way out.
struct ParserFreer {
  csv_parser *parser;
  ~ParserFreer() { csv_free(parser); }
};

/// The column roles of the header's columns besides feature indices.
constexpr int kIgnored = -1;
constexpr int kLabel = -2;

class Reader {
public:
  Reader(const CsvOptions &options, CsvTable &table)
      : options(options), table(table) {}

  /// Parses the file; false with `error` set on a problem in it.
  bool run(int fd, std::string &error);

private:
  static void onCell(void *cell, size_t size, void *self) {
    static_cast<Reader *>(self)->guard([&](Reader &reader) {
      reader.cell(std::string_view(static_cast<char *>(cell), size));
    });
  }
  static void onRowEnd(int terminator, void *self) {
    static_cast<Reader *>(self)->guard(
        [&](Reader &reader) { reader.rowEnd(terminator); });
  }

  /// Runs a step of a callback unless a problem was found, turning a
  /// bad_alloc into a flag: nothing may unwind through libcsv.
  template <typename Step> void guard(Step step) {
    if (failed)
      return;
    try {
      step(*this);
    } catch (const std::bad_alloc &) {
      failed = outOfMemory = true;
    }
  }

  void fail(std::string message) {
    failed = true;
    problem = std::move(message);
  }

  /// The row being read, as a spreadsheet numbers it.
  int64_t row() const { return rowsEnded + 1; }
  std::string here() const { return table.where(row(), column); }

  void cell(std::string_view text);
  void rowEnd(int terminator);
  void endHeader();
  bool compareHeader();
  bool findColumns();
  void number(std::string_view text, double &value, bool isLabel);
  void label(std::string_view text);

  const CsvOptions &options;
  CsvTable &table;
  bool failed = false, outOfMemory = false;
  std::string problem;
  bool inHeader = true;
  /// Rows ended so far, blank lines included.
  int64_t rowsEnded = 0;
  int lastTerminator = 0;
  /// The cells of the current row so far.
  size_t column = 0;
  /// Per header column: kIgnored, kLabel or the index among the features.
  std::vector<int> roles;
  /// Whether the label column's cells are read.
  bool readsLabel = false;
  std::unordered_map<std::string, int64_t> labelIds;
};

void Reader::cell(std::string_view text) {
  if (inHeader) {
    table.header.emplace_back(trimCsvCell(text));
    ++column;
    return;
  }
  size_t width = table.featureColumns.size();
  if (column == 0) {
    table.features.resize(table.features.size() + width);
    if (readsLabel && options.numericLabel)
      table.targets.push_back(0);
    else if (readsLabel)
      table.labels.push_back(0);
  }
  if (column >= table.header.size()) {
    fail(here() + ": the row has more cells than the header's " +
         std::to_string(table.header.size()) +
         " columns; remove the extra cells, or quote the cells that contain "
         "the delimiter '" +
         std::string(1, options.delimiter) + "'");
    return;
  }
  int role = roles[column];
  if (role >= 0)
    number(text, table.features[table.features.size() - width + role], false);
  else if (role == kLabel && options.numericLabel)
    number(text, table.targets.back(), true);
  else if (role == kLabel)
    label(text);
  ++column;
}

void Reader::number(std::string_view text, double &value, bool isLabel) {
  switch (parseCsvNumber(text, value)) {
  case CsvNumber::Finite:
    return;
  case CsvNumber::Missing:
    text = trimCsvCell(text);
    return fail(here() + ": missing value" +
                (text.empty() ? std::string(" (the cell is empty)")
                              : " (" + quoteCsvCell(text) + ")") +
                "; " + kMissingHint);
  case CsvNumber::Infinite:
    return fail(here() + ": " + quoteCsvCell(trimCsvCell(text)) +
                " is infinite; features and targets must be finite numbers: "
                "correct the value or drop the row");
  case CsvNumber::NotANumber:
    return fail(here() + ": " + quoteCsvCell(trimCsvCell(text)) +
                " is not a number; " +
                (isLabel ? "regression targets must be numbers (declare the "
                           "label i64 to read it as class names)"
                         : "features must be numbers: encode a text column "
                           "as numbers (pandas.get_dummies, say) or leave it "
                           "out of features"));
  }
}

void Reader::label(std::string_view text) {
  text = trimCsvCell(text);
  if (isMissingMarker(text))
    return fail(here() + ": missing value" +
                (text.empty() ? std::string(" (the label is empty)")
                              : " (" + quoteCsvCell(text) + ")") +
                "; " + kMissingHint);
  if (!isUtf8(text))
    return fail(here() + ": the label " + quoteCsvCell(text) +
                " is not valid UTF-8; save the table as UTF-8 (pandas: "
                "to_csv(path, encoding='utf-8'))");
  auto [it, added] =
      labelIds.try_emplace(std::string(text), table.labelNames.size());
  if (added)
    table.labelNames.push_back(it->first);
  table.labels.back() = it->second;
}

void Reader::rowEnd(int terminator) {
  int previous = lastTerminator;
  lastTerminator = terminator;
  if (column == 0) {
    // With CSV_REPALL_NL libcsv reports the LF of a CRLF as a row of its
    // own; any other empty row is a blank line.
    if (!(terminator == '\n' && previous == '\r'))
      ++rowsEnded;
    return;
  }
  if (inHeader) {
    endHeader();
  } else if (column < table.header.size()) {
    fail(here() + ": the row ends after " + std::to_string(column) +
         (column == 1 ? " cell" : " cells") + ", but the header has " +
         std::to_string(table.header.size()) +
         " columns; give every row a cell for each column, or drop the row");
    return;
  } else {
    table.rowNumbers.push_back(row());
  }
  ++rowsEnded;
  column = 0;
}

void Reader::endHeader() {
  table.headerRow = row();
  std::unordered_map<std::string, size_t> seen;
  for (size_t c = 0; c < table.header.size(); ++c) {
    const std::string &name = table.header[c];
    if (name.empty())
      return fail(table.where(row(), c) +
                  ": the column has no name; name every column in the header "
                  "row (pandas writes its index as an unnamed first column: "
                  "save with to_csv(path, index=False))");
    auto [it, added] = seen.try_emplace(name, c);
    if (!added)
      return fail(table.where(row(), c) + ": column " +
                  std::to_string(it->second + 1) +
                  " has the same name; give the columns distinct names");
  }
  if (!compareHeader() || !findColumns())
    return;
  if (options.checkHeader && !options.checkHeader(table, problem))
    return fail(std::move(problem));
  inHeader = false;
}

bool Reader::compareHeader() {
  const std::vector<std::string> &expected = options.expectedHeader;
  const std::vector<std::string> &found = table.header;
  if (expected.empty())
    return true;
  const std::string &training = options.expectedFile;
  const char *hint = "; give this table the training table's columns, in the "
                     "same order";
  size_t common = std::min(expected.size(), found.size());
  for (size_t c = 0; c < common; ++c)
    if (found[c] != expected[c]) {
      fail(table.where(row(), c) + ": column " + std::to_string(c + 1) +
           " of the training table " + training + " is '" + expected[c] + "'" +
           hint);
      return false;
    }
  if (found.size() < expected.size()) {
    fail(table.path + ": row " + std::to_string(row()) + ": the table has " +
         std::to_string(found.size()) + " columns, the training table " +
         training + " " + std::to_string(expected.size()) + ": column " +
         std::to_string(common + 1) + " ('" + expected[common] +
         "') is missing" + hint);
    return false;
  }
  if (found.size() > expected.size()) {
    fail(table.where(row(), common) +
         ": the column is not in the training table " + training +
         ", which has " + std::to_string(expected.size()) + " columns" + hint);
    return false;
  }
  return true;
}

bool Reader::findColumns() {
  const std::vector<std::string> &header = table.header;
  std::string rowText = table.path + ": row " + std::to_string(row());
  auto find = [&](const std::string &name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) -
                               header.begin());
  };
  table.labelColumn = find(options.label);
  if (table.labelColumn == header.size() && !options.labelOptional) {
    fail(rowText + ": no column is named '" + options.label +
         "', the label; the columns are " + listCsvNames(header) +
         "; set label: to one of them");
    return false;
  }
  roles.assign(header.size(), kIgnored);
  readsLabel = table.hasLabelColumn() && !options.skipLabel;
  if (readsLabel)
    roles[table.labelColumn] = kLabel;
  if (options.features.empty()) {
    for (size_t c = 0; c < header.size(); ++c)
      if (c != table.labelColumn) {
        roles[c] = static_cast<int>(table.featureColumns.size());
        table.featureColumns.push_back(c);
      }
    if (table.featureColumns.empty()) {
      fail(rowText + ": the table has no column besides the label '" +
           options.label + "'; add the feature columns");
      return false;
    }
    return true;
  }
  for (const std::string &name : options.features) {
    size_t c = find(name);
    if (c == header.size()) {
      fail(rowText + ": no column is named '" + name +
           "', which features lists; the columns are " + listCsvNames(header) +
           "; correct the name in features");
      return false;
    }
    if (c == table.labelColumn) {
      fail(table.where(row(), c) +
           ": the label column is also listed in features; remove it from "
           "features");
      return false;
    }
    if (roles[c] != kIgnored) {
      fail(table.where(row(), c) +
           ": features lists the column twice; list each column once");
      return false;
    }
    roles[c] = static_cast<int>(table.featureColumns.size());
    table.featureColumns.push_back(c);
  }
  return true;
}

bool Reader::run(int fd, std::string &error) {
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
    throw std::bad_alloc();
  ParserFreer freer{&parser};
  csv_set_delim(&parser, static_cast<unsigned char>(options.delimiter));

  std::vector<char> block(kBlockSize);
  uint64_t offset = 0;
  for (;;) {
    ssize_t count = readBlock(fd, block.data(), block.size());
    if (count < 0) {
      error = table.path + ": byte " + std::to_string(offset) +
              ": cannot read the file (" + std::strerror(errno) +
              "); give the path of a readable CSV file";
      return false;
    }
    if (count == 0)
      break;
    const char *begin = block.data();
    size_t size = static_cast<size_t>(count);
    // A byte order mark, as Excel writes "CSV UTF-8", is not part of the
    // first name; dropped here because libcsv would make it a stray quote
    // before a quoted name.
    if (offset == 0 && size >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0)
      begin += 3, size -= 3;
    size_t done = csv_parse(&parser, begin, size, onCell, onRowEnd, this);
    if (outOfMemory)
      throw std::bad_alloc();
    if (failed) {
      error = std::move(problem);
      return false;
    }
    if (done < size) {
      if (csv_error(&parser) != CSV_EPARSE)
        throw std::bad_alloc();
      uint64_t at = offset + (begin - block.data()) + done;
      error = here() + ", byte " + std::to_string(at) + ": " +
              (parser.quoted
                   ? "text after the closing quote of a quoted cell; put the "
                     "whole cell inside the quotes, and write a quote in it "
                     "as two (\"\")"
                   : "a quote inside a cell that does not start with one; "
                     "quote the whole cell and double the quotes in it, e.g. "
                     "\"5 \"\"inch\"\"\"");
      return false;
    }
    offset += static_cast<uint64_t>(count);
  }
  if (csv_fini(&parser, onCell, onRowEnd, this) != 0) {
    error = here() +
            ": the quoted cell that starts here has no closing quote: the "
            "file ends inside it (at byte " +
            std::to_string(offset) +
            "); add the closing quote (\"), or remove the opening one";
    return false;
  }
  if (outOfMemory)
    throw std::bad_alloc();
  if (failed) {
    error = std::move(problem);
    return false;
  }
  if (inHeader) {
    error = table.path +
            ": the file has no header row (it is empty); its first row must "
            "name the columns, and each row after it hold one example";
    return false;
  }
  return true;
}

} // namespace

std::string CsvTable::where(int64_t row, size_t column) const {
  std::string text = path + ": row " + std::to_string(row) + ", column " +
                     std::to_string(column + 1);
  if (column < header.size() && !header[column].empty())
    text += " ('" + header[column] + "')";
  return text;
}

bool data::readCsvTable(const std::string &path, const CsvOptions &options,
                        CsvTable &table, std::string &error) {
  CsvTable result;
  result.path = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open the file (" + std::strerror(errno) +
            "); check the path (a relative path is read from the trainer's "
            "--data directory, or else the current directory)";
    return false;
  }
  FileCloser closer{fd};
  Reader reader(options, result);
  if (!reader.run(fd, error))
    return false;
  table = std::move(result);
  return true;
}

CsvNumber data::parseCsvNumber(std::string_view cell, double &value) {
  cell = trimCsvCell(cell);
  if (isMissingMarker(cell))
    return CsvNumber::Missing;
  // strtod reads a terminated string: a copy, on the stack for the usual
  // short cell. A NUL inside the cell stops strtod short of its end, which
  // makes the cell not a number.
  char small[64];
  std::string large;
  const char *text = small;
  if (cell.size() < sizeof(small)) {
    std::memcpy(small, cell.data(), cell.size());
    small[cell.size()] = '\0';
  } else {
    large.assign(cell);
    text = large.c_str();
  }
  char *end = nullptr;
  value = ::strtod_l(text, &end, cLocale());
  if (end != text + cell.size())
    return CsvNumber::NotANumber;
  if (std::isnan(value))
    return CsvNumber::Missing;
  if (std::isinf(value))
    return CsvNumber::Infinite;
  return CsvNumber::Finite;
}

std::string_view data::trimCsvCell(std::string_view text) {
  constexpr const char *kSpace = " \t\r\n\v\f";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos)
    return {};
  size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::string data::quoteCsvCell(std::string_view cell) {
  constexpr size_t kShown = 40;
  std::string text = "'";
  for (char c : cell.substr(0, kShown)) {
    if (c == '\n')
      text += "\\n";
    else if (c == '\r')
      text += "\\r";
    else if (c == '\0')
      text += "\\0";
    else
      text += c;
  }
  text += cell.size() > kShown ? "...'" : "'";
  return text;
}

std::string data::listCsvNames(const std::vector<std::string> &names,
                               size_t limit) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i)
    text += (i ? ", " : "") + names[i];
  if (names.size() > limit)
    text += ", ... (" + std::to_string(names.size()) + " in all)";
  return text;
}

bool data::parseCsvClassId(const std::string &text, int64_t &id) {
  // 18 digits always fit in 64 bits.
  if (text.empty() || text.size() > 18)
    return false;
  id = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    id = id * 10 + (c - '0');
  }
  return true;
}
