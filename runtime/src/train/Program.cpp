//===- Program.cpp - Parsing and checking a trainer's description ---------===//
//
// The slots and steps are read by program/Description.cpp; this reads the
// recipe and checks what a trainer needs of the slots.
//
//===----------------------------------------------------------------------===//

#include "train/Program.h"
#include "train/Error.h"

#include "program/DescriptionJson.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

using namespace kiln;
using namespace kiln::train;
using program::integer;
using program::invalid;
using program::Json;
using program::member;
using program::number;
using program::optionalInteger;
using program::string;

namespace {

std::string formatNumber(const Json &value) {
  if (value.is_number_integer())
    return value.dump();
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value.get<double>());
  return text;
}

/// A recipe setting as the language writes it: {"kind": "sgd", "lr": 0.01}
/// is "sgd(lr: 0.01)".
std::string summarize(const Json &value) {
  if (value.is_number())
    return formatNumber(value);
  if (value.is_string())
    return value.get<std::string>();
  if (!value.is_object())
    return value.dump();
  std::string text = value.contains("kind") && value["kind"].is_string()
                         ? value["kind"].get<std::string>()
                         : "";
  std::string arguments;
  for (const auto &[key, item] : value.items()) {
    if (key == "kind")
      continue;
    arguments += (arguments.empty() ? "" : ", ") + key + ": ";
    arguments += item.is_string() ? "\"" + item.get<std::string>() + "\""
                                  : summarize(item);
  }
  return text + "(" + arguments + ")";
}

/// An argument of a source or transform call.
data::ArgumentValue parseArgument(const Json &value, const std::string &where) {
  if (value.is_boolean())
    return value.get<bool>();
  if (value.is_number_integer() && !(value.is_number_unsigned() &&
                                     value.get<uint64_t>() > uint64_t(INT64_MAX)))
    return value.get<int64_t>();
  if (value.is_number())
    return number(value, where);
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_array() && std::all_of(value.begin(), value.end(),
                                      [](const Json &v) { return v.is_string(); }))
    return value.get<std::vector<std::string>>();
  if (value.is_array()) {
    std::vector<double> numbers;
    for (const Json &element : value)
      numbers.push_back(number(element, where));
    return numbers;
  }
  invalid(where, "expected a boolean, number, string or list, got " +
                     value.dump());
}

/// The arguments of a call, every member but "kind".
data::Arguments parseArguments(const Json &json, const std::string &where) {
  std::map<std::string, data::ArgumentValue> values;
  for (const auto &[key, value] : json.items())
    if (key != "kind")
      values.emplace(key, parseArgument(value, where + "." + key));
  return data::Arguments(std::move(values));
}

DataSource parseData(const Json &json) {
  const std::string where = "recipe.data";
  if (!json.is_object())
    invalid(where, "expected an object, got " + json.dump());
  DataSource source;
  source.kind = string(member(json, "kind", where), where + ".kind");
  if (!data::findSource(source.kind))
    invalid(where + ".kind", "unknown data source '" + source.kind + "'");
  source.summary = summarize(json);
  source.args = parseArguments(json, where);
  return source;
}

