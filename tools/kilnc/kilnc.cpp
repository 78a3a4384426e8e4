//===- kilnc.cpp - The Kiln compiler driver -------------------------------===//
//
// `kilnc FILE -emit=STAGE` stops after a stage of the pipeline and prints it,
// as the Toy tutorial's driver does. Exit status: 0 on success, 1 when the
// input or the command line has an error.
//
//===----------------------------------------------------------------------===//

#include "Frontend/Parser.h"
#include "Frontend/Sema.h"
#include "MLIRGen/MLIRGen.h"
#include "Pipelines/Pipelines.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

namespace {

enum class Stage { AST, Kiln, KilnGrad, TrainStep };

cl::OptionCategory kilnCategory("kilnc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.kiln>"),
                               cl::Required, cl::cat(kilnCategory));

cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(kilnCategory));

cl::opt<Stage> emit(
    "emit", cl::desc("The stage to stop after and print"),
    cl::values(clEnumValN(Stage::AST, "ast", "the syntax tree"),
               clEnumValN(Stage::Kiln, "kiln",
                          "the model in the kiln dialect"),
               clEnumValN(Stage::KilnGrad, "kiln-grad",
                          "with its gradient function (kiln-autodiff)"),
               clEnumValN(Stage::TrainStep, "train-step",
                          "with the training and evaluation steps")),
    cl::init(Stage::Kiln), cl::cat(kilnCategory));

cl::opt<int64_t> batchSize(
    "batch-size", cl::desc("Replace the train section's batch_size"),
    cl::init(0), cl::cat(kilnCategory));

cl::opt<bool> splitInputFile(
    "split-input-file",
    cl::desc("Compile each part of the file between '# -----' lines on its "
             "own (for tests)"),
    cl::init(false), cl::cat(kilnCategory));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "kilnc") << message << "\n";
  return 1;
}

/// Compiles one source buffer up to the requested stage and prints it.
/// Returns whether it succeeded; errors go to stderr.
bool compile(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::raw_ostream &os) {
  llvm::SourceMgr sourceMgr;
  llvm::StringRef source = buffer->getBuffer();
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  kiln::DiagnosticEngine diags(sourceMgr, llvm::errs());

  std::optional<kiln::Module> module = kiln::Parser(source, diags).parseModule();
  if (!module)
    return false;
  if (emit == Stage::AST) {
    kiln::printModule(*module, os, &sourceMgr);
    return true;
  }

  kiln::SemaOptions options;
  if (batchSize.getNumOccurrences())
    options.batchSize = batchSize;
  std::optional<kiln::Program> program = kiln::analyze(*module, diags, options);
  if (!program)
    return false;

  mlir::MLIRContext context;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> ir =
      kiln::mlirGen(context, *program, sourceMgr);
  if (!ir)
    return false;
  if (emit != Stage::Kiln) {
    mlir::PassManager pm(&context);
    if (failed(mlir::applyPassManagerCLOptions(pm)))
      return false;
    if (emit == Stage::KilnGrad)
      kiln::buildGradientPipeline(pm);
    else
      kiln::buildTrainStepPipeline(pm);
    if (failed(pm.run(*ir)))
      return false;
  }
  ir->print(os);
  return true;
}

/// The parts of `text` between lines that read "# -----", each padded with
/// the newlines before it so that line numbers stay those of the file.
std::vector<std::unique_ptr<llvm::MemoryBuffer>>
splitInput(llvm::StringRef text, llvm::StringRef name) {
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> parts;
  std::string part;
  unsigned line = 0, partStart = 0;
  auto flush = [&] {
    parts.push_back(llvm::MemoryBuffer::getMemBufferCopy(
        std::string(partStart, '\n') + part, name));
    part.clear();
  };
  while (!text.empty()) {
    auto [current, rest] = text.split('\n');
    text = rest;
    ++line;
    if (current.trim() == "# -----") {
      flush();
      partStart = line;
      continue;
    }
    part += current.str() + "\n";
  }
  flush();
  return parts;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  cl::HideUnrelatedOptions({&kilnCategory});
  cl::ParseCommandLineOptions(argc, argv, "Kiln compiler\n");
  if (batchSize.getNumOccurrences() && batchSize <= 0)
    return fail("--batch-size must be positive");

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code error = buffer.getError())
    return fail("cannot read '" + inputFile + "': " + error.message());

  std::string error;
  auto output = mlir::openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);

  bool ok = true;
  if (!splitInputFile) {
    ok = compile(std::move(*buffer), output->os());
  } else {
    auto parts = splitInput((*buffer)->getBuffer(), inputFile);
    for (auto [i, part] : llvm::enumerate(parts)) {
      if (i)
        output->os() << "// -----\n";
      ok &= compile(std::move(part), output->os());
    }
  }
  if (!ok)
    return 1;
  output->keep();
  return 0;
}
