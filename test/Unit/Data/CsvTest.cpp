//===- CsvTest.cpp - The csv(...) source on tables written here -----------===//
//
// Every table is written by the test into a temporary directory: the ways a
// table is read (labels, regression, features, standardizing, quoting, line
// ends, byte order mark, delimiter) and one test per error message, which
// must name the file and the row and column and say what to do.
//
//===----------------------------------------------------------------------===//

#include "data/CsvTable.h"
#include "data/Source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::data;
namespace fs = std::filesystem;

namespace kiln::data {
bool openCsv(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

namespace {

/// EXPECT_CONTAINS(text, part): `part` occurs in `text`.
::testing::AssertionResult contains(const char *, const char *,
                                    const std::string &text,
                                    const std::string &part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "'" << text << "'\n does not contain\n'" << part << "'";
}
#define EXPECT_CONTAINS(text, part) EXPECT_PRED_FORMAT2(contains, text, part)

Field featureField(int64_t count) { return {"x", io::DType::F32, {count}, 0}; }
Field classField(int64_t range = 0) { return {"y", io::DType::I64, {}, range}; }
Field targetField(std::vector<int64_t> shape = {}) {
  return {"y", io::DType::F32, std::move(shape), 0};
}

/// The arguments of a csv(...) call, as kilnc writes them.
struct Recipe {
  std::string train = "train.csv", test, label = "y";
  std::vector<std::string> features;
  bool standardize = false;
  std::string delimiter = ",";
  std::vector<Field> fields = {featureField(2), classField()};
};

/// The features and the label of one example.
struct Row {
  std::vector<float> x;
  int64_t id = -1;
  float target = NAN;
};

Row readRow(const Examples &examples, int64_t index, size_t width) {
  Row row;
  row.x.resize(width);
  void *rows[] = {row.x.data(), &row.id};
  std::string error;
  EXPECT_TRUE(examples.read(index, rows, error)) << error;
  return row;
}

Row readTargetRow(const Examples &examples, int64_t index, size_t width) {
  Row row;
  row.x.resize(width);
  void *rows[] = {row.x.data(), &row.target};
  std::string error;
  EXPECT_TRUE(examples.read(index, rows, error)) << error;
  return row;
}

class CsvTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::path(::testing::TempDir()) / "csv-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override { fs::remove_all(dir); }

  void write(const std::string &name, const std::string &bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
  }

  SourceRequest requestOf(const Recipe &recipe) const {
    SourceRequest request;
    request.args = Arguments({{"train", recipe.train},
                              {"test", recipe.test},
                              {"label", recipe.label},
                              {"features", recipe.features},
                              {"standardize", recipe.standardize},
                              {"delimiter", recipe.delimiter}});
    request.fields = recipe.fields;
    request.dataDir = dir.string();
    return request;
  }

  OpenedSource open(const Recipe &recipe = {}) {
    OpenedSource opened;
    std::string error;
    EXPECT_TRUE(openCsv(requestOf(recipe), opened, error)) << error;
    return opened;
  }

  std::string failure(const Recipe &recipe = {}) {
    OpenedSource opened;
    std::string error;
    EXPECT_FALSE(openCsv(requestOf(recipe), opened, error));
    return error;
  }

  /// The error of a training table `text` read with `recipe`.
  std::string failureOn(const std::string &text, const Recipe &recipe = {}) {
    write("train.csv", text);
    return failure(recipe);
  }

  std::string pathOf(const std::string &name) const {
    return (dir / name).string();
  }

  fs::path dir;
};

TEST_F(CsvTest, TextLabelsAreSortedLikeLabelEncoder) {
  write("train.csv", "a,b,y\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n"
                     "7,8,setosa\n");
  OpenedSource opened = open();
  ASSERT_EQ(opened.train->size(), 4);
  EXPECT_EQ(opened.test->size(), 0);
  std::vector<int64_t> ids;
  for (int64_t i = 0; i < 4; ++i)
    ids.push_back(readRow(*opened.train, i, 2).id);
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 0, 1, 0}));
  Row row = readRow(*opened.train, 2, 2);
  EXPECT_EQ(row.x, (std::vector<float>{5, 6}));
  EXPECT_EQ(opened.metadata["data.classes"],
            "[\"setosa\", \"versicolor\", \"virginica\"]");
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_EQ(opened.notes[0], "classes: 0 setosa, 1 versicolor, 2 virginica");
  EXPECT_EQ(opened.description,
            "csv table " + pathOf("train.csv") + " (2 features, 3 classes)");
}