/// The transforms of the recipe: each names the input it applies to.
std::vector<data::Transform> parseTransforms(const Json &json,
                                             const Program &program) {
  std::vector<data::Transform> transforms;
  if (!json.is_array())
    invalid("recipe.transforms", "expected a list, got " + json.dump());
  for (size_t i = 0; i < json.size(); ++i) {
    std::string where = "recipe.transforms[" + std::to_string(i) + "]";
    const Json &entry = json[i];
    if (!entry.is_object())
      invalid(where, "expected an object, got " + entry.dump());
    std::string kind = string(member(entry, "kind", where), where + ".kind");
    std::string input =
        string(member(entry, "input", where), where + ".input");
    data::Transform transform;
    auto slot = std::find_if(
        program.inputs.begin(), program.inputs.end(),
        [&](size_t index) { return program.slots[index].name == input; });
    if (slot == program.inputs.end())
      invalid(where + ".input", "no input '" + input + "'");
    transform.field = slot - program.inputs.begin();
    data::Arguments args = parseArguments(entry, where);
    try {
      if (kind == "normalize") {
        transform.kind = data::Transform::Kind::Normalize;
        transform.mean = args.reals("mean");
        transform.std = args.reals("std");
      } else if (kind == "random_crop") {
        transform.kind = data::Transform::Kind::RandomCrop;
        transform.padding = args.integer("padding");
      } else if (kind == "random_flip") {
        transform.kind = data::Transform::Kind::RandomFlip;
        transform.p = args.real("p");
      } else {
        invalid(where + ".kind", "unknown transform '" + kind + "'");
      }
    } catch (const data::BadArgument &bad) {
      invalid(where, bad.what());
    }
    transforms.push_back(std::move(transform));
  }
  return transforms;
}

Recipe parseRecipe(const Json &json) {
  const std::string where = "recipe";
  if (!json.is_object())
    invalid(where, "expected an object, got " + json.dump());
  Recipe recipe;
  recipe.batchSize =
      integer(member(json, "batch_size", where), where + ".batch_size", 1);
  recipe.epochs = optionalInteger(json, "epochs", where, 1, 1);
  recipe.accumulate = optionalInteger(json, "accumulate", where, 1, 1);
  recipe.ranks = optionalInteger(json, "ranks", where, 1, 1);
  if (auto it = json.find("seed"); it != json.end()) {
    // nlohmann-json reads every non-negative integer as unsigned.
    if (!it->is_number_unsigned())
      invalid(where + ".seed",
              "expected a non-negative integer, got " + it->dump());
    recipe.seed = it->get<uint64_t>();
  }
  recipe.data = parseData(member(json, "data", where));
  if (auto it = json.find("drop_last"); it != json.end()) {
    if (!it->is_boolean())
      invalid(where + ".drop_last", "expected a boolean, got " + it->dump());
    recipe.dropLast = it->get<bool>();
  }
  auto summary = [&](const char *key) {
    auto it = json.find(key);
    return it == json.end() || it->is_null() ? std::string() : summarize(*it);
  };
  recipe.optimizer = summary("optimizer");
  recipe.schedule = summary("schedule");
  recipe.clipGradNorm = summary("clip_grad_norm");
  recipe.metric = summary("metric");
  recipe.precision = summary("precision");
  return recipe;
}

/// Checks that the one slot of `role` exists and has `type` and `shape`, and
/// returns its index.
size_t requireUnique(const Program &program, Role role, ElementType type,
                     const std::vector<int64_t> &shape) {
  std::optional<size_t> found;
  for (size_t i = 0; i < program.slots.size(); ++i) {
    if (program.slots[i].role != role)
      continue;
    if (found)
      invalid("slots",
              std::string("more than one slot has role '") + roleName(role) +
                  "'");
    found = i;
  }
  if (!found)
    invalid("slots", std::string("no slot has role '") + roleName(role) + "'");
  const Slot &slot = program.slots[*found];
  if (slot.type != type || slot.shape != shape)
    invalid("slot '" + slot.name + "'",
            std::string("expected ") + elementTypeName(type) +
                formatShape(shape) + ", got " + elementTypeName(slot.type) +
                formatShape(slot.shape));
  return *found;
}

/// The index of output `name`, which must have `type` and `shape`, or
/// nothing when it is absent and not `required`.
std::optional<size_t> findOutput(const Program &program, const char *name,
                                 ElementType type,
                                 const std::vector<int64_t> &shape,
                                 bool required) {
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    if (slot.role != Role::Output || slot.name != name)
      continue;
    if (slot.type != type || slot.shape != shape)
      invalid(std::string("output '") + name + "'",
              std::string("expected ") + elementTypeName(type) +
                  formatShape(shape) + ", got " + elementTypeName(slot.type) +
                  formatShape(slot.shape));
    return i;
  }
  if (required)
    invalid("slots", std::string("no output '") + name + "'");
  return std::nullopt;
}

