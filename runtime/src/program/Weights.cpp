//===- Weights.cpp - A program's parameters and buffers from a file -------===//

#include "program/Weights.h"
#include "program/Description.h"
#include "program/Error.h"

#include "io/Safetensors.h"

#include <cstring>

using namespace kiln;
using namespace kiln::program;

namespace {

/// Where a file of another model's parameters came from, for the hint.
std::string origin(const io::TensorFile &file, const Description &program) {
  auto format = file.metadata.find("format");
  auto model = file.metadata.find("model");
  if (format != file.metadata.end() && format->second == "kiln-checkpoint" &&
      model != file.metadata.end() && model->second != program.model)
    return "it is a checkpoint of model '" + model->second + "', not of '" +
           program.model + "'";
  return "";
}

} // namespace

LoadedWeights kiln::program::loadParameters(const std::string &path,
                                            const Description &program,
                                            SlotBuffers &buffers) {
  io::TensorFile file;
  std::string error;
  if (!io::readTensorFile(path, file, error))
    throw Error(error);
  std::string otherModel = origin(file, program);
  std::vector<size_t> slots = program.params;
  slots.insert(slots.end(), program.buffers.begin(), program.buffers.end());
  for (size_t index : slots) {
    const Slot &slot = program.slots[index];
    std::string kind = slot.role == Role::Param ? "parameter" : "buffer";
    auto it = file.tensors.find(slot.name);
    if (it == file.tensors.end())
      throw Error(path + ": no tensor '" + slot.name + "' for the " + kind +
                      " of that name of model '" + program.model + "', " +
                      elementTypeName(slot.type) + formatShape(slot.shape),
                  otherModel.empty()
                      ? "give a file with every parameter and buffer of the "
                        "model, named as in its PyTorch state_dict"
                      : otherModel);
    const io::TensorData &tensor = it->second;
    if (tensor.shape != slot.shape)
      throw Error(path + ": tensor '" + slot.name + "' has shape " +
                      formatShape(tensor.shape) + ", but the " + kind + " '" +
                      slot.name + "' of model '" + program.model +
                      "' has shape " + formatShape(slot.shape),
                  otherModel.empty() ? "the file is of another model, or of "
                                       "this one with other sizes"
                                     : otherModel);
    bool integral = slot.type == ElementType::I64;
    if (integral != (tensor.dtype == io::DType::I64))
      throw Error(path + ": tensor '" + slot.name + "' holds " +
                      io::dtypeName(tensor.dtype) + " values, but the " + kind +
                      " holds " + elementTypeName(slot.type),
                  integral ? "save the count as int64"
                           : "save it as float32 or float64");
    if (integral) {
      std::memcpy(buffers.get<int64_t>(index), tensor.bytes.data(),
                  slot.numBytes());
    } else if (tensor.dtype == io::DType::F32) {
      std::memcpy(buffers.get<float>(index), tensor.bytes.data(),
                  slot.numBytes());
    } else {
      float *values = buffers.get<float>(index);
      for (int64_t i = 0; i < slot.numElements(); ++i)
        values[i] = static_cast<float>(tensor.data<double>()[i]);
    }
  }
  LoadedWeights loaded;
  for (const auto &[name, tensor] : file.tensors)
    if (!program.find(name, Role::Param) && !program.find(name, Role::Buffer))
      loaded.ignored.push_back(name);
  loaded.metadata = std::move(file.metadata);
  return loaded;
}