TEST_F(CsvTest, IntegerLabelsAreTheClassIds) {
  write("train.csv", "a,b,y\n1,2,3\n3,4,0\n5,6,1\n");
  OpenedSource opened = open();
  EXPECT_EQ(readRow(*opened.train, 0, 2).id, 3);
  EXPECT_EQ(readRow(*opened.train, 1, 2).id, 0);
  EXPECT_EQ(opened.metadata.count("data.classes"), 0u);
  ASSERT_EQ(opened.notes.size(), 1u);
  EXPECT_EQ(opened.notes[0], "classes: the labels are the class ids (0 to 3)");
  EXPECT_CONTAINS(opened.description, "(2 features, 4 classes)");
}

TEST_F(CsvTest, ANonIntegerLabelMakesEveryLabelText) {
  write("train.csv", "a,b,y\n1,2,10\n3,4,b\n5,6,9\n");
  OpenedSource opened = open();
  // Sorted by bytes: "10" < "9" < "b".
  EXPECT_EQ(readRow(*opened.train, 0, 2).id, 0);
  EXPECT_EQ(readRow(*opened.train, 1, 2).id, 2);
  EXPECT_EQ(readRow(*opened.train, 2, 2).id, 1);
  EXPECT_EQ(opened.metadata["data.classes"], "[\"10\", \"9\", \"b\"]");
}

TEST_F(CsvTest, ManyClassesAreAbbreviatedInTheNote) {
  std::string text = "a,b,y\n";
  for (int i = 0; i < 30; ++i)
    text += "1,2,c" + std::to_string(100 + i) + "\n";
  write("train.csv", text);
  OpenedSource opened = open();
  EXPECT_CONTAINS(opened.notes[0], "19 c119, ... (30 classes)");
  EXPECT_EQ(opened.notes[0].find("c120"), std::string::npos);
}

TEST_F(CsvTest, LabelNamesAreEscapedInTheMetadata) {
  write("train.csv", "a,b,y\n1,2,\"say \"\"hi\"\"\"\n1,2,back\\slash\n");
  OpenedSource opened = open();
  EXPECT_EQ(opened.metadata["data.classes"],
            "[\"back\\\\slash\", \"say \\\"hi\\\"\"]");
}

TEST_F(CsvTest, RegressionTargetsOfEitherShape) {
  write("train.csv", "a,b,y\n1,2,0.5\n3,4,-2e3\n");
  for (std::vector<int64_t> shape :
       {std::vector<int64_t>{}, std::vector<int64_t>{1}}) {
    Recipe recipe;
    recipe.fields = {featureField(2), targetField(shape)};
    OpenedSource opened = open(recipe);
    EXPECT_FLOAT_EQ(readTargetRow(*opened.train, 0, 2).target, 0.5f);
    EXPECT_FLOAT_EQ(readTargetRow(*opened.train, 1, 2).target, -2000.0f);
    EXPECT_TRUE(opened.notes.empty());
    EXPECT_TRUE(opened.metadata.empty());
    EXPECT_CONTAINS(opened.description, "(2 features, targets 'y')");
  }
}

TEST_F(CsvTest, FeaturesTakeTheListedColumnsInTheirOrder) {
  write("train.csv", "id,a,b,c,y\nfirst,1,2,3,0\nsecond,4,,6,1\n");
  Recipe recipe;
  recipe.features = {"c", "a"};
  OpenedSource opened = open(recipe);
  // The text column "id" and the empty cell of "b" are never read.
  EXPECT_EQ(readRow(*opened.train, 0, 2).x, (std::vector<float>{3, 1}));
  EXPECT_EQ(readRow(*opened.train, 1, 2).x, (std::vector<float>{6, 4}));
}

TEST_F(CsvTest, EveryColumnButTheLabelInFileOrder) {
  write("train.csv", "b,y,a\n1,0,2\n");
  OpenedSource opened = open();
  EXPECT_EQ(readRow(*opened.train, 0, 2).x, (std::vector<float>{1, 2}));
}