void checkSlots(Program &program) {
  int64_t batch = program.recipe.batchSize;
  int64_t updateBatch = program.recipe.updateBatch();
  std::set<std::string> outputNames;
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    std::string where = "slot '" + slot.name + "'";
    switch (slot.role) {
    case Role::State:
      program.state.push_back(i);
      break;
    case Role::Input:
      if (slot.shape.front() != updateBatch)
        invalid(where, std::string("an input's first dimension is the "
                                   "batch size") +
                           (updateBatch != batch ? " times accumulate" : "") +
                           ", " + std::to_string(updateBatch) +
                           ", but its shape is " + formatShape(slot.shape));
      program.inputs.push_back(i);
      break;
    case Role::Output:
      if (!outputNames.insert(slot.name).second)
        invalid(where, "two outputs have this name");
      break;
    case Role::Arena:
      program.arena = i;
      break;
    case Role::Param:
    case Role::Buffer:
    case Role::Step:
    case Role::TotalSteps:
      break;
    }
  }
  if (program.inputs.empty())
    invalid("slots", "the program has no inputs");
  if (!program.train || !program.eval || !program.predict)
    invalid("top level", "a trainer has the steps 'train', 'eval' and "
                         "'predict'");

  program.step = requireUnique(program, Role::Step, ElementType::I64, {});
  program.totalSteps =
      requireUnique(program, Role::TotalSteps, ElementType::I64, {});
  program.loss = *findOutput(program, "loss", ElementType::F32, {}, true);
  program.lr = *findOutput(program, "lr", ElementType::F32, {}, true);
  program.predictInputs = program.slotsOf(*program.predict, Role::Input);
  program.predictOutputs = program.slotsOf(*program.predict, Role::Output);
  if (program.predictOutputs.empty())
    invalid("predict", "the prediction step has no outputs");
  for (size_t output : program.predictOutputs)
    if (program.slots[output].shape.empty() ||
        program.slots[output].shape.front() != batch)
      invalid("slot '" + program.slots[output].name + "'",
              "a model's output leads with the batch size, " +
                  std::to_string(batch));
  bool metric = !program.recipe.metric.empty();
  program.correct =
      findOutput(program, "correct", ElementType::I64, {}, metric);
  // Predictions are [batch, ...]: one class per example, or per position of
  // a sequence; the labels are the i64 input of the same shape.
  std::vector<int64_t> positions = {batch};
  for (const Slot &slot : program.slots)
    if (slot.role == Role::Output && slot.name == "predictions" &&
        !slot.shape.empty() && slot.shape.front() == batch)
      positions = slot.shape;
  program.predictions =
      findOutput(program, "predictions", ElementType::I64, positions, metric);
  if (!metric)
    return;
  // The labels' slot holds the training step's batch, updateBatch rows.
  positions.front() = updateBatch;
  for (size_t input : program.inputs) {
    const Slot &slot = program.slots[input];
    if (slot.type == ElementType::I64 && slot.shape == positions)
      program.labels = input;
  }
  if (!program.labels)
    invalid("recipe.metric", "the metric needs an i64 input of shape " +
                                 formatShape(positions) + " (the labels)");
  program.positions =
      program.slots[*program.labels].numElements() / updateBatch;
}

} // namespace

Program Program::parse(const std::string &description) {
  Json json = program::parseJson(description);
  Program program;
  static_cast<Description &>(program) = program::parseDescription(json);
  program.recipe = parseRecipe(member(json, "recipe", "top level"));
  checkSlots(program);
  if (auto it = json["recipe"].find("transforms"); it != json["recipe"].end())
    program.recipe.transforms = parseTransforms(*it, program);
  return program;
}
