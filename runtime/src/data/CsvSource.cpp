//===- CsvSource.cpp - The csv(...) source: a table's rows as examples ----===//
//
// The model's first input takes a row's feature columns as f32[F], its
// second the label column: i64 class ids, or f32 targets for a regression.
// Text labels become ids as sklearn's LabelEncoder makes them (the sorted
// distinct names); labels that are all non-negative integers are the ids
// themselves, as torch.tensor(df.label) reads them.
//
// The tables live in memory: while a table is read, 8 bytes per kept cell
// (doubles, so that standardizing rounds to float once, as pandas and
// sklearn do), then 4 in the examples. Data larger than memory belongs in
// tensors(...), which maps its files.
//
//===----------------------------------------------------------------------===//

#include "data/CsvTable.h"
#include "data/Source.h"
#include "data/Text.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <new>
#include <unordered_map>

using namespace kiln;
using namespace kiln::data;

namespace kiln::data {
bool openCsv(const SourceRequest &request, OpenedSource &opened,
             std::string &error);
} // namespace kiln::data

namespace {

/// Names of classes or columns shown in notes and messages before "...".
constexpr size_t kListed = 20;

/// Four significant digits, for notes and messages: "0.1235".
std::string fourDigits(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

/// The shortest text that reads back as `value`: JSON that keeps every bit.
std::string exactNumber(double value) {
  char text[32];
  auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

std::string jsonNumbers(const std::vector<double> &values) {
  std::string json = "[";
  for (size_t i = 0; i < values.size(); ++i)
    json += (i ? ", " : "") + exactNumber(values[i]);
  return json + "]";
}

/// Checks the model's two inputs; `classes` tells an i64 label from f32
/// targets.
bool checkInputs(const std::vector<Field> &fields, const std::string &path,
                 bool &classes, std::string &error) {
  if (fields.size() != 2) {
    error = path +
            ": csv fills 2 inputs, the features and then the label, "
            "but the model has " +
            std::to_string(fields.size()) +
            "; declare the features f32[batch, F], then the label i64[batch] "
            "(class ids) or f32[batch] (regression targets)";
    return false;
  }
  const Field &x = fields[0], &y = fields[1];
  if (x.dtype != io::DType::F32 || x.shape.size() != 1) {
    error = path + ": the model's input '" + x.name + "' is " +
            formatDeclaredField(x) +
            ", but csv fills its first input with the features, "
            "f32[batch, F]; declare it so, with F the number of feature "
            "columns";
    return false;
  }
  classes = y.dtype == io::DType::I64 && y.shape.empty();
  bool targets = y.dtype == io::DType::F32 &&
                 (y.shape.empty() || y.shape == std::vector<int64_t>{1});
  if (!classes && !targets) {
    error = path + ": the model's input '" + y.name + "' is " +
            formatDeclaredField(y) +
            ", but csv fills its second input with the label: declare it "
            "i64[batch] for class ids, or f32[batch] or f32[batch, 1] for "
            "regression targets";
    return false;
  }
  return true;
}

/// How the training split's labels become class ids.
struct Classes {
  /// Every label is an integer, which is its id.
  bool integers = false;
  /// Otherwise the names, sorted by bytes: the id of a name is its index.
  std::vector<std::string> names;
  std::unordered_map<std::string, int64_t> ids;
  /// The number of classes: the names, or the largest id plus one.
  int64_t count = 0;
};

Classes classesOf(const CsvTable &train) {
  Classes classes;
  classes.integers = true;
  int64_t largest = -1;
  for (const std::string &name : train.labelNames) {
    int64_t id;
    if (!parseCsvClassId(name, id)) {
      classes.integers = false;
      break;
    }
    largest = std::max(largest, id);
  }
  if (classes.integers) {
    classes.count = largest + 1;
    return classes;
  }
  classes.names = train.labelNames;
  std::sort(classes.names.begin(), classes.names.end());
  for (size_t id = 0; id < classes.names.size(); ++id)
    classes.ids.emplace(classes.names[id], id);
  classes.count = static_cast<int64_t>(classes.names.size());
  return classes;
}

/// The class ids of a table's rows, each checked against the model's range.
bool classIds(const CsvTable &table, const Classes &classes, const Field &y,
              io::TensorData &out, std::string &error) {
  // The id of each distinct label, -1 when it has none.
  std::vector<int64_t> idOf(table.labelNames.size(), -1);
  for (size_t d = 0; d < idOf.size(); ++d) {
    const std::string &name = table.labelNames[d];
    int64_t id;
    if (classes.integers) {
      idOf[d] = parseCsvClassId(name, id) ? id : -1;
    } else if (auto it = classes.ids.find(name); it != classes.ids.end()) {
      idOf[d] = it->second;
    }
  }
  out = io::TensorData::zeros(io::DType::I64, {table.rows()});
  int64_t *ids = out.data<int64_t>();
  for (int64_t i = 0; i < table.rows(); ++i) {
    int64_t id = idOf[table.labels[i]];
    if (id >= 0 && (y.range == 0 || id < y.range)) {
      ids[i] = id;
      continue;
    }
    std::string where = table.where(table.rowNumbers[i], table.labelColumn);
    const std::string &name = table.labelNames[table.labels[i]];
    if (id < 0 && classes.integers) {
      error = where + ": the label " + quoteCsvCell(name) +
              " is not a class id, and the training table's labels are "
              "class ids (0 to " +
              std::to_string(classes.count - 1) +
              "); write the test labels as the same integers";
      return false;
    }
    if (id < 0) {
      error = where + ": the label " + quoteCsvCell(name) +
              " is not one of the training table's " +
              std::to_string(classes.count) + " classes (" +
              listCsvNames(classes.names, kListed) +
              "); the model cannot be tested on a class it never trained "
              "on: drop these rows, or add examples of the class to the "
              "training table";
      return false;
    }
    error = where + ": class " + std::to_string(id) + " is not below " +
            std::to_string(y.range) +
            ", the number of classes of the model's output; give the "
            "model at least " +
            std::to_string(id + 1) + " outputs, or drop the rows of " +
            (y.range == 1 ? "classes other than 0"
                          : "classes above " + std::to_string(y.range - 1));
    return false;
  }
  return true;
}

/// The mean and population standard deviation of each feature column.
struct Scaling {
  std::vector<double> mean, deviation;
};

bool scalingOf(const CsvTable &train, Scaling &scaling, std::string &error) {
  size_t width = train.featureColumns.size();
  auto rows = static_cast<size_t>(train.rows());
  const std::vector<double> &x = train.features;
  // Two passes, as numpy's var: the squares of the deviations, not of the
  // values, so that a large mean costs no precision.
  std::vector<double> sum(width, 0.0), squares(width, 0.0);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < width; ++j)
      sum[j] += x[i * width + j];
  scaling.mean.resize(width);
  for (size_t j = 0; j < width; ++j)
    scaling.mean[j] = sum[j] / rows;
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < width; ++j) {
      double deviation = x[i * width + j] - scaling.mean[j];
      squares[j] += deviation * deviation;
    }
  scaling.deviation.resize(width);
  for (size_t j = 0; j < width; ++j) {
    scaling.deviation[j] = std::sqrt(squares[j] / rows);
    if (!std::isfinite(scaling.mean[j]) ||
        !std::isfinite(scaling.deviation[j])) {
      error = train.where(train.headerRow, train.featureColumns[j]) +
              ": the column's values are too large to standardize (their "
              "mean or standard deviation overflows a double); divide the "
              "column by a power of ten";
      return false;
    }
    // A constant column, as StandardScaler leaves it: centred, not scaled.
    if (scaling.deviation[j] == 0)
      scaling.deviation[j] = 1;
  }
  return true;
}

/// `value` as the f32 the model reads, or an error at `row` and `column`.
bool toFloat(double value, const CsvTable &table, int64_t row, size_t column,
             bool standardized, const char *hint, float &out,
             std::string &error) {
  if (std::fabs(value) <= FLT_MAX) {
    out = static_cast<float>(value);
    return true;
  }
  error = table.where(row, column) +
          (standardized ? ": the value standardizes to " : ": the value ") +
          fourDigits(value) +
          ", beyond the range of 32-bit floats (about 3.4e38), which the "
          "model's inputs hold; " +
          (standardized ? "it lies far outside the training table's values: "
                          "correct it, or drop the row"
                        : hint);
  return false;
}

bool featureTensor(const CsvTable &table, const Scaling *scaling,
                   io::TensorData &out, std::string &error) {
  size_t width = table.featureColumns.size();
  out = io::TensorData::zeros(io::DType::F32,
                              {table.rows(), static_cast<int64_t>(width)});
  float *values = out.data<float>();
  for (int64_t i = 0; i < table.rows(); ++i)
    for (size_t j = 0; j < width; ++j) {
      size_t at = i * width + j;
      double value = table.features[at];
      if (scaling)
        value = (value - scaling->mean[j]) / scaling->deviation[j];
      if (!toFloat(value, table, table.rowNumbers[i], table.featureColumns[j],
                   scaling,
                   "divide the column by a power of ten, or set "
                   "standardize: true",
                   values[at], error))
        return false;
    }
  return true;
}

bool targetTensor(const CsvTable &table, const Field &y, io::TensorData &out,
                  std::string &error) {
  std::vector<int64_t> shape = {table.rows()};
  shape.insert(shape.end(), y.shape.begin(), y.shape.end());
  out = io::TensorData::zeros(io::DType::F32, shape);
  for (int64_t i = 0; i < table.rows(); ++i)
    if (!toFloat(table.targets[i], table, table.rowNumbers[i],
                 table.labelColumn, false,
                 "divide the column by a power of ten", out.data<float>()[i],
                 error))
      return false;
  return true;
}

std::string classesNote(const Classes &classes) {
  if (classes.integers)
    return "classes: the labels are the class ids (0 to " +
           std::to_string(classes.count - 1) + ")";
  std::string note = "classes:";
  for (size_t id = 0; id < classes.names.size() && id < kListed; ++id)
    note += (id ? ", " : " ") + std::to_string(id) + " " + classes.names[id];
  if (classes.names.size() > kListed)
    note += ", ... (" + std::to_string(classes.names.size()) + " classes)";
  return note;
}

std::string scalingNote(const CsvTable &train, const Scaling &scaling) {
  std::string note = "standardize: each feature minus its mean, over its "
                     "standard deviation, in the training table:";
  size_t width = train.featureColumns.size();
  for (size_t j = 0; j < width && j < kListed; ++j)
    note += (j ? ", " : " ") + train.header[train.featureColumns[j]] +
            " mean " + fourDigits(scaling.mean[j]) + " std " +
            fourDigits(scaling.deviation[j]);
  if (width > kListed)
    note += ", ... (" + std::to_string(width) + " features)";
  return note;
}

/// openCsv once the paths are known; may throw std::bad_alloc, and sets
/// `reading` to the file it reads for that message.
bool open(const SourceRequest &request, const std::string &trainPath,
          const std::string &testPath, std::string &reading,
          OpenedSource &opened, std::string &error) {
  const Arguments &args = request.args;
  const std::string &delimiter = args.string("delimiter");
  if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n" ||
      delimiter == "\r") {
    error = trainPath + ": the delimiter '" + delimiter +
            "' is not one byte other than a quote or a line break; give one "
            "ASCII character, such as \",\", \";\" or \"\\t\"";
    return false;
  }
  bool classification;
  if (!checkInputs(request.fields, trainPath, classification, error))
    return false;
  const Field &x = request.fields[0], &y = request.fields[1];

