//===- Output.cpp - kilnc's last stages: LLVM IR, objects, executables ----===//

#include "Output.h"

#include "Conversion/Program/LibraryApi.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using kiln::Stage;

namespace {

bool fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "kilnc") << message << "\n";
  return false;
}

/// Writes the C header of the inference library in `module` beside
/// `library` (or to the header file named) and returns the names of its
/// functions.
std::optional<std::vector<std::string>>
writeLibraryHeader(mlir::ModuleOp module, llvm::StringRef library,
                   const kiln::OutputOptions &options) {
  auto description =
      module->getAttrOfType<mlir::StringAttr>("kiln.description");
  llvm::Expected<kiln::LibraryApi> api = kiln::LibraryApi::fromDescription(
      description.getValue(), options.apiPrefix);
  if (!api) {
    fail(llvm::toString(api.takeError()));
    return std::nullopt;
  }
  llvm::SmallString<128> header(options.headerFile);
  if (header.empty()) {
    header = llvm::sys::path::parent_path(library);
    llvm::sys::path::append(header, api->prefix + ".h");
  }
  std::string error;
  auto output = mlir::openOutputFile(header, &error);
  if (!output) {
    fail(error);
    return std::nullopt;
  }
  api->writeHeader(output->os(), options.source);
  output->keep();
  std::vector<std::string> functions;
  for (llvm::StringRef suffix : {"load", "run", "last_error", "free"})
    functions.push_back(api->function(suffix));
  return functions;
}

} // namespace

bool kiln::writeOutput(mlir::ModuleOp module, const OutputOptions &options,
                       mlir::TimingScope &timing, llvm::raw_ostream &os) {
  const kiln::CodegenOptions &codegen = options.codegen;
  Stage emit = options.stage;
  bool library = emit == Stage::SharedLibrary || emit == Stage::StaticLibrary;
  mlir::TimingScope phase = timing.nest("Translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      kiln::translateToLLVMIR(module, llvmContext, codegen);
  if (!llvmModule)
    return false;
  std::string error;
  if (emit == Stage::LLVMIR) {
    phase = timing.nest("Optimize LLVM IR");
    if (failed(kiln::optimizeLLVMIR(*llvmModule, codegen, error)))
      return fail(error);
    llvmModule->print(os, nullptr);
    return true;
  }

  phase = timing.nest("Optimize, object code and link");
  const std::string &output = options.path;
  if (emit == Stage::Object) {
    if (failed(kiln::emitObjectFile(*llvmModule, output, codegen, error)))
      return fail(error);
    return true;
  }
  llvm::SmallString<128> object;
  if (std::error_code code =
          llvm::sys::fs::createTemporaryFile("kilnc", "o", object))
    return fail("cannot create a temporary file: " + code.message());
  llvm::FileRemover removeObject(object);
  if (failed(kiln::emitObjectFile(*llvmModule, object, codegen, error,
                                  /*parallel=*/!library)))
    return fail(error);
  if (!library)
    return succeeded(kiln::linkTrainer(object, output, error)) || fail(error);
  std::optional<std::vector<std::string>> functions =
      writeLibraryHeader(module, output, options);
  if (!functions)
    return false;
  if (failed(kiln::linkLibrary(object, output, emit == Stage::SharedLibrary,
                               *functions, error)))
    return fail(error);
  return true;
}
