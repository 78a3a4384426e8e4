//===- Description.cpp - Parsing and checking a program's description -----===//

#include "program/Description.h"
#include "program/DescriptionJson.h"
#include "program/Error.h"

#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

using namespace kiln;
using namespace kiln::program;

void kiln::program::invalid(const std::string &where, const std::string &what) {
  throw Error("the program's description is invalid: " + where + ": " + what,
              kRebuildHint);
}

const Json &kiln::program::member(const Json &object, const char *key,
                                  const std::string &where) {
  auto it = object.find(key);
  if (it == object.end())
    invalid(where, std::string("'") + key + "' is missing");
  return *it;
}

std::string kiln::program::string(const Json &value, const std::string &where) {
  if (!value.is_string())
    invalid(where, "expected a string, got " + value.dump());
  return value.get<std::string>();
}

int64_t kiln::program::integer(const Json &value, const std::string &where,
                               int64_t least) {
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() &&
       value.get<uint64_t>() > uint64_t(INT64_MAX)) ||
      value.get<int64_t>() < least)
    invalid(where, "expected an integer of at least " + std::to_string(least) +
                       ", got " + value.dump());
  return value.get<int64_t>();
}

double kiln::program::number(const Json &value, const std::string &where) {
  if (!value.is_number() || !std::isfinite(value.get<double>()))
    invalid(where, "expected a finite number, got " + value.dump());
  return value.get<double>();
}

int64_t kiln::program::optionalInteger(const Json &object, const char *key,
                                       const std::string &where, int64_t least,
                                       int64_t fallback) {
  auto it = object.find(key);
  return it == object.end() ? fallback : integer(*it, where + "." + key, least);
}

namespace {

Role parseRole(const std::string &name, const std::string &where) {
  for (Role role : {Role::Param, Role::State, Role::Buffer, Role::Step,
                    Role::TotalSteps, Role::Input, Role::Output, Role::Arena})
    if (name == roleName(role))
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
  if (slot.role == Role::Param || slot.role == Role::Buffer)
    slot.init = parseDistribution(member(json, "init", where), where + ".init");
  if (slot.role == Role::Input && slot.type == ElementType::I64) {
    slot.range = optionalInteger(json, "range", where, 1, 0);
    if (auto it = json.find("ignore_index"); it != json.end())
      slot.ignoreIndex = integer(*it, where + ".ignore_index", INT64_MIN);
  }
  return slot;
}

/// What every program's slots must be, whatever it is for.
void checkSlots(Description &program) {
  std::set<std::string> tensorNames;
  bool arena = false;
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    std::string where = "slot '" + slot.name + "'";
    switch (slot.role) {
    case Role::Param:
    case Role::State:
    case Role::Buffer:
      // Parameters, state and buffers are the tensors of checkpoints, keyed
      // by name.
      if (!tensorNames.insert(slot.name).second)
        invalid(where, "two parameters, state or buffer slots have this name");
      if (slot.role == Role::Param && slot.type != ElementType::F32)
        invalid(where, "parameters are f32");
      if (slot.type == ElementType::U8)
        invalid(where, "state cannot be u8");
      if (slot.role == Role::Param)
        program.params.push_back(i);
      if (slot.role == Role::Buffer)
        program.buffers.push_back(i);
      break;
    case Role::Input:
      if (slot.type == ElementType::U8)
        invalid(where, "inputs cannot be u8");
      if (slot.shape.empty())
        invalid(where, "an input's first dimension is the batch size, but "
                       "it is a scalar");
      break;
    case Role::Arena:
      if (arena)
        invalid("slots", "more than one slot has role 'arena'");
      if (slot.type != ElementType::U8 || slot.shape.size() != 1)
        invalid(where, "the arena is u8[bytes]");
      arena = true;
      break;
    case Role::Step:
    case Role::TotalSteps:
    case Role::Output:
      break;
    }
  }
}

std::optional<Step> parseStep(const Json &root, const char *key,
                              size_t slotCount) {
  auto it = root.find(key);
  if (it == root.end())
    return std::nullopt;
  std::string where = key;
  if (!it->is_object())
    invalid(where, "expected an object, got " + it->dump());
  Step step;
  step.flops = optionalInteger(*it, "flops", where, 0, 0);
  const Json &slots = member(*it, "slots", where);
  if (!slots.is_array())
    invalid(where + ".slots", "expected a list of slot numbers");
  for (const Json &slot : slots) {
    int64_t index = integer(slot, where + ".slots", 0);
    if (index >= static_cast<int64_t>(slotCount))
      invalid(where + ".slots", "slot " + std::to_string(index) +
                                    " does not exist");
    step.slots.push_back(static_cast<size_t>(index));
  }
  return step;
}

} // namespace

Json kiln::program::parseJson(const std::string &text) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception &e) {
    invalid("JSON", e.what());
  }
  if (!json.is_object())
    invalid("JSON", "expected an object");
  return json;
}

Description kiln::program::parseDescription(const Json &json) {
  int64_t abi = integer(member(json, "abi", "top level"), "abi", 0);
  if (abi != KILN_ABI_VERSION)
    throw Error("the program was compiled for runtime ABI " +
                    std::to_string(abi) + ", but this runtime has ABI " +
                    std::to_string(KILN_ABI_VERSION),
                kRebuildHint);

  Description program;
  program.model = string(member(json, "model", "top level"), "model");
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
  program.train = parseStep(json, "train", program.slots.size());
  program.eval = parseStep(json, "eval", program.slots.size());
  program.predict = parseStep(json, "predict", program.slots.size());
  return program;
}

Description Description::parse(const std::string &text) {
  return parseDescription(parseJson(text));
}

const Slot *Description::find(const std::string &name, Role role) const {
  for (const Slot &slot : slots)
    if (slot.role == role && slot.name == name)
      return &slot;
  return nullptr;
}

std::vector<size_t> Description::slotsOf(const Step &step, Role role) const {
  std::vector<size_t> found;
  for (size_t slot : step.slots)
    if (slots[slot].role == role)
      found.push_back(slot);
  return found;
}

const char *kiln::program::roleName(Role role) {
  switch (role) {
  case Role::Param:
    return "param";
  case Role::State:
    return "state";
  case Role::Buffer:
    return "buffer";
  case Role::Step:
    return "step";
  case Role::TotalSteps:
    return "total_steps";
  case Role::Input:
    return "input";
  case Role::Output:
    return "output";
  case Role::Arena:
    return "arena";
  }
  return "?";
}

const char *kiln::program::elementTypeName(ElementType type) {
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

size_t kiln::program::elementSize(ElementType type) {
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

std::optional<io::DType> kiln::program::toDType(ElementType type) {
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

ElementType kiln::program::fromDType(io::DType dtype) {
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

std::string kiln::program::formatShape(const std::vector<int64_t> &shape) {
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

SlotBuffers::SlotBuffers(const Description &program,
                         const std::vector<size_t> &external) {
  for (size_t i = 0; i < program.slots.size(); ++i) {
    const Slot &slot = program.slots[i];
    bool empty = (program.target == Target::Cuda && slot.role == Role::Arena) ||
                 std::find(external.begin(), external.end(), i) !=
                     external.end();
    // aligned_alloc wants a multiple of the alignment, and a distinct
    // pointer even for an empty slot.
    size_t bytes =
        (std::max<size_t>(empty ? 0 : slot.numBytes(), 1) + 63) / 64 * 64;
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
