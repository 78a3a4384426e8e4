//===- Program.cpp - Parsing and checking a program's description ---------===//
//
// The description comes from kilnc, so a problem in it means that the
// trainer's object file and runtime disagree, not that the user erred; the
// checks are still complete, so that no later code reads a slot of the wrong
// type or size.
//
//===----------------------------------------------------------------------===//

#include "train/Program.h"
#include "train/Error.h"

#include "kiln/kiln_runtime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

using namespace kiln;
using namespace kiln::train;
// Ordered, so that --help shows a recipe's settings in the order kilnc wrote.
using Json = nlohmann::ordered_json;

namespace {

constexpr const char *kRebuildHint =
    "the trainer's object file and its runtime disagree; rebuild the trainer "
    "with the kilnc that matches this runtime";

[[noreturn]] void invalid(const std::string &where, const std::string &what) {
  throw Error("the program's description is invalid: " + where + ": " + what,
              kRebuildHint);
}

const Json &member(const Json &object, const char *key,
                   const std::string &where) {
  auto it = object.find(key);
  if (it == object.end())
    invalid(where, std::string("'") + key + "' is missing");
  return *it;
}

std::string string(const Json &value, const std::string &where) {
  if (!value.is_string())
    invalid(where, "expected a string, got " + value.dump());
  return value.get<std::string>();
}

int64_t integer(const Json &value, const std::string &where, int64_t least) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<uint64_t>() > uint64_t(INT64_MAX)) ||
      value.get<int64_t>() < least)
    invalid(where, "expected an integer of at least " + std::to_string(least) +
                       ", got " + value.dump());
  return value.get<int64_t>();
}

double number(const Json &value, const std::string &where) {
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    invalid(where, "expected a finite number, got " + value.dump());
  return value.get<double>();
}

/// The member `key` of `object`, or `fallback` (the language's default)
/// when it is absent.
int64_t optionalInteger(const Json &object, const char *key,
                        const std::string &where, int64_t least,
                        int64_t fallback) {
  auto it = object.find(key);
  return it == object.end() ? fallback : integer(*it, where + "." + key, least);
}

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

Role parseRole(const std::string &name, const std::string &where) {
  static const std::pair<const char *, Role> roles[] = {
      {"param", Role::Param}, {"state", Role::State},
      {"step", Role::Step},   {"total_steps", Role::TotalSteps},
      {"input", Role::Input}, {"output", Role::Output},
      {"arena", Role::Arena}};
  for (const auto &[text, role] : roles)
    if (name == text)
      return role;
  invalid(where, "unknown role '" + name + "'");
}

ElementType parseElementType(const std::string &name,
                             const std::string &where) {
  for (ElementType type :
       {ElementType::F32, ElementType::F64, ElementType::I64, ElementType::U8})
    if (name == elementTypeName(type))
      return type;
  invalid(where, "unknown dtype '" + name + "'");
}

Distribution parseDistribution(const Json &json, const std::string &where) {
  if (!json.is_object())
    invalid(where, "expected an object, got " + json.dump());
  std::string kind =
      string(member(json, "distribution", where), where + ".distribution");
  Distribution distribution;
  if (kind == "uniform") {
    distribution.kind = Distribution::Kind::Uniform;
    distribution.first = number(member(json, "low", where), where + ".low");
    distribution.second = number(member(json, "high", where), where + ".high");
    if (distribution.first > distribution.second)
      invalid(where, "low is above high");
  } else if (kind == "normal") {
    distribution.kind = Distribution::Kind::Normal;
    distribution.first = number(member(json, "mean", where), where + ".mean");
    distribution.second = number(member(json, "std", where), where + ".std");
    if (distribution.second < 0)
      invalid(where, "std is negative");
  } else if (kind == "zeros") {
    distribution.kind = Distribution::Kind::Zeros;
  } else if (kind == "ones") {
    distribution.kind = Distribution::Kind::Ones;
  } else {
    invalid(where, "unknown distribution '" + kind + "'");
  }
  return distribution;
}

