//===- CsvTable.h - A CSV table with a header row, read by libcsv ---------===//
//
// The reading half of the csv(...) source: the cells of a table's feature
// and label columns, checked, with the spreadsheet row number of every data
// row so that later checks (class names, float range) can still say where a
// value came from. The source (CsvSource.cpp) turns a table into examples.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_CSVTABLE_H
#define KILN_RUNTIME_DATA_CSVTABLE_H

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data {

struct CsvTable;

/// What to read from a table.
struct CsvOptions {
  /// The field separator: one byte, neither a quote nor a line break.
  char delimiter = ',';
  /// The header name of the label column.
  std::string label;
  /// The header names of the feature columns in the order of the model's
  /// input; empty for every column but the label, in file order.
  std::vector<std::string> features;
  /// The label's cells are numbers (regression targets), not class names.
  bool numericLabel = false;
  /// The table may lack the label column (a table to predict on): it then
  /// has no labels, and labelColumn is header.size().
  bool labelOptional = false;
  /// The label column is left out of the features but not read, so its
  /// cells may hold anything.
  bool skipLabel = false;
  /// When not empty, the header that the table must have (the training
  /// table's), and the file it comes from, for messages.
  std::vector<std::string> expectedHeader;
  std::string expectedFile;
  /// Called once the header's columns are known, before any data row is
  /// read, so that a table that cannot fit the model fails at once. Returns
  /// false and sets the error to stop.
  std::function<bool(const CsvTable &, std::string &)> checkHeader;
};

/// The feature and label columns of a table, in memory.
struct CsvTable {
  /// The file, as messages name it.
  std::string path;
  /// The column names, trimmed of spaces, the UTF-8 byte order mark dropped.
  std::vector<std::string> header;
  /// The spreadsheet row of the header (1 unless blank lines precede it).
  int64_t headerRow = 1;
  /// The header indices of the feature columns, in the features' order, and
  /// of the label column (header.size() when it has none).
  std::vector<size_t> featureColumns;
  size_t labelColumn = 0;
  /// The spreadsheet row of each data row: blank lines are skipped but
  /// counted, and a quoted cell with line breaks is in one row.
  std::vector<int64_t> rowNumbers;
  /// The features, row-major: rows() * featureColumns.size() finite values.
  /// Doubles, so that standardizing rounds to float once, as pandas and
  /// sklearn do.
  std::vector<double> features;
  /// numericLabel: each row's label, finite.
  std::vector<double> targets;
  /// Otherwise each row's label as an index into labelNames, the distinct
  /// labels (trimmed) in the order of their first row.
  std::vector<int64_t> labels;
  std::vector<std::string> labelNames;

  int64_t rows() const { return static_cast<int64_t>(rowNumbers.size()); }
  bool hasLabelColumn() const { return labelColumn < header.size(); }
  /// "train.csv: row 13, column 4 ('petal_width')", with the name when
  /// `column` is one of the header's.
  std::string where(int64_t row, size_t column) const;
};

/// Reads the table at `path` with libcsv: a header row, then one row per
/// example, LF or CRLF line ends, quoted cells as RFC 4180 writes them (a
/// stray quote is an error). Every cell of a feature column, and of the label
/// column when numericLabel, must be a number (see parseCsvNumber); the other
/// columns are not read. On failure returns false and sets `error` to a
/// message with the row and column (or byte offset) and what to do. Throws
/// std::bad_alloc when the table does not fit in memory.
bool readCsvTable(const std::string &path, const CsvOptions &options,
                  CsvTable &table, std::string &error);

/// How a cell reads as a number.
enum class CsvNumber { Finite, Missing, Infinite, NotANumber };

/// Reads `cell`, trimmed of spaces, with strtod in the "C" locale: the whole
/// cell must be the number. Pandas' missing-value markers (empty, NA, NaN,
/// N/A, null, ...) and NaN itself are Missing.
CsvNumber parseCsvNumber(std::string_view cell, double &value);

/// The class id that a label written as a non-negative integer is; false
/// for other text.
bool parseCsvClassId(const std::string &text, int64_t &id);

/// `text` without leading and trailing ASCII white space.
std::string_view trimCsvCell(std::string_view text);

/// `cell` for a message: in quotes, line breaks shown as \n, cut after 40
/// bytes.
std::string quoteCsvCell(std::string_view cell);

/// Names for a message: "a, b, c", or the first `limit` and how many more.
std::string listCsvNames(const std::vector<std::string> &names,
                         size_t limit = 20);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_CSVTABLE_H
