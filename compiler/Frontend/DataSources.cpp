//===- DataSources.cpp - The table of data sources and transforms ---------===//
//
// One entry per source: its arguments (types, defaults, rules) and the check
// of the model's inputs against it. A source whose inputs depend on files
// that kilnc does not read (the columns of a table, the arrays of an .npz)
// checks here what the recipe alone decides, and its loader checks the rest
// when the trainer opens the files.
//
//===----------------------------------------------------------------------===//

#include "Frontend/DataSources.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"

#include <cassert>
#include <cmath>
#include <cstdio>

using namespace kiln;
using llvm::StringRef;

namespace {

using Type = RecipeArgType;
using Rule = RecipeArgRule;
using Inputs = std::vector<InputInfo>;
using Problem = std::optional<RecipeProblem>;

RecipeProblem atInput(size_t input, std::string message, std::string hint = {}) {
  return {input, "", std::move(message), std::move(hint)};
}
RecipeProblem atArgument(std::string argument, std::string message,
                         std::string hint = {}) {
  return {std::nullopt, std::move(argument), std::move(message),
          std::move(hint)};
}
RecipeProblem atCall(std::string message, std::string hint = {}) {
  return {std::nullopt, "", std::move(message), std::move(hint)};
}

/// The inputs of a source that fills exactly `fields`, in order.
Problem expectFields(const RecipeCall &call, const Inputs &inputs,
                     const std::vector<TensorType> &fields) {
  std::string name = call.spec->name;
  if (inputs.size() != fields.size())
    return atCall(name + " gives " + std::to_string(fields.size()) +
                  " fields, but the model has " +
                  std::to_string(inputs.size()) + " inputs");
  for (size_t i = 0; i < fields.size(); ++i)
    if (inputs[i].type != fields[i])
      return atInput(i, "input '" + inputs[i].name + "' is " +
                            inputs[i].type.str() + ", but " + name +
                            " gives " + fields[i].str());
  return std::nullopt;
}

/// Two inputs, the second the labels i64[batch].
Problem expectLabelsLast(const RecipeCall &call, const Inputs &inputs,
                         int64_t batch) {
  std::string name = call.spec->name;
  if (inputs.size() != 2)
    return atCall(name + " gives 2 fields, but the model has " +
                  std::to_string(inputs.size()) + " inputs",
                  "declare the " + std::string(call.spec->inputs));
  TensorType labels{ElementType::I64, {batch}};
  if (inputs[1].type != labels)
    return atInput(1, "input '" + inputs[1].name + "' is " +
                          inputs[1].type.str() + ", but " + name +
                          " gives its labels as " + labels.str());
  return std::nullopt;
}

Problem checkFashionMnist(const RecipeCall &call, const Inputs &inputs,
                          int64_t batch) {
  return expectFields(call, inputs,
                      {{ElementType::F32, {batch, 1, 28, 28}},
                       {ElementType::I64, {batch}}});
}

Problem checkWordLang(const RecipeCall &call, const Inputs &inputs,
                      int64_t batch) {
  return expectFields(call, inputs,
                      {{ElementType::I64, {batch, call.integer("length")}},
                       {ElementType::I64, {batch}}});
}

Problem checkAnyInputs(const RecipeCall &, const Inputs &, int64_t) {
  return std::nullopt;
}

Problem checkIdx(const RecipeCall &call, const Inputs &inputs, int64_t batch) {
  if (call.string("test_images").empty() != call.string("test_labels").empty())
    return atArgument(call.string("test_images").empty() ? "test_labels"
                                                         : "test_images",
                      "idx needs both test_images and test_labels, or neither");
  if (Problem problem = expectLabelsLast(call, inputs, batch))
    return problem;
  if (inputs[0].type.element != ElementType::F32 || inputs[0].type.rank() < 2)
    return atInput(0, "input '" + inputs[0].name + "' is " +
                          inputs[0].type.str() +
                          ", but idx gives its images as f32[batch, ...]");
  return std::nullopt;
}

Problem checkCsv(const RecipeCall &call, const Inputs &inputs, int64_t batch) {
  const std::vector<std::string> &features = call.strings("features");
  if (llvm::is_contained(features, call.string("label")))
    return atArgument("features", "the label column '" + call.string("label") +
                                      "' is also a feature");
  if (inputs.size() != 2)
    return atCall("csv gives 2 fields, but the model has " +
                      std::to_string(inputs.size()) + " inputs",
                  "declare the features f32[batch, F], then the label");
  const TensorType &x = inputs[0].type, &y = inputs[1].type;
  if (x.element != ElementType::F32 || x.rank() != 2)
    return atInput(0, "input '" + inputs[0].name + "' is " + x.str() +
                          ", but csv gives its features as f32[batch, F]");
  if (!features.empty() && x.shape[1] != static_cast<int64_t>(features.size()))
    return atInput(0, "input '" + inputs[0].name + "' is " + x.str() +
                          ", but csv gives " + std::to_string(features.size()) +
                          " features",
                   "declare it as f32[batch, " +
                       std::to_string(features.size()) + "]");
  bool classes = y == TensorType{ElementType::I64, {batch}};
  bool targets = y == TensorType{ElementType::F32, {batch}} ||
                 y == TensorType{ElementType::F32, {batch, 1}};
  if (!classes && !targets)
    return atInput(1, "input '" + inputs[1].name + "' is " + y.str() +
                          ", but csv gives the label as i64[batch] (classes) "
                          "or f32[batch] (regression targets)");
  return std::nullopt;
}

Problem checkText(const RecipeCall &call, const Inputs &inputs,
                  int64_t batch) {
  if (call.isGiven("test") && call.isGiven("test_fraction"))
    return atArgument("test_fraction",
                      "text takes a test file or a test_fraction of the "
                      "training file, not both");
  TensorType window{ElementType::I64, {batch, call.integer("length")}};
  return expectFields(call, inputs, {window, window});
}

Problem checkImages(const RecipeCall &call, const Inputs &inputs,
                    int64_t batch) {
  const std::vector<double> &size = call.reals("size");
  if (size.size() != 2 ||
      llvm::any_of(size, [](double v) { return v < 1 || v != std::floor(v); }))
    return atArgument("size", "images' size must be [height, width], two "
                              "positive integers");
  return expectFields(call, inputs,
                      {{ElementType::F32,
                        {batch, call.integer("channels"),
                         static_cast<int64_t>(size[0]),
                         static_cast<int64_t>(size[1])}},
                       {ElementType::I64, {batch}}});
}

/// Transforms take an image input f32[batch, C, H, W].
Problem imageInput(const RecipeCall &call, const Inputs &inputs,
                   size_t &index) {
  const std::string &name = call.string("input");
  auto it = llvm::find_if(inputs,
                          [&](const InputInfo &i) { return i.name == name; });
  assert(it != inputs.end() && "Sema binds Input arguments to inputs");
  index = it - inputs.begin();
  if (it->type.element != ElementType::F32 || it->type.rank() != 4)
    return atArgument("input", std::string(call.spec->name) +
                                   " transforms images f32[batch, C, H, W], "
                                   "but input '" +
                                   name + "' is " + it->type.str());
  return std::nullopt;
}

Problem checkNormalize(const RecipeCall &call, const Inputs &inputs, int64_t) {
  size_t index;
  if (Problem problem = imageInput(call, inputs, index))
    return problem;
  int64_t channels = inputs[index].type.shape[1];
  for (const char *name : {"mean", "std"}) {
    size_t count = call.reals(name).size();
    if (count != 1 && static_cast<int64_t>(count) != channels)
      return atArgument(name, "normalize's " + std::string(name) + " has " +
                                  std::to_string(count) + " values, but '" +
                                  call.string("input") + "' has " +
                                  std::to_string(channels) + " channels",
                        "give one value per channel, or one for all");
  }
  if (llvm::any_of(call.reals("std"), [](double v) { return v <= 0; }))
    return atArgument("std", "normalize's std must be positive");
  return std::nullopt;
}

Problem checkImageTransform(const RecipeCall &call, const Inputs &inputs,
                            int64_t) {
  size_t index;
  return imageInput(call, inputs, index);
}

RecipeValue text(const char *value) { return std::string(value); }
RecipeValue noStrings() { return std::vector<std::string>(); }

} // namespace

