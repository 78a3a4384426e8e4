//===- kiln-run.cpp - Runs a kiln function with the reference evaluator ---===//
//
// `kiln-run FILE.mlir -inputs IN.safetensors -outputs OUT.safetensors` reads
// each argument of the function from the tensor of IN that bears its name
// (kiln::getArgumentName), evaluates the function with the reference
// evaluator, and writes each result to OUT under its name
// (kiln::getResultName), in its element type. Numeric tests compare OUT with
// what PyTorch computes. Exit status: 0 on success, 1 on any error.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnDialect.h"
#include "Kiln/IR/KilnNames.h"
#include "Reference/Evaluator.h"
#include "io/Safetensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;
using kiln::reference::Precision;

namespace {

cl::OptionCategory runCategory("kiln-run options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<file.mlir>"),
                               cl::Required, cl::cat(runCategory));

cl::opt<std::string> functionName(
    "function",
    cl::desc("The function to run (default: the file's only function)"),
    cl::value_desc("name"), cl::cat(runCategory));

cl::opt<std::string> inputsPath(
    "inputs",
    cl::desc("The arguments, one tensor per argument name (needed when the "
             "function has arguments)"),
    cl::value_desc("file.safetensors"), cl::cat(runCategory));

cl::opt<std::string> outputsPath(
    "outputs", cl::desc("Where to write the results, by result name"),
    cl::value_desc("file.safetensors"), cl::Required, cl::cat(runCategory));

cl::opt<Precision> precision(
    "precision", cl::desc("The arithmetic of the evaluation"),
    cl::values(clEnumValN(Precision::F32, "f32",
                          "round every result to float, as f32 programs do"),
               clEnumValN(Precision::F64, "f64",
                          "evaluate in double, whatever the types say")),
    cl::init(Precision::F64), cl::cat(runCategory));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "kiln-run") << message << "\n";
  return 1;
}

/// The function to run: the one named -function, or the only one.
mlir::func::FuncOp pickFunction(mlir::ModuleOp module, std::string &error) {
  auto functions = llvm::to_vector(module.getOps<mlir::func::FuncOp>());
  if (functions.empty()) {
    error = inputFile + " has no function to run";
    return nullptr;
  }
  std::string names;
  for (mlir::func::FuncOp func : functions)
    names += (names.empty() ? "@" : ", @") + func.getName().str();
  if (!functionName.empty()) {
    for (mlir::func::FuncOp func : functions)
      if (func.getName() == functionName)
        return func;
    error = inputFile + " has no function @" + functionName +
            "; its functions are: " + names;
    return nullptr;
  }
  if (functions.size() > 1) {
    error = inputFile + " has " + std::to_string(functions.size()) +
            " functions (" + names + "); choose one with -function";
    return nullptr;
  }
  return functions.front();
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The dtype that holds elements of `type` in a safetensors file.
kiln::io::DType dtypeOf(mlir::Type type) {
  if (type.isF32())
    return kiln::io::DType::F32;
  if (type.isF64())
    return kiln::io::DType::F64;
  return kiln::io::DType::I64;
}

/// The evaluator's arguments, read from `inputs` by argument name; checks
/// each tensor's dtype and shape against the argument's type.
bool readArguments(mlir::func::FuncOp func, const kiln::io::TensorFile &inputs,
                   std::vector<kiln::reference::Tensor> &args,
                   std::string &error) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    std::string name = kiln::getArgumentName(func, i);
    std::string what =
        "argument #" + std::to_string(i) + " of @" + func.getName().str();
    auto found = inputs.tensors.find(name);
    if (found == inputs.tensors.end()) {
      error = inputsPath + " has no tensor '" + name + "' for " + what +
              "; add it to the file";
      return false;
    }
    const kiln::io::TensorData &data = found->second;
    auto type =
        llvm::dyn_cast<mlir::RankedTensorType>(func.getArgumentTypes()[i]);
    // The evaluator explains what it needs of types that are not static.
    if (type && type.hasStaticShape()) {
      kiln::io::DType expected = dtypeOf(type.getElementType());
      if (data.dtype != expected) {
        error = inputsPath + ": tensor '" + name + "' is " +
                kiln::io::dtypeName(data.dtype) + " but " + what + " needs " +
                kiln::io::dtypeName(expected);
        return false;
      }
      if (llvm::ArrayRef<int64_t>(data.shape) != type.getShape()) {
        error = inputsPath + ": tensor '" + name + "' has shape " +
                formatShape(data.shape) + " but " + what + " expects " +
                formatShape(type.getShape());
        return false;
      }
    }
    args.push_back(kiln::reference::fromTensorData(data));
  }
  return true;
}

/// `results` by result name, each in its type's element type.
bool collectResults(mlir::func::FuncOp func,
                    llvm::ArrayRef<kiln::reference::Tensor> results,
                    kiln::io::TensorFile &outputs, std::string &error) {
  for (auto [i, tensor] : llvm::enumerate(results)) {
    std::string name = kiln::getResultName(func, i);
    mlir::Type elementType =
        mlir::cast<mlir::ShapedType>(func.getResultTypes()[i]).getElementType();
    if (!outputs.tensors
             .emplace(name, kiln::reference::toTensorData(tensor, elementType))
             .second) {
      error = "@" + func.getName().str() + " has two results named '" + name +
              "'; a safetensors file holds one tensor per name";
      return false;
    }
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&runCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "Runs a kiln function on safetensors inputs with the reference "
      "evaluator\n");

  mlir::DialectRegistry registry;
  registry.insert<kiln::KilnDialect, mlir::func::FuncDialect>();
  mlir::MLIRContext context(registry);
  // Errors show the source line already; the op in generic form is noise.
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code code = buffer.getError())
    return fail("cannot read '" + inputFile + "': " + code.message());
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  std::string error;
  mlir::func::FuncOp func = pickFunction(*module, error);
  if (!func)
    return fail(error);

  kiln::io::TensorFile inputs;
  std::vector<kiln::reference::Tensor> args;
  if (inputsPath.empty() && func.getNumArguments())
    return fail("@" + func.getName() +
                " has arguments; give a file of their tensors with -inputs");
  if (!inputsPath.empty() &&
      !kiln::io::readTensorFile(inputsPath, inputs, error))
    return fail(error);
  if (!readArguments(func, inputs, args, error))
    return fail(error);

  auto results = kiln::reference::evaluate(func, args, precision);
  if (mlir::failed(results))
    return 1;

  kiln::io::TensorFile outputs;
  if (!collectResults(func, *results, outputs, error) ||
      !kiln::io::writeTensorFile(outputsPath, outputs, error))
    return fail(error);
  return 0;
}
