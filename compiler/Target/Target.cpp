//===- Target.cpp - From the LLVM dialect to an object file and a trainer -===//

#include "Target/Target.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;
using namespace kiln;

namespace {

llvm::OptimizationLevel optimizationLevel(unsigned level) {
  switch (level) {
  case 0:
    return llvm::OptimizationLevel::O0;
  case 1:
    return llvm::OptimizationLevel::O1;
  case 2:
    return llvm::OptimizationLevel::O2;
  default:
    return llvm::OptimizationLevel::O3;
  }
}

/// The target machine of the host (or of `options.cpu`), for PIC code.
std::unique_ptr<llvm::TargetMachine>
hostMachine(const CodegenOptions &options, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = options.cpu == "native" ? llvm::sys::getHostCPUName().str()
                                            : options.cpu;
  llvm::SubtargetFeatures features;
  if (options.cpu == "native")
    for (const auto &[feature, enabled] : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature, enabled);
  llvm::TargetOptions targetOptions;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu, features.getString(), targetOptions, llvm::Reloc::PIC_));
}

} // namespace

std::unique_ptr<llvm::Module>
kiln::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &context,
                        const CodegenOptions &options) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context);
  if (!llvmModule) {
    module.emitError("could not translate the module to LLVM IR");
    return nullptr;
  }
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine = hostMachine(options, error);
  if (!machine) {
    module.emitError("no target for this machine: ") << error;
    return nullptr;
  }
  llvmModule->setTargetTriple(machine->getTargetTriple());
  llvmModule->setDataLayout(machine->createDataLayout());

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder passes(machine.get());
  passes.registerModuleAnalyses(modules);
  passes.registerCGSCCAnalyses(cgscc);
  passes.registerFunctionAnalyses(functions);
  passes.registerLoopAnalyses(loops);
  passes.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::ModulePassManager pipeline =
      options.optLevel == 0
          ? passes.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
          : passes.buildPerModuleDefaultPipeline(
                optimizationLevel(options.optLevel));
  pipeline.run(*llvmModule, modules);
  return llvmModule;
}

LogicalResult kiln::emitObjectFile(llvm::Module &module, StringRef path,
                                   const CodegenOptions &options,
                                   std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine = hostMachine(options, error);
  if (!machine)
    return failure();
  std::error_code code;
  llvm::ToolOutputFile output(path, code, llvm::sys::fs::OF_None);
  if (code) {
    error = "cannot write '" + path.str() + "': " + code.message();
    return failure();
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, output.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "this target cannot emit object files";
    return failure();
  }
  codegen.run(module);
  output.keep();
  return success();
}

LogicalResult kiln::linkTrainer(StringRef object, StringRef output,
                                std::string &error) {
  // The runtime library lies next to kilnc: bin/kilnc and lib/libkiln_runtime.a.
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> runtime(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(self)));
  llvm::sys::path::append(runtime, "lib", "libkiln_runtime.a");
  if (!llvm::sys::fs::exists(runtime)) {
    error = "the Kiln runtime library is missing at " + runtime.str().str() +
            "; build the project (ninja) or reinstall Kiln";
    return failure();
  }
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName("clang++-22");
  if (!driver)
    driver = llvm::sys::findProgramByName("c++");
  if (!driver) {
    error = "no C++ compiler driver (clang++-22 or c++) to link with; install "
            "clang-22";
    return failure();
  }
  // libcsv parses csv(...) tables; Debian's libstb.a decodes images(...).
  SmallVector<StringRef> args = {*driver,     object,   runtime, "-o",
                                 output,      "-ldnnl", "-lz",   "-lcsv",
                                 "-l:libstb.a", "-lgomp", "-lpthread", "-lm"};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0) {
    error = "linking " + output.str() + " failed" +
            (message.empty() ? std::string() : ": " + message);
    return failure();
  }
  return success();
}