TEST_F(CsvTest, StandardizeUsesTheTrainingMeanAndPopulationDeviation) {
  write("train.csv", "a,b,y\n1,5,0\n2,5,1\n3,5,0\n6,5,1\n");
  write("test.csv", "a,b,y\n4,7,0\n");
  Recipe recipe;
  recipe.test = "test.csv";
  recipe.standardize = true;
  OpenedSource opened = open(recipe);
  // a: mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5. b: constant, std 1.
  double sd = std::sqrt(3.5);
  EXPECT_FLOAT_EQ(readRow(*opened.train, 0, 2).x[0], float(-2 / sd));
  EXPECT_FLOAT_EQ(readRow(*opened.train, 3, 2).x[0], float(3 / sd));
  EXPECT_EQ(readRow(*opened.train, 3, 2).x[1], 0.0f);
  Row test = readRow(*opened.test, 0, 2);
  EXPECT_FLOAT_EQ(test.x[0], float(1 / sd));
  EXPECT_EQ(test.x[1], 2.0f);
  EXPECT_EQ(opened.metadata["data.standardize"],
            "{\"mean\": [3, 5], \"std\": [1.8708286933869707, 1]}");
  ASSERT_EQ(opened.notes.size(), 2u);
  EXPECT_CONTAINS(opened.notes[1], "a mean 3 std 1.871, b mean 5 std 1");
}

TEST_F(CsvTest, QuotedCellsHoldDelimitersAndLineBreaks) {
  write("train.csv", "\"a\",\"b, and more\",y\n"
                     "\" 1.5 \",2,\"one, two\"\n"
                     "3,4,\"line\nbreak\"\n"
                     "5,6,\"one, two\"\n");
  Recipe recipe;
  recipe.features = {"a", "b, and more"};
  OpenedSource opened = open(recipe);
  ASSERT_EQ(opened.train->size(), 3);
  EXPECT_EQ(readRow(*opened.train, 0, 2).x, (std::vector<float>{1.5, 2}));
  EXPECT_EQ(opened.metadata["data.classes"],
            "[\"line\\nbreak\", \"one, two\"]");
  // The cell with a line break is in one row: the next row is row 3.
  std::string error = failureOn("a,b,y\n1,2,\"x\ny\"\nbad,2,z\n");
  EXPECT_CONTAINS(error, ": row 3, column 1 ('a'): 'bad'");
}

TEST_F(CsvTest, CrLfLineEndsAndBlankLines) {
  write("train.csv", "a,b,y\r\n1,2,0\r\n\r\n3,4,1\r\n");
  OpenedSource opened = open();
  ASSERT_EQ(opened.train->size(), 2);
  EXPECT_EQ(readRow(*opened.train, 1, 2).x, (std::vector<float>{3, 4}));
  EXPECT_EQ(readRow(*opened.train, 1, 2).id, 1);
  // Blank lines are skipped but counted, as a spreadsheet numbers its rows.
  EXPECT_CONTAINS(failureOn("a,b,y\r\n1,2,0\r\n\r\n\n3,x,1\r\n"),
                  "row 5, column 2 ('b')");
}

TEST_F(CsvTest, AByteOrderMarkIsNotPartOfTheFirstName) {
  write("train.csv", "\xEF\xBB\xBF\"a\",b,y\n1,2,0\n");
  Recipe recipe;
  recipe.features = {"a", "b"};
  EXPECT_EQ(open(recipe).train->size(), 1);
}

TEST_F(CsvTest, SemicolonDelimiter) {
  write("train.csv", "a;b;y\n1.5;2;x,y\n");
  Recipe recipe;
  recipe.delimiter = ";";
  OpenedSource opened = open(recipe);
  EXPECT_EQ(readRow(*opened.train, 0, 2).x, (std::vector<float>{1.5, 2}));
  EXPECT_EQ(opened.metadata["data.classes"], "[\"x,y\"]");
}

TEST_F(CsvTest, TestSplitAndPaths) {
  write("train.csv", "a,b,y\n1,2,cat\n3,4,dog\n");
  write("test.csv", "a,b,y\n5,6,dog\n");
  Recipe recipe;
  recipe.test = "test.csv";
  OpenedSource opened = open(recipe);
  ASSERT_EQ(opened.test->size(), 1);
  EXPECT_EQ(readRow(*opened.test, 0, 2).id, 1);
  EXPECT_EQ(opened.description, "csv table " + pathOf("train.csv") +
                                    " (2 features, 2 classes) and " +
                                    pathOf("test.csv"));
  // An absolute path is not read from the data directory.
  recipe.train = pathOf("train.csv");
  recipe.test = "";
  EXPECT_EQ(open(recipe).train->size(), 2);
  // A test table with a header alone is an empty test split.
  write("test.csv", "a,b,y\n");
  recipe.test = "test.csv";
  EXPECT_EQ(open(recipe).test->size(), 0);
}

