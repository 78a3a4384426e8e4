//===- kiln-run.cpp - Runs a kiln function with the reference evaluator ---===//
//
// `kiln-run FILE.mlir -inputs IN.safetensors -outputs OUT.safetensors` reads
// each argument of the function from the tensor of IN that bears its name
// (kiln::getArgumentName), evaluates the function with the reference
// evaluator, and writes each result to OUT under its name
// (kiln::getResultName), in its element type (or as F64 when -precision f64
// is given F64 tensors for f32 arguments).
// Numeric tests compare OUT with what PyTorch computes. `kilnc -run-reference`
// does the same (Reference/RunFiles.h) on a stage of a Kiln model. Exit
// status: 0 on success, 1 on any error.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnDialect.h"
#include "Reference/RunFiles.h"

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
  mlir::func::FuncOp func =
      kiln::reference::pickFunction(*module, functionName, inputFile, error);
  if (!func)
    return fail(error);
  if (failed(kiln::reference::runOnFiles(func, inputsPath, outputsPath,
                                         precision, error)))
    return error.empty() ? 1 : fail(error);
  return 0;
}