  CsvOptions options;
  options.delimiter = delimiter[0];
  options.label = args.string("label");
  options.features = args.strings("features");
  options.numericLabel = !classification;
  options.checkHeader = [&](const CsvTable &table, std::string &problem) {
    int64_t width = static_cast<int64_t>(table.featureColumns.size());
    if (width == x.shape[0])
      return true;
    std::vector<std::string> names;
    for (size_t column : table.featureColumns)
      names.push_back(table.header[column]);
    problem = table.path + ": row " + std::to_string(table.headerRow) +
              ": the table has " + std::to_string(width) +
              " feature columns (" + listCsvNames(names, kListed) +
              "), but the model's input '" + x.name + "' is " +
              formatDeclaredField(x) + "; declare it f32[batch, " +
              std::to_string(width) + "], or list the " +
              std::to_string(x.shape[0]) + " columns you want in features";
    return false;
  };
  CsvTable train, test;
  reading = trainPath;
  if (!readCsvTable(trainPath, options, train, error))
    return false;
  if (train.rows() == 0) {
    error = trainPath + ": the table has a header (row " +
            std::to_string(train.headerRow) +
            ") but no data rows; add one row per training example";
    return false;
  }
  if (!testPath.empty()) {
    options.checkHeader = nullptr;
    options.expectedHeader = train.header;
    options.expectedFile = trainPath;
    reading = testPath;
    if (!readCsvTable(testPath, options, test, error))
      return false;
  }

