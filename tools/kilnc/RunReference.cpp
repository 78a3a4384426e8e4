//===- RunReference.cpp - kilnc -run-reference: a stage run by the evaluator
//===//

#include "RunReference.h"

#include "Reference/RunFiles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"

namespace cl = llvm::cl;
using kiln::Stage;

llvm::cl::OptionCategory &kiln::kilncCategory() {
  static cl::OptionCategory category("kilnc options");
  return category;
}

namespace {

cl::opt<bool> runReferenceFlag(
    "run-reference",
    cl::desc("Instead of printing the stage (-emit=kiln, kiln-grad or "
             "train-step), run one of its functions with the reference "
             "evaluator"),
    cl::init(false), cl::cat(kiln::kilncCategory()));

cl::opt<std::string> functionName(
    "function",
    cl::desc("With -run-reference: the function to run (default: the "
             "stage's only function)"),
    cl::value_desc("name"), cl::cat(kiln::kilncCategory()));

cl::opt<std::string> inputsPath(
    "inputs",
    cl::desc("With -run-reference: the arguments, one tensor per argument "
             "name"),
    cl::value_desc("file.safetensors"), cl::cat(kiln::kilncCategory()));

cl::opt<std::string> outputsPath(
    "outputs",
    cl::desc("With -run-reference: where to write the results, by result name"),
    cl::value_desc("file.safetensors"), cl::cat(kiln::kilncCategory()));

cl::opt<kiln::reference::Precision> referencePrecision(
    "reference-precision",
    cl::desc("With -run-reference: the arithmetic of the run"),
    cl::values(clEnumValN(kiln::reference::Precision::F32, "f32",
                          "round every result to float, as f32 programs do"),
               clEnumValN(kiln::reference::Precision::F64, "f64",
                          "evaluate in double, whatever the types say")),
    cl::init(kiln::reference::Precision::F64), cl::cat(kiln::kilncCategory()));

} // namespace

bool kiln::runReferenceRequested() { return runReferenceFlag; }

std::string kiln::runReferenceProblem(Stage emit, bool outputGiven,
                                      bool splitInputFile) {
  if (!runReferenceFlag) {
    for (cl::Option *option : std::initializer_list<cl::Option *>{
             &functionName, &inputsPath, &outputsPath, &referencePrecision})
      if (option->getNumOccurrences())
        return llvm::formatv("-{0} is an option of -run-reference; add "
                             "-run-reference or drop -{0}",
                             option->ArgStr)
            .str();
    return "";
  }
  if (emit != Stage::Kiln && emit != Stage::KilnGrad &&
      emit != Stage::TrainStep)
    return "-run-reference runs a function of kiln IR; choose its stage with "
           "-emit=kiln, -emit=kiln-grad or -emit=train-step";
  if (outputsPath.empty())
    return "-run-reference writes the results to a safetensors file; name it "
           "with -outputs";
  if (outputGiven)
    return "-run-reference prints nothing for -o; name the results' file with "
           "-outputs";
  if (splitInputFile)
    return "-run-reference runs one model; drop --split-input-file";
  return "";
}

bool kiln::runReference(mlir::ModuleOp module, Stage emit,
                        llvm::StringRef inputFile, std::string &error) {
  std::string stage = emit == Stage::Kiln       ? "kiln"
                      : emit == Stage::KilnGrad ? "kiln-grad"
                                                : "train-step";
  mlir::func::FuncOp func = reference::pickFunction(
      module, functionName, "the " + stage + " stage of " + inputFile.str(),
      error);
  if (!func)
    return false;
  // The evaluator's errors show the source line; the op is noise there.
  module->getContext()->printOpOnDiagnostic(false);
  return succeeded(reference::runOnFiles(func, inputsPath, outputsPath,
                                         referencePrecision, error));
}