TEST_F(CsvTest, NumbersAsStrtodReadThem) {
  write("train.csv", "a,b,y\n +2 ,1e-3,0\n\" -0.25\t\",0x10,0");
  OpenedSource opened = open();
  EXPECT_EQ(readRow(*opened.train, 0, 2).x, (std::vector<float>{2, 1e-3f}));
  EXPECT_EQ(readRow(*opened.train, 1, 2).x, (std::vector<float>{-0.25, 16}));
  double value;
  EXPECT_EQ(parseCsvNumber("nan", value), CsvNumber::Missing);
  EXPECT_EQ(parseCsvNumber("NAN", value), CsvNumber::Missing);
  EXPECT_EQ(parseCsvNumber("-Infinity", value), CsvNumber::Infinite);
  EXPECT_EQ(parseCsvNumber("1,5", value), CsvNumber::NotANumber);
  EXPECT_EQ(parseCsvNumber(std::string("1\0", 2), value),
            CsvNumber::NotANumber);
  EXPECT_EQ(parseCsvNumber(std::string(100, '1'), value), CsvNumber::Finite);
}

TEST_F(CsvTest, ExamplesAreReadFromSeveralThreads) {
  std::string text = "a,b,y\n";
  for (int i = 0; i < 1000; ++i)
    text += std::to_string(i) + "," + std::to_string(-i) + "," +
            std::to_string(i % 3) + "\n";
  write("train.csv", text);
  OpenedSource opened = open();
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int64_t i = t; i < 1000; i += 4) {
        Row row = readRow(*opened.train, i, 2);
        wrong[t] += row.x[0] != i || row.x[1] != -i || row.id != i % 3;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(wrong, (std::vector<int>(4, 0)));
}

// The errors, each once.

TEST_F(CsvTest, MissingFile) {
  std::string error = failure();
  EXPECT_CONTAINS(error, pathOf("train.csv") + ": cannot open the file "
                                               "(No such file");
  EXPECT_CONTAINS(error, "check the path");
}

TEST_F(CsvTest, UnreadableFile) {
  fs::create_directory(dir / "train.csv");
  EXPECT_CONTAINS(failure(), "train.csv: byte 0: cannot read the file "
                             "(Is a directory); give the path of a "
                             "readable CSV file");
}

TEST_F(CsvTest, EmptyFile) {
  EXPECT_CONTAINS(failureOn("\n\n"),
                  "train.csv: the file has no header row (it is "
                  "empty); its first row must name the columns");
}

TEST_F(CsvTest, UnnamedColumn) {
  EXPECT_CONTAINS(failureOn(",a,y\n0,1,2\n"),
                  "train.csv: row 1, column 1: the column has no name; "
                  "name every column in the header row (pandas");
}

TEST_F(CsvTest, DuplicateColumnNames) {
  EXPECT_CONTAINS(failureOn("a, b ,b,y\n"),
                  "train.csv: row 1, column 3 ('b'): column 2 has the "
                  "same name; give the columns distinct names");
}

TEST_F(CsvTest, NoLabelColumn) {
  Recipe recipe;
  recipe.label = "species";
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,3\n", recipe),
                  "train.csv: row 1: no column is named 'species', the "
                  "label; the columns are a, b, y; set label: to one");
}

TEST_F(CsvTest, NoFeatureColumn) {
  Recipe recipe;
  recipe.features = {"a", "petal"};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,3\n", recipe),
                  "train.csv: row 1: no column is named 'petal', which "
                  "features lists; the columns are a, b, y; correct");
}

TEST_F(CsvTest, LabelListedInFeatures) {
  Recipe recipe;
  recipe.features = {"a", "y"};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,3\n", recipe),
                  "train.csv: row 1, column 3 ('y'): the label column "
                  "is also listed in features; remove it");
}