const std::vector<RecipeCallSpec> &kiln::dataSources() {
  static const std::vector<RecipeCallSpec> table = {
      {"fashion_mnist",
       "Fashion-MNIST's gzip IDX files (Debian's dataset-fashion-mnist)",
       {{"dir", Type::String, text("/usr/share/datasets/fashion-mnist"),
         Rule::Path, "", "the directory of the four .gz files"},
        {"scale", Type::Real, 1.0, Rule::Positive, "",
         "each pixel (0 to 255) times this"}},
       "images f32[batch, 1, 28, 28], then labels i64[batch]",
       checkFashionMnist},
      {"wordlang",
       "which of ten languages a word comes from (Debian's word lists)",
       {{"dict", Type::String, text("/usr/share/dict"), Rule::Path, "",
         "the directory of the word lists"},
        {"train", Type::Integer, int64_t(4000), Rule::Positive, "",
         "training words per language"},
        {"test", Type::Integer, int64_t(500), Rule::Positive, "",
         "test words per language"},
        {"length", Type::Integer, int64_t(16), Rule::Positive, "",
         "characters per word, left-padded"}},
       "character ids i64[batch, length], then languages i64[batch]",
       checkWordLang},
      {"synthetic",
       "random values of the inputs' shapes, for benchmarks and tests",
       {{"train", Type::Integer, int64_t(6400), Rule::Positive, "",
         "training examples"},
        {"test", Type::Integer, int64_t(640), Rule::Positive, "",
         "test examples"},
        {"classes", Type::Integer, int64_t(10), Rule::Positive, "",
         "i64 inputs are labels below this"},
        {"seed", Type::Integer, int64_t(0), Rule::NonNegative, "",
         "the data's seed"}},
       "any inputs: f32 uniform in [0, 1), i64 uniform below classes",
       checkAnyInputs},
      {"idx",
       "any MNIST-family IDX files, gzip-compressed or not",
       {{"images", Type::String, std::nullopt, Rule::Path, "",
         "the training images"},
        {"labels", Type::String, std::nullopt, Rule::Path, "",
         "the training labels"},
        {"test_images", Type::String, text(""), Rule::Any, "",
         "the test images (none when empty)"},
        {"test_labels", Type::String, text(""), Rule::Any, "",
         "the test labels"},
        {"scale", Type::Real, 1.0, Rule::Positive, "",
         "each value times this"}},
       "images f32[batch, ...] (the files' shape), then labels i64[batch]",
       checkIdx},
      {"tensors",
       "NumPy .npy and .npz arrays or safetensors files, bound to the inputs "
       "by name",
       {{"train", Type::String, std::nullopt, Rule::Path, "",
         "an .npz, a .safetensors or a directory of NAME.npy"},
        {"test", Type::String, text(""), Rule::Any, "",
         "the same for the test split (none when empty)"},
        {"scale", Type::Real, 1.0, Rule::Positive, "",
         "values of f32 inputs times this"}},
       "each input from the array of its name; the first dimension counts "
       "the examples",
       checkAnyInputs},
      {"csv",
       "a table with a header row",
       {{"train", Type::String, std::nullopt, Rule::Path, "",
         "the training table"},
        {"test", Type::String, text(""), Rule::Any, "",
         "the test table (none when empty)"},
        {"label", Type::String, std::nullopt, Rule::Path, "",
         "the label column"},
        {"features", Type::Strings, noStrings(), Rule::Any, "",
         "the feature columns (every other column when empty)"},
        {"standardize", Type::Bool, false, Rule::Any, "",
         "scale each feature by the training split's mean and deviation"},
        {"delimiter", Type::String, text(","), Rule::Character, "",
         "the field separator"}},
       "features f32[batch, F], then the label: i64[batch] class ids or "
       "f32[batch] targets",
       checkCsv},
      {"text",
       "a character- or byte-level corpus in windows of length tokens",
       {{"train", Type::String, std::nullopt, Rule::Path, "",
         "the corpus"},
        {"test", Type::String, text(""), Rule::Any, "",
         "a test corpus (else the end of train, by test_fraction)"},
        {"test_fraction", Type::Real, 0.05, Rule::Fraction, "",
         "the share of train held out for testing"},
        {"length", Type::Integer, std::nullopt, Rule::Positive, "",
         "tokens per example"},
        {"vocab", Type::String, text("bytes"), Rule::Choice, "bytes|chars",
         "one token per byte, or per UTF-8 character"}},
       "tokens i64[batch, length], then the next tokens i64[batch, length]",
       checkText},
      {"images",
       "a folder per class of PNG or JPEG files (torchvision's ImageFolder)",
       {{"train", Type::String, std::nullopt, Rule::Path, "",
         "the training folder"},
        {"test", Type::String, text(""), Rule::Any, "",
         "the test folder (none when empty)"},
        {"size", Type::Reals, std::nullopt, Rule::Any, "",
         "[height, width] that every image is resized to"},
        {"channels", Type::Integer, int64_t(3), Rule::Choice, "1|3",
         "1 for grey, 3 for RGB"}},
       "images f32[batch, channels, height, width] in [0, 1], then labels "
       "i64[batch]",
       checkImages},
  };
  return table;
}

