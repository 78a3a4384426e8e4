//===- Weights.cpp - A program's parameters from a safetensors file -------===//

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
  for (size_t param : program.params) {
    const Slot &slot = program.slots[param];
    auto it = file.tensors.find(slot.name);
    if (it == file.tensors.end())
      throw Error(path + ": no tensor '" + slot.name +
                      "' for the parameter of that name of model '" +
                      program.model + "', f32" + formatShape(slot.shape),
                  otherModel.empty()
                      ? "give a file with every parameter of the model, "
                        "named as in its PyTorch state_dict"
                      : otherModel);
    const io::TensorData &tensor = it->second;
    if (tensor.shape != slot.shape)
      throw Error(path + ": tensor '" + slot.name + "' has shape " +
                      formatShape(tensor.shape) + ", but the parameter '" +
                      slot.name + "' of model '" + program.model +
                      "' has shape " + formatShape(slot.shape),
                  otherModel.empty() ? "the file is of another model, or of "
                                       "this one with other sizes"
                                     : otherModel);
    float *values = buffers.get<float>(param);
    switch (tensor.dtype) {
    case io::DType::F32:
      std::memcpy(values, tensor.bytes.data(), slot.numBytes());
      break;
    case io::DType::F64:
      for (int64_t i = 0; i < slot.numElements(); ++i)
        values[i] = static_cast<float>(tensor.data<double>()[i]);
      break;
    case io::DType::I64:
      throw Error(path + ": tensor '" + slot.name +
                      "' holds integers (I64), but parameters are real numbers",
                  "save the parameter as float32 or float64");
    }
  }
  LoadedWeights loaded;
  for (const auto &[name, tensor] : file.tensors)
    if (!program.find(name, Role::Param))
      loaded.ignored.push_back(name);
  loaded.metadata = std::move(file.metadata);
  return loaded;
}