TEST_F(CsvTest, FeatureListedTwice) {
  Recipe recipe;
  recipe.features = {"b", "b"};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,3\n", recipe),
                  "train.csv: row 1, column 2 ('b'): features lists the "
                  "column twice; list each column once");
}

TEST_F(CsvTest, OnlyTheLabelColumn) {
  EXPECT_CONTAINS(failureOn("y\n1\n"),
                  "train.csv: row 1: the table has no column besides "
                  "the label 'y'; add the feature columns");
}

TEST_F(CsvTest, FeatureCountDiffersFromTheInput) {
  std::string error = failureOn("\na,b,c,y\n1,2,3,0\n");
  EXPECT_CONTAINS(error, "train.csv: row 2: the table has 3 feature "
                         "columns (a, b, c), but the model's input 'x' "
                         "is f32[batch, 2]; declare it f32[batch, 3], "
                         "or list the 2 columns you want in features");
}

TEST_F(CsvTest, NoDataRows) {
  EXPECT_CONTAINS(failureOn("a,b,y\n\n"),
                  "train.csv: the table has a header (row 1) but no "
                  "data rows; add one row per training example");
}

TEST_F(CsvTest, NotANumber) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0\n1,abc,0\n"),
                  "train.csv: row 3, column 2 ('b'): 'abc' is not a "
                  "number; features must be numbers: encode a text "
                  "column as numbers (pandas.get_dummies");
}

TEST_F(CsvTest, TargetNotANumber) {
  Recipe recipe;
  recipe.fields = {featureField(2), targetField()};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,cat\n", recipe),
                  "train.csv: row 2, column 3 ('y'): 'cat' is not a "
                  "number; regression targets must be numbers (declare "
                  "the label i64");
}

TEST_F(CsvTest, EmptyCellIsAMissingValue) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1, ,0\n"),
                  "train.csv: row 2, column 2 ('b'): missing value (the "
                  "cell is empty); fill or drop the rows with missing "
                  "values (pandas: df.dropna()");
}

TEST_F(CsvTest, MarkersAreMissingValues) {
  for (const char *marker : {"NA", "NaN", "nan", "N/A", "null"})
    EXPECT_CONTAINS(failureOn("a,b,y\n" + std::string(marker) + ",1,0\n"),
                    "row 2, column 1 ('a'): missing value ('" +
                        std::string(marker) + "'); fill or drop");
}

TEST_F(CsvTest, MissingLabel) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,\"\"\n"),
                  "train.csv: row 2, column 3 ('y'): missing value (the "
                  "label is empty); fill or drop");
}

TEST_F(CsvTest, LabelNotUtf8) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,caf\xE9\n"),
                  "train.csv: row 2, column 3 ('y'): the label 'caf\xE9' "
                  "is not valid UTF-8; save the table as UTF-8");
}

TEST_F(CsvTest, Infinity) {
  for (const char *cell : {"inf", "-Infinity", "1e999"})
    EXPECT_CONTAINS(failureOn("a,b,y\n1," + std::string(cell) + ",0\n"),
                    "train.csv: row 2, column 2 ('b'): '" + std::string(cell) +
                        "' is infinite; features and targets must be "
                        "finite numbers");
}

TEST_F(CsvTest, ShortRow) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0\n1,2\n"),
                  "train.csv: row 3, column 3 ('y'): the row ends after "
                  "2 cells, but the header has 3 columns; give every "
                  "row a cell for each column, or drop the row");
}

TEST_F(CsvTest, LongRow) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0,\n"),
                  "train.csv: row 2, column 4: the row has more cells "
                  "than the header's 3 columns; remove the extra "
                  "cells, or quote the cells that contain the "
                  "delimiter ','");
}

TEST_F(CsvTest, UnterminatedQuote) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0\n3,\"4,0\n5,6,0\n"),
                  "train.csv: row 3, column 2 ('b'): the quoted cell "
                  "that starts here has no closing quote: the file "
                  "ends inside it (at byte 25); add the closing quote");
}

TEST_F(CsvTest, QuoteInsideACell) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,5 \"inch\",0\n"),
                  "train.csv: row 2, column 2 ('b'), byte 10: a quote "
                  "inside a cell that does not start with one; quote "
                  "the whole cell and double the quotes in it");
}

TEST_F(CsvTest, TextAfterAClosingQuote) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,\"5\" inch,0\n"),
                  "train.csv: row 2, column 2 ('b'), byte 12: text "
                  "after the closing quote of a quoted cell; put the "
                  "whole cell inside the quotes");
}