  std::vector<io::TensorData> trainFields(2), testFields(2);
  std::string kind;
  if (classification) {
    Classes classes = classesOf(train);
    if (!classes.integers && y.range > 0 && classes.count > y.range) {
      error = train.where(train.headerRow, train.labelColumn) +
              ": the table has " + std::to_string(classes.count) +
              " classes (" + listCsvNames(classes.names, kListed) +
              "), but the model's output has " + std::to_string(y.range) +
              "; give the model " + std::to_string(classes.count) +
              " outputs, or drop the rows of the classes it should not learn";
      return false;
    }
    if (!classIds(train, classes, y, trainFields[1], error) ||
        (!testPath.empty() &&
         !classIds(test, classes, y, testFields[1], error)))
      return false;
    opened.notes.push_back(classesNote(classes));
    if (!classes.integers) {
      opened.metadata["data.classes"] = jsonStringList(classes.names);
    }
    kind = std::to_string(classes.count) +
           (classes.count == 1 ? " class" : " classes");
  } else {
    if (!targetTensor(train, y, trainFields[1], error) ||
        (!testPath.empty() && !targetTensor(test, y, testFields[1], error)))
      return false;
    kind = "targets '" + options.label + "'";
  }

  Scaling scaling;
  bool standardize = args.boolean("standardize");
  if (standardize) {
    if (!scalingOf(train, scaling, error))
      return false;
    opened.notes.push_back(scalingNote(train, scaling));
    opened.metadata["data.standardize"] =
        "{\"mean\": " + jsonNumbers(scaling.mean) +
        ", \"std\": " + jsonNumbers(scaling.deviation) + "}";
  }
  const Scaling *scale = standardize ? &scaling : nullptr;
  if (!featureTensor(train, scale, trainFields[0], error) ||
      (!testPath.empty() && !featureTensor(test, scale, testFields[0], error)))
    return false;

  size_t width = train.featureColumns.size();
  opened.description = "csv table " + trainPath + " (" + std::to_string(width) +
                       (width == 1 ? " feature, " : " features, ") + kind +
                       ")" + (testPath.empty() ? "" : " and " + testPath);
  opened.train = std::make_unique<TensorExamples>(std::move(trainFields));
  opened.test = testPath.empty()
                    ? noExamples()
                    : std::make_unique<TensorExamples>(std::move(testFields));
  return true;
}

} // namespace

bool data::openCsv(const SourceRequest &request, OpenedSource &opened,
                   std::string &error) {
  std::string trainPath = request.resolve(request.args.string("train"));
  const std::string &test = request.args.string("test");
  std::string testPath = test.empty() ? "" : request.resolve(test);
  std::string reading = trainPath;
  try {
    OpenedSource result;
    if (!open(request, trainPath, testPath, reading, result, error))
      return false;
    opened = std::move(result);
    return true;
  } catch (const std::bad_alloc &) {
    error = reading +
            ": out of memory while reading the table, which csv holds in "
            "memory (8 bytes per feature cell while reading, then 4); use a "
            "machine with more memory, or save the data as .npy arrays for "
            "tensors(...), which maps them";
    return false;
  }
}