const std::vector<RecipeCallSpec> &kiln::transforms() {
  static const std::vector<RecipeCallSpec> table = {
      {"normalize",
       "(x - mean) / std per channel, in training and evaluation",
       {{"input", Type::Input, std::nullopt, Rule::Any, "", "the images"},
        {"mean", Type::Reals, std::nullopt, Rule::Any, "",
         "one per channel, or one for all"},
        {"std", Type::Reals, std::nullopt, Rule::Any, "",
         "one per channel, or one for all"}},
       "", checkNormalize},
      {"random_crop",
       "pads each side with zeros, then crops a random window of the "
       "original size; training only",
       {{"input", Type::Input, std::nullopt, Rule::Any, "", "the images"},
        {"padding", Type::Integer, std::nullopt, Rule::NonNegative, "",
         "zeros added on each side"}},
       "", checkImageTransform},
      {"random_flip",
       "mirrors left to right with probability p; training only",
       {{"input", Type::Input, std::nullopt, Rule::Any, "", "the images"},
        {"p", Type::Real, 0.5, Rule::Probability, "",
         "the probability of a flip"}},
       "", checkImageTransform},
  };
  return table;
}

const RecipeCallSpec *kiln::findRecipeCall(
    const std::vector<RecipeCallSpec> &table, StringRef name) {
  auto it = llvm::find_if(
      table, [&](const RecipeCallSpec &spec) { return name == spec.name; });
  return it == table.end() ? nullptr : &*it;
}