class CsvTestSplitTest : public CsvTest {
protected:
  std::string testFailure(const std::string &test, Recipe recipe = {}) {
    write("train.csv", "a,b,y\n1,2,3\n3,4,1\n");
    write("test.csv", test);
    recipe.test = "test.csv";
    return failure(recipe);
  }
};

TEST_F(CsvTestSplitTest, OtherColumnName) {
  EXPECT_CONTAINS(testFailure("a,c,y\n1,2,3\n"),
                  "test.csv: row 1, column 2 ('c'): column 2 of the "
                  "training table " +
                      pathOf("train.csv") +
                      " is 'b'; give this table the training table's "
                      "columns, in the same order");
}

TEST_F(CsvTestSplitTest, FewerColumns) {
  EXPECT_CONTAINS(testFailure("a,b\n1,2\n"),
                  "test.csv: row 1: the table has 2 columns, the "
                  "training table " +
                      pathOf("train.csv") +
                      " 3: column 3 ('y') is missing; give this table");
}

TEST_F(CsvTestSplitTest, MoreColumns) {
  EXPECT_CONTAINS(testFailure("a,b,y,z\n1,2,3,4\n"),
                  "test.csv: row 1, column 4 ('z'): the column is not "
                  "in the training table " +
                      pathOf("train.csv") + ", which has 3 columns");
}

TEST_F(CsvTestSplitTest, LabelThatIsNotAClassId) {
  EXPECT_CONTAINS(testFailure("a,b,y\n1,2,3\n1,2,dog\n"),
                  "test.csv: row 3, column 3 ('y'): the label 'dog' is "
                  "not a class id, and the training table's labels are "
                  "class ids (0 to 3); write the test labels as the same");
}

TEST_F(CsvTestSplitTest, LabelNotInTraining) {
  write("train.csv", "a,b,y\n1,2,cat\n3,4,dog\n");
  write("test.csv", "a,b,y\n1,2,dog\n\n1,2,emu\n");
  Recipe recipe;
  recipe.test = "test.csv";
  EXPECT_CONTAINS(failure(recipe),
                  "test.csv: row 4, column 3 ('y'): the label 'emu' is "
                  "not one of the training table's 2 classes (cat, "
                  "dog); the model cannot be tested on a class it never "
                  "trained on");
}

TEST_F(CsvTestSplitTest, StandardizedValueBeyondFloat) {
  Recipe recipe;
  recipe.standardize = true;
  EXPECT_CONTAINS(testFailure("a,b,y\n1,1e300,3\n", recipe),
                  "test.csv: row 2, column 2 ('b'): the value "
                  "standardizes to 1e+300, beyond the range of 32-bit "
                  "floats (about 3.4e38), which the model's inputs "
                  "hold; it lies far outside the training table's");
}

TEST_F(CsvTestSplitTest, ClassIdAboveTheRange) {
  Recipe recipe;
  recipe.fields = {featureField(2), classField(4)};
  EXPECT_CONTAINS(testFailure("a,b,y\n1,2,3\n1,2,4\n", recipe),
                  "test.csv: row 3, column 3 ('y'): class 4 is not "
                  "below 4, the number of classes of the model's "
                  "output; give the model at least 5 outputs, or drop "
                  "the rows of classes above 3");
}

TEST_F(CsvTest, TrainingClassIdAboveTheRange) {
  Recipe recipe;
  recipe.fields = {featureField(2), classField(3)};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0\n1,2,2\n1,2,7\n", recipe),
                  "train.csv: row 4, column 3 ('y'): class 7 is not "
                  "below 3");
}

TEST_F(CsvTest, MoreTextClassesThanTheRange) {
  Recipe recipe;
  recipe.fields = {featureField(2), classField(2)};
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,a\n1,2,c\n1,2,b\n", recipe),
                  "train.csv: row 1, column 3 ('y'): the table has 3 "
                  "classes (a, b, c), but the model's output has 2; "
                  "give the model 3 outputs, or drop the rows");
}

