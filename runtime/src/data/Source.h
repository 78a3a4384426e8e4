//===- Source.h - A data source: its arguments, examples and registry -----===//
//
// A source turns the recipe's `data = name(args...)` into two splits of
// examples that can be read one at a time, by index, from any thread: the
// trainer's batch thread reads the next batch while the compiled step runs,
// so a source never has to hold its data in memory. Each source writes every
// example straight in the element type and shape of the model's inputs (the
// Fields it is opened with), so the trainer copies bytes and converts
// nothing.
//
// Adding a source is one entry here (its open function, in Sources.cpp) and
// one entry in the compiler's table (compiler/Frontend/DataSources.cpp),
// which names its arguments, their types and defaults. kilnc writes every
// argument, defaults filled in, so a source reads them and never repeats a
// default.
//
// No exception leaves the data layer except Arguments' on a description that
// kilnc cannot have written; every data error is a message that names the
// file and the byte offset, or the row and column, and says what to do.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_SOURCE_H
#define KILN_RUNTIME_DATA_SOURCE_H

#include "io/Safetensors.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kiln::data {

/// One input of the model as a source must fill it.
struct Field {
  /// The model's name for the input ("image", "label").
  std::string name;
  /// F32 or I64.
  io::DType dtype = io::DType::F32;
  /// The shape of one example: the input's shape without the batch size.
  std::vector<int64_t> shape;
  /// I64 inputs: their values must lie in [0, range); 0 when unbounded.
  int64_t range = 0;
  /// I64 inputs with a range: a value outside it that is accepted too (the
  /// label that the loss ignores).
  std::optional<int64_t> ignoreIndex = std::nullopt;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * io::dtypeSize(dtype); }
};

/// The examples of one split.
class Examples {
public:
  virtual ~Examples();

  virtual int64_t size() const = 0;

  /// Writes example `index` (0 <= index < size()) to rows[f] for every field
  /// f: Field::numBytes() bytes in the field's type and shape. May be called
  /// from several threads at once. On failure returns false and sets
  /// `error`, naming the file and the example.
  virtual bool read(int64_t index, void *const *rows,
                    std::string &error) const = 0;
};

/// A split with no examples.
std::unique_ptr<Examples> noExamples();

/// Examples held in memory: one tensor per field whose first dimension
/// indexes the examples (what the built-in loaders make).
class TensorExamples : public Examples {
public:
  explicit TensorExamples(std::vector<io::TensorData> fields);

  int64_t size() const override;
  bool read(int64_t index, void *const *rows,
            std::string &error) const override;
  const std::vector<io::TensorData> &fields() const { return tensors; }

private:
  std::vector<io::TensorData> tensors;
};

/// The value of one argument, as the description's JSON holds it.
using ArgumentValue =
    std::variant<bool, int64_t, double, std::string, std::vector<double>,
                 std::vector<std::string>>;

/// Thrown by Arguments when the description lacks an argument that kilnc
/// always writes, or gives it another type: the trainer's object file and
/// runtime disagree.
struct BadArgument : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The arguments of the recipe's source call, every default filled in by
/// kilnc. An integer stands for a real number where one is asked for; an
/// empty list is a list of any type.
class Arguments {
public:
  Arguments() = default;
  explicit Arguments(std::map<std::string, ArgumentValue> values)
      : values(std::move(values)) {}

  bool has(const std::string &name) const { return values.count(name); }
  bool boolean(const std::string &name) const;
  int64_t integer(const std::string &name) const;
  double real(const std::string &name) const;
  const std::string &string(const std::string &name) const;
  std::vector<double> reals(const std::string &name) const;
  std::vector<std::string> strings(const std::string &name) const;

  const std::map<std::string, ArgumentValue> &all() const { return values; }

private:
  const ArgumentValue &find(const std::string &name) const;
  std::map<std::string, ArgumentValue> values;
};

/// What a source is opened with.
struct SourceRequest {
  Arguments args;
  /// The model's inputs, in declaration order.
  std::vector<Field> fields;
  /// The trainer's --data: the directory that relative paths are read from
  /// (or, for fashion_mnist and wordlang, the dataset's directory); empty
  /// for the current directory.
  std::string dataDir;

  /// `path` read from dataDir when it is relative and dataDir is set.
  std::string resolve(const std::string &path) const;
};

/// An opened source.
struct OpenedSource {
  std::unique_ptr<Examples> train, test;
  /// How the trainer names what it reads: "csv table iris.csv".
  std::string description;
  /// Lines the trainer prints before training (a label mapping, say).
  std::vector<std::string> notes;
  /// Kept in checkpoints under these keys, and compared on --resume: what
  /// the outputs of the model mean ("data.classes": a JSON list of class
  /// names, "data.vocabulary": the tokens).
  std::map<std::string, std::string> metadata;
};

/// Opens a source; on failure returns false and sets `error`.
using OpenSourceFn = bool (*)(const SourceRequest &request,
                              OpenedSource &opened, std::string &error);

struct SourceEntry {
  /// The name in the recipe: "csv".
  const char *name;
  OpenSourceFn open;
};

/// The registered sources (Sources.cpp).
const std::vector<SourceEntry> &sources();
/// The source called `name`, or null.
const SourceEntry *findSource(std::string_view name);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_SOURCE_H
