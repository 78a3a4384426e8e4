//===- BuiltinSources.cpp - fashion_mnist, wordlang and synthetic ---------===//
//
// The three sources that existed before the general ones: each loads its
// examples into memory (Datasets.h) and is then checked against the model's
// inputs here, field by field and, for i64 fields, value by value, so that
// no label outside a model's classes reaches a step. Fashion-MNIST and the
// word-language task name their classes in data.classes, as csv and images
// do, so that a checkpoint says what its outputs mean.
//
//===----------------------------------------------------------------------===//

#include "data/Datasets.h"
#include "data/Source.h"
#include "data/Text.h"

#include <iterator>

namespace kiln::data {
bool openFashionMnist(const SourceRequest &, OpenedSource &, std::string &);
bool openWordLang(const SourceRequest &, OpenedSource &, std::string &);
bool openSynthetic(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

using namespace kiln;
using namespace kiln::data;

namespace {

/// How messages name field `index` of `source`: "fashion_mnist field 0
/// (images)".
std::string fieldName(const char *source, const std::vector<const char *> &names,
                      size_t index) {
  std::string name = std::string(source) + " field " + std::to_string(index);
  if (index < names.size())
    name += " (" + std::string(names[index]) + ")";
  return name;
}

bool checkRange(const Field &field, const io::TensorData &values,
                int64_t examples, const char *split, const std::string &name,
                std::string &error) {
  if (field.range == 0)
    return true;
  int64_t perExample = examples ? values.numElements() / examples : 0;
  for (int64_t i = 0; i < values.numElements(); ++i) {
    int64_t value = values.data<int64_t>()[i];
    if ((value >= 0 && value < field.range) || value == field.ignoreIndex)
      continue;
    error = std::string(split) + " example " + std::to_string(i / perExample) +
            " of " + name + " holds " + std::to_string(value) +
            ", outside [0, " + std::to_string(field.range) +
            "), the range of input '" + field.name +
            "'; the data does not fit the model (e.g. more classes than the "
            "model's output has): give the model sizes that fit the data, or "
            "use the data it was written for";
    return false;
  }
  return true;
}

/// Checks `split` against the model's inputs and makes it the opened
/// source's examples.
bool fit(const SourceRequest &request, const char *source,
         const std::vector<const char *> &names, Split split,
         std::string description, OpenedSource &opened, std::string &error) {
  const std::vector<Field> &fields = request.fields;
  if (split.train.fields.size() != fields.size()) {
    error = "the model has " + std::to_string(fields.size()) + " inputs, but " +
            source + " gives " + std::to_string(split.train.fields.size()) +
            " fields; the model's inputs take the source's fields in order: "
            "declare one input per field";
    return false;
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    for (const Dataset *set : {&split.train, &split.test}) {
      const io::TensorData &tensor = set->fields[f];
      std::vector<int64_t> example(tensor.shape.begin() + 1,
                                   tensor.shape.end());
      if (tensor.dtype != fields[f].dtype || example != fields[f].shape) {
        error = "input '" + fields[f].name + "' takes " +
                formatField(fields[f]) +
                " per example, but " + fieldName(source, names, f) + " is " +
                dtypeText(tensor.dtype) + formatShape(example) +
                "; declare each input with its field's type and shape";
        return false;
      }
    }
    if (fields[f].dtype != io::DType::I64)
      continue;
    if (!checkRange(fields[f], split.train.fields[f], split.train.size(),
                    "training", fieldName(source, names, f), error) ||
        !checkRange(fields[f], split.test.fields[f], split.test.size(), "test",
                    fieldName(source, names, f), error))
      return false;
  }
  opened.description = std::move(description);
  opened.train = std::make_unique<TensorExamples>(std::move(split.train.fields));
  opened.test = std::make_unique<TensorExamples>(std::move(split.test.fields));
  return true;
}

/// The directory of a built-in dataset: --data replaces the recipe's.
std::string datasetDir(const SourceRequest &request, const char *argument) {
  return request.dataDir.empty() ? request.args.string(argument)
                                 : request.dataDir;
}

} // namespace

bool data::openFashionMnist(const SourceRequest &request, OpenedSource &opened,
                            std::string &error) {
  std::string dir = datasetDir(request, "dir");
  Split split;
  if (!loadFashionMnist(dir, request.args.real("scale"), split, error))
    return false;
  if (!fit(request, "fashion_mnist", {"images", "labels"}, std::move(split),
           "Fashion-MNIST from " + dir, opened, error))
    return false;
  opened.metadata["data.classes"] = jsonStringList(
      {std::begin(kFashionMnistClasses), std::end(kFashionMnistClasses)});
  return true;
}

bool data::openWordLang(const SourceRequest &request, OpenedSource &opened,
                        std::string &error) {
  std::string dir = datasetDir(request, "dict");
  Split split;
  if (!loadWordLang(dir, request.args.integer("train"),
                    request.args.integer("test"), request.args.integer("length"),
                    split, error))
    return false;
  if (!fit(request, "wordlang", {"character ids", "languages"},
           std::move(split), "the word-language task from " + dir, opened,
           error))
    return false;
  // The languages by label, named as their word lists.
  std::vector<std::string> languages;
  for (const WordList &list : kWordLists)
    languages.push_back(list.file);
  opened.metadata["data.classes"] = jsonStringList(languages);
  return true;
}

bool data::openSynthetic(const SourceRequest &request, OpenedSource &opened,
                         std::string &error) {
  std::vector<FieldSpec> specs;
  for (const Field &field : request.fields)
    specs.push_back({field.dtype, field.shape});
  Split split;
  if (!makeSynthetic(specs, request.args.integer("train"),
                     request.args.integer("test"),
                     request.args.integer("classes"),
                     static_cast<uint64_t>(request.args.integer("seed")), split,
                     error))
    return false;
  return fit(request, "synthetic", {}, std::move(split),
             "synthetic data (seed " +
                 std::to_string(request.args.integer("seed")) + ")",
             opened, error);
}