std::string kiln::listRecipeCalls(const std::vector<RecipeCallSpec> &table) {
  std::string names;
  for (size_t i = 0; i < table.size(); ++i)
    names += std::string(i ? (i + 1 == table.size() ? " or " : ", ") : "") +
             table[i].name + "(...)";
  return names;
}

const RecipeParam *RecipeCallSpec::find(StringRef name) const {
  auto it = llvm::find_if(
      params, [&](const RecipeParam &param) { return name == param.name; });
  return it == params.end() ? nullptr : &*it;
}

size_t RecipeCallSpec::indexOf(StringRef name) const {
  const RecipeParam *param = find(name);
  assert(param && "a parameter of the call");
  return param - params.data();
}

std::string kiln::formatRecipeValue(const RecipeValue &value) {
  auto number = [](double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%g", v);
    return std::string(buffer);
  };
  if (const bool *b = std::get_if<bool>(&value))
    return *b ? "true" : "false";
  if (const int64_t *i = std::get_if<int64_t>(&value))
    return std::to_string(*i);
  if (const double *d = std::get_if<double>(&value))
    return number(*d);
  if (const std::string *s = std::get_if<std::string>(&value))
    return "\"" + *s + "\"";
  std::string list;
  if (const auto *reals = std::get_if<std::vector<double>>(&value))
    for (double v : *reals)
      list += (list.empty() ? "" : ", ") + number(v);
  if (const auto *strings = std::get_if<std::vector<std::string>>(&value))
    for (const std::string &s : *strings)
      list += (list.empty() ? "\"" : ", \"") + s + "\"";
  return "[" + list + "]";
}

std::string kiln::describeRecipeCalls() {
  std::string text;
  auto section = [&](const char *title,
                     const std::vector<RecipeCallSpec> &table) {
    text += title;
    for (const RecipeCallSpec &spec : table) {
      text += "\n  " + std::string(spec.name) + ": " + spec.summary + "\n";
      for (const RecipeParam &param : spec.params) {
        text += "    " + std::string(param.name);
        text += param.fallback ? " (" + formatRecipeValue(*param.fallback) + ")"
                               : " (required)";
        text += ": " + std::string(param.doc) + "\n";
      }
      if (*spec.inputs)
        text += "    fills: " + std::string(spec.inputs) + "\n";
    }
  };
  section("Data sources (data = NAME(...)):\n", dataSources());
  section("\nTransforms (transforms = [NAME(input, ...), ...]):\n",
          transforms());
  return text;
}

const RecipeValue &RecipeCall::value(StringRef name) const {
  return values[spec->indexOf(name)];
}

bool RecipeCall::isGiven(StringRef name) const {
  return given[spec->indexOf(name)];
}

int64_t RecipeCall::integer(StringRef name) const {
  return std::get<int64_t>(value(name));
}

double RecipeCall::real(StringRef name) const {
  const RecipeValue &v = value(name);
  if (const int64_t *i = std::get_if<int64_t>(&v))
    return static_cast<double>(*i);
  return std::get<double>(v);
}

const std::string &RecipeCall::string(StringRef name) const {
  return std::get<std::string>(value(name));
}

const std::vector<double> &RecipeCall::reals(StringRef name) const {
  return std::get<std::vector<double>>(value(name));
}

const std::vector<std::string> &RecipeCall::strings(StringRef name) const {
  return std::get<std::vector<std::string>>(value(name));
}