Slot parseSlot(const Json &json, const std::string &index) {
  if (!json.is_object())
    invalid(index, "expected an object, got " + json.dump());
  Slot slot;
  slot.name = string(member(json, "name", index), index + ".name");
  std::string where = index + " ('" + slot.name + "')";
  slot.role = parseRole(string(member(json, "role", where), where + ".role"),
                        where + ".role");
  slot.type = parseElementType(
      string(member(json, "dtype", where), where + ".dtype"), where + ".dtype");
  const Json &shape = member(json, "shape", where);
  if (!shape.is_array())
    invalid(where + ".shape", "expected a list of sizes");
  // The size in bytes must fit, so that no later product overflows.
  int64_t bytes = static_cast<int64_t>(elementSize(slot.type));
  for (const Json &dim : shape) {
    slot.shape.push_back(integer(dim, where + ".shape", 0));
    if (__builtin_mul_overflow(bytes, slot.shape.back(), &bytes))
      invalid(where + ".shape", "the slot is too large");
  }
  if (slot.role == Role::Param)
    slot.init = parseDistribution(member(json, "init", where), where + ".init");
  if (slot.role == Role::Input && slot.type == ElementType::I64)
    slot.range = optionalInteger(json, "range", where, 1, 0);
  return slot;
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
  return recipe;
}

/// Checks that the one slot of `role` exists and has `type` and `shape`, and
/// returns its index.
size_t requireUnique(const Program &program, Role role, const char *roleName,
                     ElementType type, const std::vector<int64_t> &shape) {
  std::optional<size_t> found;
  for (size_t i = 0; i < program.slots.size(); ++i) {
    if (program.slots[i].role != role)
      continue;
    if (found)
      invalid("slots",
              std::string("more than one slot has role '") + roleName + "'");
    found = i;
  }
  if (!found)
    invalid("slots", std::string("no slot has role '") + roleName + "'");
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
  std::set<std::string> tensorNames, outputNames;
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    std::string where = "slot '" + slot.name + "'";
    switch (slot.role) {
    case Role::Param:
    case Role::State:
      // Parameters and state are the tensors of checkpoints, keyed by name.
      if (!tensorNames.insert(slot.name).second)
        invalid(where, "two parameters or state slots have this name");
      if (slot.role == Role::Param && slot.type != ElementType::F32)
        invalid(where, "parameters are f32");
      if (slot.type == ElementType::U8)
        invalid(where, "state cannot be u8");
      (slot.role == Role::Param ? program.params : program.state).push_back(i);
      break;
    case Role::Input:
      if (slot.type == ElementType::U8)
        invalid(where, "inputs cannot be u8");
      if (slot.shape.empty() || slot.shape.front() != batch)
        invalid(where, "an input's first dimension is the batch size, " +
                           std::to_string(batch) + ", but its shape is " +
                           formatShape(slot.shape));
      program.inputs.push_back(i);
      break;
    case Role::Output:
      if (!outputNames.insert(slot.name).second)
        invalid(where, "two outputs have this name");
      break;
    case Role::Step:
    case Role::TotalSteps:
    case Role::Arena:
      break;
    }
  }
  if (program.inputs.empty())
    invalid("slots", "the program has no inputs");

  program.step =
      requireUnique(program, Role::Step, "step", ElementType::I64, {});
  program.totalSteps = requireUnique(program, Role::TotalSteps, "total_steps",
                                     ElementType::I64, {});
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    if (slot.role != Role::Arena)
      continue;
    if (program.arena)
      invalid("slots", "more than one slot has role 'arena'");
    if (slot.type != ElementType::U8 || slot.shape.size() != 1)
      invalid("slot '" + slot.name + "'", "the arena is u8[bytes]");
    program.arena = i;
  }

  program.loss = *findOutput(program, "loss", ElementType::F32, {}, true);
  program.lr = *findOutput(program, "lr", ElementType::F32, {}, true);
  bool metric = !program.recipe.metric.empty();
  program.correct =
      findOutput(program, "correct", ElementType::I64, {}, metric);
  program.predictions =
      findOutput(program, "predictions", ElementType::I64, {batch}, metric);
  if (!metric)
    return;
  for (size_t input : program.inputs) {
    const Slot &slot = program.slots[input];
    if (slot.type == ElementType::I64 && slot.shape.size() == 1)
      program.labels = input;
  }
  if (!program.labels)
    invalid("recipe.metric", "the metric needs an i64 input of shape [" +
                                 std::to_string(batch) + "] (the labels)");
}

} // namespace

