//===- Target.cpp - From the LLVM dialect to an object file and a trainer -===//

#include "Target/Target.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Transforms/IPO/MergeFunctions.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <thread>

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
  return llvmModule;
}

namespace {

/// Runs LLVM's pipeline of `options.optLevel` on `module`, for `machine`.
void optimize(llvm::Module &module, llvm::TargetMachine &machine,
              const CodegenOptions &options) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  // Every loop has a static trip count, so LLVM's unroller would unroll
  // the small ones fully, nested in the vectorized bodies: twice the code
  // and twice the code generation time for the Transformer, for no step time
  // (the vectorizer still interleaves the inner loops).
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  llvm::PassBuilder passes(&machine, tuning);
  passes.registerModuleAnalyses(modules);
  passes.registerCGSCCAnalyses(cgscc);
  passes.registerFunctionAnalyses(functions);
  passes.registerLoopAnalyses(loops);
  passes.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::ModulePassManager pipeline;
  pipeline.addPass(
      options.optLevel == 0
          ? passes.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
          : passes.buildPerModuleDefaultPipeline(
                optimizationLevel(options.optLevel)));
  pipeline.run(module, modules);
}

/// The evaluation and prediction steps repeat the training step's forward
/// ops, and each op's outlined loop is a function of its own: merged first,
/// each is optimized and compiled once.
void mergeFunctions(llvm::Module &module) {
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder().registerModuleAnalyses(modules);
  llvm::ModulePassManager pipeline;
  pipeline.addPass(llvm::MergeFunctionsPass());
  pipeline.run(module, modules);
}

} // namespace

LogicalResult kiln::optimizeLLVMIR(llvm::Module &module,
                                   const CodegenOptions &options,
                                   std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine = hostMachine(options, error);
  if (!machine)
    return failure();
  mergeFunctions(module);
  optimize(module, *machine, options);
  return success();
}

namespace {

/// lld's path: lld-22's ld.lld-22, or an ld.lld.
std::optional<std::string> findLld() {
  for (StringRef name : {"ld.lld-22", "ld.lld"})
    if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name))
      return *path;
  return std::nullopt;
}

/// Optimizes `module` and writes it as an object file at `path`.
LogicalResult emitOneObject(llvm::Module &module, StringRef path,
                            const CodegenOptions &options, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine = hostMachine(options, error);
  if (!machine)
    return failure();
  optimize(module, *machine, options);
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

/// Optimizes and compiles `module` in `parts` pieces on as many threads,
/// into `path`: LLVM optimizes and compiles one function at a time, so its
/// work, most of kilnc's time, runs on one core otherwise. Each piece
/// travels as bitcode into a context of its own (an LLVMContext is not
/// shared between threads), and lld joins the objects into one (ld.lld -r).
/// Functions are merged before, over the whole module. A parallel
/// body and its task may land in different pieces: the task then calls the
/// body once per thread's share instead of holding it inline.
LogicalResult emitInParts(llvm::Module &module, StringRef path,
                          const CodegenOptions &options, unsigned parts,
                          StringRef linker, std::string &error) {
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(module, parts, [&](std::unique_ptr<llvm::Module> part) {
    llvm::raw_svector_ostream os(bitcode.emplace_back());
    llvm::WriteBitcodeToFile(*part, os);
  });
  std::vector<llvm::SmallString<128>> objects(bitcode.size());
  std::vector<std::unique_ptr<llvm::FileRemover>> removers;
  for (llvm::SmallString<128> &object : objects) {
    if (std::error_code code =
            llvm::sys::fs::createTemporaryFile("kilnc-part", "o", object)) {
      error = "cannot create a temporary file: " + code.message();
      return failure();
    }
    removers.push_back(std::make_unique<llvm::FileRemover>(object));
  }
  std::vector<std::string> errors(bitcode.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bitcode.size(); ++i)
    threads.emplace_back([&, i] {
      llvm::LLVMContext context;
      llvm::Expected<std::unique_ptr<llvm::Module>> part =
          llvm::parseBitcodeFile(
              llvm::MemoryBufferRef(
                  StringRef(bitcode[i].data(), bitcode[i].size()), "part"),
              context);
      if (!part) {
        errors[i] = llvm::toString(part.takeError());
        return;
      }
      (void)emitOneObject(**part, objects[i], options, errors[i]);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (const std::string &message : errors)
    if (!message.empty()) {
      error = message;
      return failure();
    }
  SmallVector<StringRef> command = {linker, "-r", "-o", path};
  for (const llvm::SmallString<128> &object : objects)
    command.push_back(object);
  std::string message;
  if (llvm::sys::ExecuteAndWait(linker, command, std::nullopt, {}, 0, 0,
                                &message) != 0) {
    error = "joining the object files into " + path.str() + " failed" +
            (message.empty() ? std::string() : ": " + message);
    return failure();
  }
  return success();
}

} // namespace

LogicalResult kiln::emitObjectFile(llvm::Module &module, StringRef path,
                                   const CodegenOptions &options,
                                   std::string &error, bool parallel) {
  unsigned parts =
      parallel
          ? std::min(llvm::hardware_concurrency().compute_thread_count(), 4u)
          : 1;
  std::optional<std::string> linker = findLld();
  mergeFunctions(module);
  if (parts < 2 || !linker)
    return emitOneObject(module, path, options, error);
  return emitInParts(module, path, options, parts, *linker, error);
}

namespace {

/// The runtime archive `name`, which lies next to kilnc: bin/kilnc and
/// lib/libkiln_runtime.a.
std::optional<std::string> findRuntime(StringRef name, std::string &error) {
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> runtime(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(self)));
  llvm::sys::path::append(runtime, "lib", name);
  if (!llvm::sys::fs::exists(runtime)) {
    error = "the Kiln runtime library is missing at " + runtime.str().str() +
            "; build the project (ninja) or reinstall Kiln";
    return std::nullopt;
  }
  return runtime.str().str();
}

/// Runs the system's C++ compiler driver with `args` (after its name) to
/// write `output`.
LogicalResult runDriver(ArrayRef<StringRef> args, StringRef output,
                        std::string &error) {
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName("clang++-22");
  if (!driver)
    driver = llvm::sys::findProgramByName("c++");
  if (!driver) {
    error = "no C++ compiler driver (clang++-22 or c++) to link with; install "
            "clang-22";
    return failure();
  }
  SmallVector<StringRef> command = {*driver};
  // lld links a trainer in a third of the time of GNU ld (0.08 against
  // 0.23 s for the Transformer). clang-22 takes the lld of its own
  // installation.
  if (findLld())
    command.push_back("-fuse-ld=lld");
  command.append(args.begin(), args.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*driver, command, std::nullopt, {}, 0,
                                         0, &message);
  if (status != 0) {
    error = "linking " + output.str() + " failed" +
            (message.empty() ? std::string() : ": " + message);
    return failure();
  }
  return success();
}

/// The libraries that the runtime's inference part needs: oneDNN and the
/// OpenMP runtime it runs on.
constexpr StringRef kInferenceLibraries[] = {"-ldnnl", "-lgomp", "-lpthread",
                                             "-lm"};

/// An archive of `object` and the members of the archive `runtime`.
LogicalResult writeStaticLibrary(StringRef object, StringRef runtime,
                                 StringRef output, std::string &error) {
  std::vector<llvm::NewArchiveMember> members;
  llvm::Expected<llvm::NewArchiveMember> generated =
      llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
  if (!generated) {
    error = llvm::toString(generated.takeError());
    return failure();
  }
  // The generated object's temporary name would differ at every build.
  std::string memberName = llvm::sys::path::filename(output).str() + ".o";
  generated->MemberName = memberName;
  members.push_back(std::move(*generated));
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(runtime);
  if (!buffer) {
    error = "cannot read " + runtime.str() + ": " + buffer.getError().message();
    return failure();
  }
  llvm::Expected<std::unique_ptr<llvm::object::Archive>> archive =
      llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!archive) {
    error = runtime.str() + ": " + llvm::toString(archive.takeError());
    return failure();
  }
  llvm::Error iteration = llvm::Error::success();
  for (const llvm::object::Archive::Child &child :
       (*archive)->children(iteration)) {
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member) {
      error = runtime.str() + ": " + llvm::toString(member.takeError());
      return failure();
    }
    members.push_back(std::move(*member));
  }
  if (iteration) {
    error = runtime.str() + ": " + llvm::toString(std::move(iteration));
    return failure();
  }
  if (llvm::Error written = llvm::writeArchive(
          output, members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true,
          /*Thin=*/false)) {
    error = "cannot write " + output.str() + ": " +
            llvm::toString(std::move(written));
    return failure();
  }
  return success();
}

} // namespace

