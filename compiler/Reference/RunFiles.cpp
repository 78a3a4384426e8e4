//===- RunFiles.cpp - Runs a kiln function on safetensors files -----------===//

#include "Reference/RunFiles.h"

#include "Kiln/IR/KilnNames.h"
#include "io/Safetensors.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The dtype that holds elements of `type` in a safetensors file.
io::DType dtypeOf(Type type) {
  if (type.isF32())
    return io::DType::F32;
  if (type.isF64())
    return io::DType::F64;
  return io::DType::I64;
}

/// The evaluator's arguments, read from `inputs` (the file `path`) by
/// argument name; checks each tensor's dtype and shape against the
/// argument's type. Sets `widened` when an f32 argument comes as F64.
bool readArguments(func::FuncOp func, const io::TensorFile &inputs,
                   StringRef path, Precision precision,
                   std::vector<Tensor> &args, bool &widened,
                   std::string &error) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    std::string name = getArgumentName(func, i);
    std::string what =
        "argument #" + std::to_string(i) + " of @" + func.getName().str();
    auto found = inputs.tensors.find(name);
    if (found == inputs.tensors.end()) {
      error = path.str() + " has no tensor '" + name + "' for " + what +
              "; add it to the file";
      return false;
    }
    const io::TensorData &data = found->second;
    auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    // The evaluator explains what it needs of types that are not static.
    if (type && type.hasStaticShape()) {
      io::DType expected = dtypeOf(type.getElementType());
      bool wider = precision == Precision::F64 && expected == io::DType::F32 &&
                   data.dtype == io::DType::F64;
      widened |= wider;
      if (data.dtype != expected && !wider) {
        error = path.str() + ": tensor '" + name + "' is " +
                io::dtypeName(data.dtype) + " but " + what + " needs " +
                io::dtypeName(expected);
        return false;
      }
      if (ArrayRef<int64_t>(data.shape) != type.getShape()) {
        error = path.str() + ": tensor '" + name + "' has shape " +
                formatShape(data.shape) + " but " + what + " expects " +
                formatShape(type.getShape());
        return false;
      }
    }
    args.push_back(fromTensorData(data));
  }
  return true;
}

/// `results` by result name, each in its type's element type, or reals as
/// F64 when `widened`.
bool collectResults(func::FuncOp func, ArrayRef<Tensor> results, bool widened,
                    io::TensorFile &outputs, std::string &error) {
  for (auto [i, tensor] : llvm::enumerate(results)) {
    std::string name = getResultName(func, i);
    Type elementType =
        cast<ShapedType>(func.getResultTypes()[i]).getElementType();
    if (widened && isa<FloatType>(elementType))
      elementType = Builder(func.getContext()).getF64Type();
    if (!outputs.tensors.emplace(name, toTensorData(tensor, elementType))
             .second) {
      error = "@" + func.getName().str() + " has two results named '" + name +
              "'; a safetensors file holds one tensor per name";
      return false;
    }
  }
  return true;
}

} // namespace

func::FuncOp reference::pickFunction(ModuleOp module, StringRef name,
                                     StringRef source, std::string &error) {
  auto functions = llvm::to_vector(module.getOps<func::FuncOp>());
  if (functions.empty()) {
    error = source.str() + " has no function to run";
    return nullptr;
  }
  std::string names;
  for (func::FuncOp func : functions)
    names += (names.empty() ? "@" : ", @") + func.getName().str();
  if (!name.empty()) {
    for (func::FuncOp func : functions)
      if (func.getName() == name)
        return func;
    error = source.str() + " has no function @" + name.str() +
            "; its functions are: " + names;
    return nullptr;
  }
  if (functions.size() > 1) {
    error = source.str() + " has " + std::to_string(functions.size()) +
            " functions (" + names + "); choose one with -function";
    return nullptr;
  }
  return functions.front();
}

LogicalResult reference::runOnFiles(func::FuncOp func, StringRef inputsPath,
                                    StringRef outputsPath, Precision precision,
                                    std::string &error) {
  if (inputsPath.empty() && func.getNumArguments()) {
    error = "@" + func.getName().str() +
            " has arguments; give a file of their tensors with -inputs";
    return failure();
  }
  io::TensorFile inputs;
  std::vector<Tensor> args;
  bool widened = false;
  if (!inputsPath.empty() &&
      !io::readTensorFile(inputsPath.str(), inputs, error))
    return failure();
  if (!readArguments(func, inputs, inputsPath, precision, args, widened, error))
    return failure();

  auto results = evaluate(func, args, precision);
  if (failed(results))
    return failure();

  io::TensorFile outputs;
  if (!collectResults(func, *results, widened, outputs, error) ||
      !io::writeTensorFile(outputsPath.str(), outputs, error))
    return failure();
  return success();
}