const char *kiln::train::elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I64:
    return "i64";
  case ElementType::U8:
    return "u8";
  }
  return "?";
}

size_t kiln::train::elementSize(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return 4;
  case ElementType::F64:
  case ElementType::I64:
    return 8;
  case ElementType::U8:
    return 1;
  }
  return 1;
}

std::optional<io::DType> kiln::train::toDType(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return io::DType::F32;
  case ElementType::F64:
    return io::DType::F64;
  case ElementType::I64:
    return io::DType::I64;
  case ElementType::U8:
    return std::nullopt;
  }
  return std::nullopt;
}

ElementType kiln::train::fromDType(io::DType dtype) {
  switch (dtype) {
  case io::DType::F32:
    return ElementType::F32;
  case io::DType::F64:
    return ElementType::F64;
  case io::DType::I64:
    return ElementType::I64;
  }
  return ElementType::U8;
}

std::string kiln::train::formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

int64_t Slot::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

Program Program::parse(const std::string &description) {
  Json json;
  try {
    json = Json::parse(description);
  } catch (const Json::exception &e) {
    invalid("JSON", e.what());
  }
  if (!json.is_object())
    invalid("JSON", "expected an object");
  int64_t abi = integer(member(json, "abi", "top level"), "abi", 0);
  if (abi != KILN_ABI_VERSION)
    throw Error("the program was compiled for runtime ABI " +
                    std::to_string(abi) + ", but this runtime has ABI " +
                    std::to_string(KILN_ABI_VERSION),
                kRebuildHint);

  Program program;
  program.model = string(member(json, "model", "top level"), "model");
  program.recipe = parseRecipe(member(json, "recipe", "top level"));
  if (json.contains("device")) {
    std::string device = string(json["device"], "device");
    if (device == "cuda")
      program.target = Target::Cuda;
    else if (device != "cpu")
      invalid("device", "expected \"cpu\" or \"cuda\", got \"" + device + "\"");
  }
  if (program.target == Target::Cuda) {
    program.gpuArch = string(member(json, "gpu_arch", "top level"), "gpu_arch");
    program.gpuFormat =
        string(member(json, "gpu_format", "top level"), "gpu_format");
    if (program.gpuFormat != "ptx" && program.gpuFormat != "cubin")
      invalid("gpu_format", "expected \"ptx\" or \"cubin\", got \"" +
                                program.gpuFormat + "\"");
  }
  const Json &slots = member(json, "slots", "top level");
  if (!slots.is_array())
    invalid("slots", "expected a list");
  for (size_t i = 0; i < slots.size(); ++i)
    program.slots.push_back(
        parseSlot(slots[i], "slots[" + std::to_string(i) + "]"));
  checkSlots(program);
  if (auto it = json["recipe"].find("transforms"); it != json["recipe"].end())
    program.recipe.transforms = parseTransforms(*it, program);
  return program;
}

const Slot *Program::find(const std::string &name, Role role) const {
  for (const Slot &slot : slots)
    if (slot.role == role && slot.name == name)
      return &slot;
  return nullptr;
}

SlotBuffers::SlotBuffers(const Program &program) {
  for (const Slot &slot : program.slots) {
    bool deviceOnly =
        program.target == Target::Cuda && slot.role == Role::Arena;
    // aligned_alloc wants a multiple of the alignment, and a distinct
    // pointer even for an empty slot.
    size_t bytes =
        (std::max<size_t>(deviceOnly ? 0 : slot.numBytes(), 1) + 63) / 64 * 64;
    void *buffer = std::aligned_alloc(64, bytes);
    if (!buffer)
      throw Error("out of memory: slot '" + slot.name + "' needs " +
                      std::to_string(bytes) + " bytes",
                  "free memory, or compile the model with a smaller batch "
                  "size");
    std::memset(buffer, 0, bytes);
    buffers.emplace_back(buffer);
    pointers.push_back(buffer);
  }
}