TEST_F(CsvTest, FeatureBeyondFloat) {
  EXPECT_CONTAINS(failureOn("a,b,y\n1,2,0\n1,-1e39,0\n"),
                  "train.csv: row 3, column 2 ('b'): the value -1e+39, "
                  "beyond the range of 32-bit floats (about 3.4e38), "
                  "which the model's inputs hold; divide the column by "
                  "a power of ten, or set standardize: true");
  // Standardized, the same column is fine.
  Recipe recipe;
  recipe.standardize = true;
  EXPECT_EQ(open(recipe).train->size(), 2);
}

TEST_F(CsvTest, TargetBeyondFloat) {
  Recipe recipe;
  recipe.fields = {featureField(2), targetField({1})};
  std::string error = failureOn("a,b,y\n1,2,1e39\n", recipe);
  EXPECT_CONTAINS(error, "train.csv: row 2, column 3 ('y'): the value "
                         "1e+39, beyond the range of 32-bit floats");
  EXPECT_CONTAINS(error, "divide the column by a power of ten");
  EXPECT_EQ(error.find("standardize"), std::string::npos);
}

TEST_F(CsvTest, ColumnTooLargeToStandardize) {
  Recipe recipe;
  recipe.standardize = true;
  EXPECT_CONTAINS(failureOn("a,b,y\n1,1e308,0\n1,-1e308,0\n", recipe),
                  "train.csv: row 1, column 2 ('b'): the column's "
                  "values are too large to standardize (their mean or "
                  "standard deviation overflows a double)");
}

TEST_F(CsvTest, WrongNumberOfInputs) {
  write("train.csv", "a,b,y\n1,2,0\n");
  Recipe recipe;
  recipe.fields = {featureField(2), classField(), classField()};
  EXPECT_CONTAINS(failure(recipe),
                  "train.csv: csv fills 2 inputs, the features and then "
                  "the label, but the model has 3; declare the features"
                  " f32[batch, F], then the label");
}

TEST_F(CsvTest, FeaturesInputOfTheWrongType) {
  write("train.csv", "a,b,y\n1,2,0\n");
  Recipe recipe;
  recipe.fields = {{"x", io::DType::F32, {2, 1}, 0}, classField()};
  EXPECT_CONTAINS(failure(recipe),
                  "train.csv: the model's input 'x' is f32[batch, 2, "
                  "1], but csv fills its first input with the "
                  "features, f32[batch, F]; declare it so");
}

TEST_F(CsvTest, LabelInputOfTheWrongType) {
  write("train.csv", "a,b,y\n1,2,0\n");
  Recipe recipe;
  recipe.fields = {featureField(2), {"y", io::DType::I64, {1}, 0}};
  EXPECT_CONTAINS(failure(recipe),
                  "train.csv: the model's input 'y' is i64[batch, 1], "
                  "but csv fills its second input with the label: "
                  "declare it i64[batch] for class ids, or f32[batch] "
                  "or f32[batch, 1] for regression targets");
}

TEST_F(CsvTest, BadDelimiter) {
  write("train.csv", "a,b,y\n1,2,0\n");
  for (const char *delimiter : {"\"", ";;", "\xC2\xA7"}) {
    Recipe recipe;
    recipe.delimiter = delimiter;
    EXPECT_CONTAINS(failure(recipe),
                    "train.csv: the delimiter '" + std::string(delimiter) +
                        "' is not one byte other than a quote or a line "
                        "break; give one ASCII character");
  }
}

/// Opens `request` with 64 MB of address space more than the process has,
/// prints the error and exits with 0 when the open failed.
[[noreturn]] void openWithLittleMemory(const SourceRequest &request) {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  rlim_t limit = pages * ::sysconf(_SC_PAGESIZE) + (rlim_t(64) << 20);
  struct rlimit rl = {limit, limit};
  ::setrlimit(RLIMIT_AS, &rl);
  OpenedSource opened;
  std::string error;
  bool opens = openCsv(request, opened, error);
  std::fprintf(stderr, "%s\n", error.c_str());
  std::exit(opens ? 1 : 0);
}

TEST_F(CsvTest, OutOfMemory) {
  // The rows' doubles, row numbers and labels need far more than 64 MB.
  std::string text = "a,b,y\n";
  for (int i = 0; i < 4000000; ++i)
    text += "1,2,0\n";
  write("train.csv", text);
  EXPECT_EXIT(openWithLittleMemory(requestOf({})), ::testing::ExitedWithCode(0),
              "train.csv: out of memory while reading the table, which csv "
              "holds in memory");
}

} // namespace
