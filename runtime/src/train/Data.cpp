//===- Data.cpp - The recipe's data, loaded and checked against the model -===//
//
// kilnc checks that a model's inputs fit its data source, but the data is
// read only here: a file may hold labels that the model cannot take (a label
// 10 for 10 classes would index past a one-hot row or a softmax), so every
// i64 value is checked once, after loading, rather than trusted in every
// step.
//
//===----------------------------------------------------------------------===//

#include "train/Data.h"
#include "train/Error.h"
#include "train/Program.h"

using namespace kiln;
using namespace kiln::train;

namespace {

/// How the error messages name field `index` of the program's source.
std::string fieldName(const Program &program, size_t index) {
  static const char *const fashionMnist[] = {"images", "labels"};
  static const char *const wordLang[] = {"character ids", "languages"};
  const DataSource &source = program.recipe.data;
  std::string name = source.kindName + " field " + std::to_string(index);
  if (index < 2 && source.kind == DataSource::Kind::FashionMnist)
    name += " (" + std::string(fashionMnist[index]) + ")";
  if (index < 2 && source.kind == DataSource::Kind::WordLang)
    name += " (" + std::string(wordLang[index]) + ")";
  return name;
}

void checkRange(const Program &program, const data::Dataset &dataset,
                const char *split, size_t field) {
  const Slot &input = program.slots[program.inputs[field]];
  if (input.range == 0)
    return;
  const io::TensorData &values = dataset.fields[field];
  int64_t perExample =
      dataset.size() ? values.numElements() / dataset.size() : 0;
  for (int64_t i = 0; i < values.numElements(); ++i) {
    int64_t value = values.data<int64_t>()[i];
    if (value >= 0 && value < input.range)
      continue;
    throw Error(std::string(split) + " example " +
                    std::to_string(i / perExample) + " of " +
                    fieldName(program, field) + " holds " +
                    std::to_string(value) + ", outside [0, " +
                    std::to_string(input.range) + "), the range of input '" +
                    input.name + "' of model '" + program.model + "'",
                "the data does not fit the model (e.g. more classes than the "
                "model's output has); give the model sizes that fit the "
                "data, or use the data it was written for");
  }
}

} // namespace

data::Split kiln::train::loadData(const Program &program,
                                  const std::string &pathOverride) {
  const DataSource &source = program.recipe.data;
  std::string path = pathOverride.empty() ? source.path : pathOverride;
  data::Split split;
  std::string error;
  bool loaded = false;
  switch (source.kind) {
  case DataSource::Kind::FashionMnist:
    loaded = data::loadFashionMnist(path, source.scale, split, error);
    break;
  case DataSource::Kind::WordLang:
    loaded = data::loadWordLang(path, source.train, source.test, source.length,
                                split, error);
    break;
  case DataSource::Kind::Synthetic: {
    std::vector<data::FieldSpec> fields;
    for (size_t input : program.inputs) {
      const Slot &slot = program.slots[input];
      fields.push_back(
          {*toDType(slot.type), {slot.shape.begin() + 1, slot.shape.end()}});
    }
    loaded = data::makeSynthetic(fields, source.train, source.test,
                                 source.classes, source.seed, split, error);
    break;
  }
  }
  if (!loaded)
    throw Error(error);
  checkData(program, split);
  return split;
}

void kiln::train::checkData(const Program &program, const data::Split &split) {
  const std::vector<io::TensorData> &fields = split.train.fields;
  if (fields.size() != program.inputs.size() ||
      split.test.fields.size() != fields.size())
    throw Error("model '" + program.model + "' has " +
                    std::to_string(program.inputs.size()) + " inputs, but " +
                    program.recipe.data.kindName + " gives " +
                    std::to_string(fields.size()) + " fields",
                "the model's inputs take the source's fields in order; "
                "declare one input per field");
  for (size_t f = 0; f < fields.size(); ++f) {
    const Slot &input = program.slots[program.inputs[f]];
    std::vector<int64_t> example(input.shape.begin() + 1, input.shape.end());
    for (const io::TensorData *field : {&fields[f], &split.test.fields[f]}) {
      std::vector<int64_t> fieldExample;
      if (!field->shape.empty())
        fieldExample.assign(field->shape.begin() + 1, field->shape.end());
      if (fromDType(field->dtype) == input.type && fieldExample == example)
        continue;
      throw Error("input '" + input.name + "' takes " +
                      elementTypeName(input.type) + formatShape(example) +
                      " per example, but " + fieldName(program, f) + " is " +
                      elementTypeName(fromDType(field->dtype)) +
                      formatShape(fieldExample),
                  "the model's inputs take the source's fields in order; "
                  "declare each input with its field's type and shape");
    }
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    if (program.slots[program.inputs[f]].type != ElementType::I64)
      continue;
    checkRange(program, split.train, "training", f);
    checkRange(program, split.test, "test", f);
  }
}