LogicalResult kiln::linkTrainer(StringRef object, StringRef output,
                                std::string &error) {
  std::optional<std::string> runtime = findRuntime("libkiln_runtime.a", error);
  if (!runtime)
    return failure();
  // libcsv parses csv(...) tables; Debian's libstb.a decodes images(...);
  // Open MPI runs the ranks of a data-parallel run (kilnc --ranks).
  SmallVector<StringRef> args = {object,   *runtime,    "-o",    output,
                                 "-ldnnl", "-lz",       "-lcsv", "-l:libstb.a",
                                 "-lgomp", "-lpthread", "-lm"};
  StringRef(KILN_MPI_LIBRARIES).split(args, '|', -1, /*KeepEmpty=*/false);
  return runDriver(args, output, error);
}

LogicalResult kiln::linkLibrary(StringRef object, StringRef output,
                                bool shared, ArrayRef<std::string> exported,
                                std::string &error) {
  std::optional<std::string> runtime = findRuntime("libkiln_infer.a", error);
  if (!runtime)
    return failure();
  if (!shared)
    return writeStaticLibrary(object, *runtime, output, error);

  // A version script exports the API alone: each library keeps its own copy
  // of the runtime, so that an application can load several.
  SmallString<128> script;
  int fd;
  if (std::error_code code = llvm::sys::fs::createTemporaryFile(
          "kilnc", "map", fd, script)) {
    error = "cannot create a temporary file: " + code.message();
    return failure();
  }
  llvm::FileRemover removeScript(script);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << "{\n  global:\n";
    for (const std::string &symbol : exported)
      os << "    " << symbol << ";\n";
    os << "  local: *;\n};\n";
  }
  std::string versionScript = "-Wl,--version-script=" + script.str().str();
  SmallVector<StringRef> args = {"-shared", object, *runtime, "-o", output,
                                 versionScript,
                                 // Calls inside the library stay inside it.
                                 "-Wl,-Bsymbolic",
                                 // Every symbol resolved now, not at load.
                                 "-Wl,-z,defs", "-Wl,--gc-sections"};
  args.append(std::begin(kInferenceLibraries), std::end(kInferenceLibraries));
  return runDriver(args, output, error);
}
