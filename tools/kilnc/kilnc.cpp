//===- kilnc.cpp - The Kiln compiler driver -------------------------------===//
//
// `kilnc FILE -o TRAINER` compiles a model and its recipe into a training
// executable. `kilnc FILE -emit=STAGE` stops after a stage of the pipeline
// and prints it, as the Toy tutorial's driver does; with -run-reference it
// runs a function of that stage through the reference evaluator instead. Exit
// status: 0 on success, 1 when the input or the command line has an error.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"
#include "Conversion/Program/LibraryApi.h"
#include "Frontend/DataSources.h"
#include "Frontend/Parser.h"
#include "Frontend/Sema.h"
#include "GPU/Passes.h"
#include "Graph.h"
#include "Kiln/IR/KilnOps.h"
#include "Kiln/Transforms/Passes.h"
#include "MLIRGen/MLIRGen.h"
#include "Output.h"
#include "PassInsertion.h"
#include "Pipelines/CudaPipeline.h"
#include "Pipelines/Pipelines.h"
#include "RunReference.h"
#include "Stage.h"
#include "StageInput.h"
#include "StagePasses.h"
#include "Stats.h"
#include "Target/Target.h"
#include "kiln/Version.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

namespace {

using kiln::Stage;

cl::OptionCategory &kilnCategory = kiln::kilncCategory();
cl::OptionCategory mlirCategory("MLIR options (as in mlir-opt)");

/// The MLIR flags that kilnc lists in --help, besides its own: they act on
/// its pass pipelines and printed stages as they do in mlir-opt.
constexpr llvm::StringLiteral kMLIROptions[] = {
    "mlir-timing",
    "mlir-timing-display",
    "mlir-print-ir-before-all",
    "mlir-print-ir-after-all",
    "mlir-print-ir-after-change",
    "mlir-print-ir-after-failure",
    "mlir-print-ir-before",
    "mlir-print-ir-after",
    "mlir-print-ir-module-scope",
    "mlir-print-debuginfo",
    "mlir-print-op-generic",
    "mlir-elide-elementsattrs-if-larger",
    "mlir-pass-statistics",
    "mlir-pass-statistics-display",
    "mlir-disable-threading",
};

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.kiln or stage.mlir>"),
                               cl::cat(kilnCategory));

cl::opt<std::string> outputFile(
    "o",
    cl::desc("Output file (default: the input's name without .kiln for an "
             "executable, stdout for a printed stage)"),
    cl::value_desc("file"), cl::cat(kilnCategory));

// Their values come from kiln::kStages (addStageValues).
cl::opt<Stage> emit("emit", cl::desc("The stage to stop after"),
                    cl::init(Stage::Executable), cl::cat(kilnCategory));

cl::opt<Stage> from(
    "from",
    cl::desc("The stage of a .mlir input (default: found from the IR); the "
             "input is read as MLIR when this is given or its name ends in "
             ".mlir"),
    cl::cat(kilnCategory));

/// Gives -emit every stage and --from the stages printed as MLIR.
void addStageValues() {
  for (const kiln::StageInfo &info : kiln::kStages) {
    emit.getParser().addLiteralOption(info.name, info.stage, info.description);
    if (info.isIR)
      from.getParser().addLiteralOption(info.name, info.stage,
                                        info.description);
  }
}

bool isMLIRInput() {
  return from.getNumOccurrences() ||
         llvm::StringRef(inputFile).ends_with(".mlir");
}

cl::opt<bool> withGradients(
    "with-gradients",
    cl::desc("With -emit=graph: draw the gradient function too (the "
             "kiln-grad stage)"),
    cl::init(false), cl::cat(kilnCategory));

cl::opt<unsigned> optLevel("O", cl::desc("Optimization level of LLVM (0 to 3)"),
                           cl::Prefix, cl::init(3), cl::cat(kilnCategory));

cl::opt<std::string> targetName("target",
                                cl::desc("The device to train on: cpu or cuda"),
                                cl::init("cpu"), cl::cat(kilnCategory));

cl::opt<std::string> gpuArch(
    "gpu-arch",
    cl::desc("The NVIDIA GPU architecture of --target=cuda (default: sm_90)"),
    cl::value_desc("sm_XX"), cl::init("sm_90"), cl::cat(kilnCategory));

cl::opt<std::string> cudaPath(
    "cuda-path",
    cl::desc("The CUDA toolkit, for ptxas and libdevice (default: $CUDA_HOME, "
             "$CUDA_PATH or /usr/local/cuda); without ptxas the kernels ship "
             "as PTX"),
    cl::value_desc("dir"), cl::cat(kilnCategory));

cl::opt<bool> portableKernels(
    "portable-kernels",
    cl::desc("Compile every op for the CPU as --target=cuda does (linalg, no "
             "oneDNN), to test the GPU backend's arithmetic"),
    cl::init(false), cl::Hidden, cl::cat(kilnCategory));

cl::opt<std::string> cpuName(
    "mcpu", cl::desc("The CPU to generate code for (default: this machine)"),
    cl::init("native"), cl::cat(kilnCategory));

cl::opt<int64_t> batchSize(
    "batch-size", cl::desc("Replace the train section's batch_size"),
    cl::init(0), cl::cat(kilnCategory));

cl::opt<std::string> precision(
    "precision",
    cl::desc("Replace the train section's precision: f32, or bf16 (mixed "
             "precision, as torch.autocast)"),
    cl::value_desc("f32|bf16"), cl::cat(kilnCategory));

/// MPI's ranks are ints; a bound far beyond any run also keeps a typo from
/// compiling a step of batch 0.
constexpr int64_t kMaxRanks = 1 << 16;

cl::opt<int64_t> ranks(
    "ranks",
    cl::desc("Compile for a data-parallel run of N processes (mpirun -np N): "
             "each takes batch_size / N examples and the gradients are "
             "averaged over them"),
    cl::value_desc("N"), cl::init(1), cl::cat(kilnCategory));

cl::opt<int64_t> bucketMiB(
    "bucket-mb",
    cl::desc("With --ranks: the most MiB of gradients averaged in one "
             "message (default 25, as PyTorch DDP's bucket_cap_mb)"),
    cl::value_desc("MiB"), cl::cat(kilnCategory));

/// The data-parallel run of --ranks and --bucket-mb.
kiln::DataParallel dataParallel() {
  kiln::DataParallel parallel;
  parallel.ranks = ranks;
  if (bucketMiB.getNumOccurrences())
    parallel.reduce.bucketBytes = bucketMiB << 20;
  return parallel;
}

cl::opt<std::string> apiPrefix(
    "api-prefix",
    cl::desc("With -emit=lib or staticlib: the prefix of the library's "
             "functions (default: the model's name)"),
    cl::value_desc("name"), cl::cat(kilnCategory));

cl::opt<std::string> headerFile(
    "header",
    cl::desc("With -emit=lib or staticlib: where to write the C header "
             "(default: <prefix>.h beside the library)"),
    cl::value_desc("file"), cl::cat(kilnCategory));

cl::opt<bool> splitInputFile(
    "split-input-file",
    cl::desc("Compile each part of the file between '# -----' lines ('// "
             "-----' in MLIR) on its own (for tests)"),
    cl::init(false), cl::cat(kilnCategory));

cl::opt<bool> listData(
    "list-data",
    cl::desc("Print the data sources and image transforms of the train "
             "section, with their arguments and defaults, and exit"),
    cl::init(false), cl::cat(kilnCategory));

cl::opt<bool> dumpPipeline(
    "dump-pipeline",
    cl::desc("Print the pass pipeline that makes the -emit stage (kiln-grad, "
             "train-step or linalg from -emit=kiln's output; llvm-dialect "
             "from -emit=linalg's), as kiln-opt --pass-pipeline takes it, and "
             "exit"),
    cl::init(false), cl::cat(kilnCategory));

/// Loads a pass plugin as the flag is parsed, as mlir-opt does, so that the
/// flags after it (-mlir-print-ir-after=PASS) know its passes.
void loadPassPlugin(const std::string &path) {
  llvm::Expected<mlir::PassPlugin> plugin = mlir::PassPlugin::load(path);
  if (!plugin) {
    llvm::WithColor::error(llvm::errs(), "kilnc")
        << "cannot load the pass plugin '" << path
        << "': " << llvm::toString(plugin.takeError()) << "\n";
    exit(1);
  }
  plugin->registerPassRegistryCallbacks();
}

cl::list<std::string> passPlugins(
    "load-pass-plugin",
    cl::desc("Load passes from a plugin library (as mlir-opt does), for "
             "--insert-pass and the flags after it"),
    cl::value_desc("lib.so"),
    cl::callback([](const std::string &path) { loadPassPlugin(path); }),
    cl::cat(kilnCategory));

cl::list<std::string> passInsertions(
    "insert-pass",
    cl::desc("Run a pass pipeline of one's own after (or before) every run "
             "of PASS on the way to the stage asked for: "
             "after:PASS:PIPELINE or before:PASS:PIPELINE, e.g. "
             "after:kiln-autodiff:my-pass; repeatable"),
    cl::value_desc("after:PASS:PIPELINE"), cl::cat(kilnCategory));

/// The parsed --insert-pass values.
llvm::SmallVector<kiln::PassInsertion> insertions;

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "kilnc") << message << "\n";
  return 1;
}

bool isLibrary(Stage stage) {
  return stage == Stage::SharedLibrary || stage == Stage::StaticLibrary;
}

bool isPrinted(Stage stage) {
  return stage != Stage::Object && stage != Stage::Executable &&
         !isLibrary(stage);
}

/// Adds `build`'s passes to `pm`, with --insert-pass's insertions.
bool addPasses(mlir::OpPassManager &pm,
               llvm::function_ref<void(mlir::OpPassManager &)> build) {
  if (insertions.empty()) {
    build(pm);
    return true;
  }
  mlir::OpPassManager built(mlir::ModuleOp::getOperationName());
  build(built);
  if (llvm::Error error = kiln::insertPasses(built, insertions, pm))
    return fail(llvm::toString(std::move(error))), false;
  return true;
}

/// Runs `build`'s passes on `module`; errors are reported through the
/// context's diagnostic handler.
bool runPipeline(mlir::ModuleOp module, mlir::TimingScope &timing,
                 llvm::function_ref<void(mlir::OpPassManager &)> build) {
  mlir::PassManager pm(module->getContext(),
                       mlir::ModuleOp::getOperationName());
  if (failed(mlir::applyPassManagerCLOptions(pm)))
    return false;
  pm.enableTiming(timing);
  return addPasses(pm, build) && succeeded(pm.run(module));
}

/// Prints a stage's module as mlir-opt (and so kiln-opt) does, so that the
/// two tools' outputs compare equal.
void printStage(mlir::ModuleOp module, llvm::raw_ostream &os) {
  module->print(os);
  os << "\n";
}

/// The options of the stage pipelines, from the command line.
kiln::StagePassOptions stagePassOptions(bool library) {
  kiln::StagePassOptions options;
  options.library = library;
  options.parallel = dataParallel();
  options.apiPrefix = apiPrefix;
  return options;
}

/// The exit status of a compilation that succeeded or not, after a warning
/// for each --insert-pass whose pass never ran.
int finish(bool ok) {
  if (!ok)
    return 1;
  for (const kiln::PassInsertion &insertion : insertions)
    if (!insertion.count)
      llvm::WithColor::warning(llvm::errs(), "kilnc")
          << "--insert-pass " << insertion.spelling << ": " << insertion.anchor
          << " did not run on the way to -emit=" << kiln::stageInfo(emit).name
          << ", so nothing was inserted\n";
  return 0;
}

/// Prints the textual pipeline of `stage` (--dump-pipeline).
bool printStagePipeline(Stage stage, bool library, llvm::raw_ostream &os) {
  if (!kiln::pipelineSource(stage))
    return fail("--dump-pipeline prints the passes of -emit=kiln-grad, "
                "train-step, linalg or llvm-dialect; the other stages are "
                "not made by one MLIR pipeline"),
           false;
  // With --insert-pass, the pipeline that kilnc would run.
  mlir::OpPassManager pm(mlir::ModuleOp::getOperationName());
  if (!addPasses(pm, [&](mlir::OpPassManager &built) {
        kiln::addStagePasses(stage, stagePassOptions(library), built);
      }))
    return false;
  pm.printAsTextualPipeline(os);
  os << "\n";
  return finish(true) == 0;
}

/// Prints a stage of kiln IR, or runs its function with -run-reference.
bool printOrRun(mlir::ModuleOp module, llvm::raw_ostream &os) {
  if (!kiln::runReferenceRequested()) {
    printStage(module, os);
    return true;
  }
  std::string error;
  if (kiln::runReference(module, emit, inputFile, error))
    return true;
  // An empty error means that the evaluator has reported at an op.
  if (!error.empty())
    fail(error);
  return false;
}

/// The default output of a compiled file: its name without `.kiln`, with
/// `.o` for an object file, `lib` and `.so` or `.a` for a library.
std::string defaultOutput(Stage stage) {
  llvm::SmallString<128> path(llvm::sys::path::filename(inputFile));
  llvm::sys::path::replace_extension(path, stage == Stage::Object  ? "o"
                                           : stage == Stage::Graph ? "svg"
                                                                   : "");
  if (stage == Stage::SharedLibrary || stage == Stage::StaticLibrary)
    return "lib" + path.str().str() +
           (stage == Stage::SharedLibrary ? ".so" : ".a");
  return std::string(path.str());
}

/// Why a .mlir input at `stage` cannot give what the command line asks
/// for, or an empty string.
std::string entryProblem(mlir::ModuleOp module, Stage stage) {
  llvm::StringRef name = kiln::stageInfo(stage).name;
  std::string at = (inputFile + " is at the " + name + " stage").str();
  if (precision.getNumOccurrences())
    return "--precision changes the train section of a .kiln model; " +
           inputFile +
           "'s ops are fixed: make it again from the .kiln file with it";
  if (batchSize.getNumOccurrences() || ranks > 1)
    return "--batch-size and --ranks change the shapes of a .kiln model; " +
           inputFile +
           "'s are fixed in its types: make it again from the .kiln file with "
           "them";
  if (emit == Stage::Graph)
    return stage <= Stage::KilnGrad
               ? ""
               : at + "; -emit=graph draws the kiln or kiln-grad stage";
  if (emit < stage || (emit == Stage::PTX && stage > Stage::Linalg))
    return at + ", which -emit=" + kiln::stageInfo(emit).name.str() +
           " comes before";
  if (isLibrary(emit) && stage != Stage::Kiln)
    return at + "; an inference library is compiled from the kiln stage "
                "(kilnc -emit=kiln)";
  if (stage == Stage::LLVMDialect &&
      (targetName.getNumOccurrences() || portableKernels))
    return at + ", whose target was chosen when it was made; drop --target "
                "and --portable-kernels";
  if (stage == Stage::Linalg && targetName == "cuda" &&
      module
          .walk(
              [](kiln::RuntimeCallOp) { return mlir::WalkResult::interrupt(); })
          .wasInterrupted())
    return at + " for the CPU (it calls oneDNN through kiln.runtime_call); "
                "make it again with --target=cuda";
  return "";
}

/// Continues `module`, at `stage`, up to the requested one, printing it to
/// `os` or writing the object file or executable.
bool continueFrom(mlir::ModuleOp module, Stage stage, mlir::TimingScope &timing,
                  llvm::raw_ostream &os) {
  bool library = isLibrary(emit);
  auto runStage = [&](Stage target) {
    return runPipeline(module, timing, [&](mlir::OpPassManager &pm) {
      kiln::addStagePasses(target, stagePassOptions(library), pm);
    });
  };
  switch (emit) {
  case Stage::Graph: {
    if (withGradients && stage == Stage::Kiln &&
        !runPipeline(module, timing, kiln::buildGradientPipeline))
      return false;
    std::string error;
    if (failed(kiln::drawGraph(module,
                               outputFile.getNumOccurrences()
                                   ? outputFile.getValue()
                                   : defaultOutput(emit),
                               error)))
      return fail(error), false;
    return true;
  }
  case Stage::Kiln:
  case Stage::KilnGrad:
  case Stage::TrainStep:
    // The train-step pipeline builds the gradient itself, or takes the one
    // a kiln-grad input has.
    if (stage != emit && !runStage(emit))
      return false;
    return printOrRun(module, os);
  default:
    break;
  }

  if (!module->hasAttr("kiln.recipe") && !library) {
    llvm::WithColor::error(llvm::errs(), "kilnc")
        << inputFile << " has no train section, so there is nothing to "
        << "train; add `train { ... }` (docs/language.md), or compile its "
        << "forward pass into an inference library with -emit=lib\n";
    return false;
  }
  bool cuda = targetName == "cuda";
  if (stage < Stage::Linalg &&
      !runPipeline(module, timing, [&](mlir::OpPassManager &pm) {
        if (cuda || portableKernels)
          kiln::buildPortableLinalgPipeline(pm);
        else
          kiln::addStagePasses(Stage::Linalg, stagePassOptions(library), pm);
      }))
    return false;
  if (emit == Stage::Linalg) {
    printStage(module, os);
    return true;
  }
  if (cuda && stage <= Stage::Linalg) {
    kiln::CudaOptions cudaOptions;
    cudaOptions.chip = gpuArch;
    cudaOptions.toolkit = kiln::findCudaToolkit(cudaPath);
    // -emit=ptx prints PTX even where ptxas could make a cubin.
    cudaOptions.cubin = cudaOptions.toolkit.hasPtxas && emit != Stage::PTX;
    auto quiet =
        kiln::ignoreMissingLibdevice(module->getContext(), cudaOptions.toolkit);
    if (!runPipeline(module, timing, [&](mlir::OpPassManager &pm) {
          kiln::buildCudaKernelPipeline(pm, cudaOptions);
        }))
      return false;
    if (emit == Stage::PTX) {
      kiln::printKernels(module, os);
      return true;
    }
    if (!runPipeline(module, timing, kiln::buildCudaHostPipeline))
      return false;
  } else if (stage < Stage::LLVMDialect && !runStage(Stage::LLVMDialect)) {
    return false;
  }
  // LLVM owns the -stats flag; kilnc answers it with its own figures, and
  // writes nothing more unless -o says where.
  if (llvm::AreStatisticsEnabled()) {
    kiln::printStats(module, ranks, llvm::outs());
    if (!outputFile.getNumOccurrences())
      return true;
  }
  if (emit == Stage::LLVMDialect) {
    printStage(module, os);
    return true;
  }

  kiln::OutputOptions output;
  output.stage = emit;
  output.path = outputFile.getNumOccurrences() ? outputFile.getValue()
                                               : defaultOutput(emit);
  output.codegen.optLevel = optLevel;
  output.codegen.cpu = cpuName;
  output.apiPrefix = apiPrefix;
  output.headerFile = headerFile;
  output.source = inputFile;
  return kiln::writeOutput(module, output, timing, os);
}

/// Compiles one input buffer, a .kiln source or a stage's MLIR, up to the
/// requested stage. Returns whether it succeeded; errors go to stderr.
bool compile(std::unique_ptr<llvm::MemoryBuffer> buffer,
             llvm::raw_ostream &os) {
  // -mlir-timing reports the front end and code generation beside the passes.
  mlir::DefaultTimingManager timingManager;
  mlir::applyDefaultTimingManagerCLOptions(timingManager);
  mlir::TimingScope timing = timingManager.getRootScope();
  mlir::TimingScope phase = timing.nest("Parse");
  llvm::SourceMgr sourceMgr;
  llvm::StringRef source = buffer->getBuffer();
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());

  mlir::MLIRContext context;
  mlir::DialectRegistry registry;
  kiln::registerPipelineInterfaces(registry);
  kiln::registerCudaPipelineInterfaces(registry);
  if (isMLIRInput()) {
    mlir::registerAllDialects(registry);
    registry.insert<kiln::KilnDialect>();
  }
  context.appendDialectRegistry(registry);
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  if (isMLIRInput()) {
    std::optional<kiln::StageInput> input = kiln::readStageInput(
        sourceMgr, context,
        from.getNumOccurrences() ? std::optional<Stage>(from) : std::nullopt,
        inputFile);
    if (!input)
      return false;
    std::string problem = entryProblem(*input->module, input->stage);
    if (!problem.empty())
      return fail(problem), false;
    phase.stop();
    return continueFrom(*input->module, input->stage, timing, os);
  }

  kiln::DiagnosticEngine diags(sourceMgr, llvm::errs());
  std::optional<kiln::Module> module =
      kiln::Parser(source, diags).parseModule();
  if (!module)
    return false;
  if (emit == Stage::AST) {
    kiln::printModule(*module, os, &sourceMgr);
    return true;
  }

  phase = timing.nest("Sema");
  kiln::SemaOptions options;
  if (batchSize.getNumOccurrences())
    options.batchSize = batchSize;
  options.ranks = ranks;
  if (precision.getNumOccurrences())
    options.precision = kiln::parsePrecision(precision);
  if (targetName == "cuda")
    options.maxOperations /= 2;
  std::optional<kiln::Program> program = kiln::analyze(*module, diags, options);
  if (!program)
    return false;

  phase = timing.nest("MLIRGen");
  mlir::OwningOpRef<mlir::ModuleOp> ir =
      kiln::mlirGen(context, *program, sourceMgr);
  phase.stop();
  if (!ir)
    return false;
  return continueFrom(*ir, Stage::Kiln, timing, os);
}

/// The parts of `text` between lines that read `separator`, each padded with
/// the newlines before it so that line numbers stay those of the file.
std::vector<std::unique_ptr<llvm::MemoryBuffer>>
splitInput(llvm::StringRef text, llvm::StringRef name,
           llvm::StringRef separator) {
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
    if (current.trim() == separator) {
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
  addStageValues();
  // Registered passes are what -mlir-print-ir-before/after name.
  mlir::registerAllPasses();
  kiln::registerKilnPasses();
  kiln::registerKilnConversionPasses();
  kiln::registerKilnGPUPasses();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions({&kilnCategory});
  auto &registered = cl::getRegisteredOptions();
  for (llvm::StringRef name : kMLIROptions) {
    cl::Option *option = registered.lookup(name);
    assert(option && "an MLIR flag that kilnc lists is not registered");
    option->setHiddenFlag(cl::NotHidden);
    option->addCategory(mlirCategory);
  }
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "Kiln " KILN_VERSION " (commit " KILN_COMMIT ")\n";
    cl::PrintVersionMessage();
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "Kiln compiler\n\n  --stats prints the parameters, the FLOPs of a step "
      "and the memory of its arena, and writes nothing more without -o\n");
  for (const std::string &text : passInsertions) {
    llvm::Expected<kiln::PassInsertion> insertion =
        kiln::parsePassInsertion(text);
    if (!insertion)
      return fail(llvm::toString(insertion.takeError()));
    insertions.push_back(std::move(*insertion));
  }
  if (dumpPipeline) {
    if (targetName != "cpu" || portableKernels)
      return fail("--dump-pipeline prints the CPU target's pipelines; the "
                  "GPU's are not one MLIR pipeline per stage yet");
    return printStagePipeline(emit, /*library=*/false, llvm::outs()) ? 0 : 1;
  }
  if (listData) {
    llvm::outs() << kiln::describeRecipeCalls();
    return 0;
  }
  if (inputFile.empty())
    return fail("no input file; give a model file (kilnc model.kiln -o "
                "trainer), or see kilnc --help");
  if (batchSize.getNumOccurrences() && batchSize <= 0)
    return fail("--batch-size must be positive");
  if (precision.getNumOccurrences() && !kiln::parsePrecision(precision))
    return fail("--precision takes f32 or bf16, not '" + precision + "'");
  if (ranks < 1 || ranks > kMaxRanks)
    return fail("--ranks takes a number of processes from 1 to " +
                std::to_string(kMaxRanks));
  if (bucketMiB.getNumOccurrences() && (bucketMiB < 1 || bucketMiB > 1024))
    return fail("--bucket-mb takes a size from 1 to 1024 MiB");
  if (ranks > 1 && isLibrary(emit))
    return fail("--ranks makes a trainer of a data-parallel run; an "
                "inference library runs in one process: leave --ranks out");
  if (ranks > 1 && (targetName == "cuda" || portableKernels))
    return fail("--ranks: data-parallel runs are built for the CPU target "
                "only; the GPU backend has no all-reduce yet");
  if (optLevel > 3)
    return fail("-O takes a level from 0 to 3");
  if (targetName != "cpu" && targetName != "cuda")
    return fail("unknown --target '" + targetName +
                "'; the targets are: cpu, cuda");
  if (emit == Stage::PTX && targetName != "cuda")
    return fail("-emit=ptx prints GPU kernels; add --target=cuda");
  if (!llvm::Regex("^sm_[0-9]+[a-z]?$").match(gpuArch))
    return fail("--gpu-arch takes an NVIDIA architecture such as sm_90, not '" +
                gpuArch + "'");
  if (isLibrary(emit) && targetName != "cpu")
    return fail("an inference library runs on the CPU; drop --target=" +
                targetName);
  if (isLibrary(emit) && portableKernels)
    return fail("an inference library uses oneDNN; drop --portable-kernels");
  if (!isLibrary(emit))
    for (cl::Option *option :
         std::initializer_list<cl::Option *>{&apiPrefix, &headerFile})
      if (option->getNumOccurrences())
        return fail(llvm::formatv("-{0} is an option of -emit=lib and "
                                  "-emit=staticlib",
                                  option->ArgStr)
                        .str());
  if (apiPrefix.getNumOccurrences() && !kiln::isCIdentifier(apiPrefix))
    return fail("--api-prefix must be a C identifier, not '" + apiPrefix + "'");
  if (portableKernels && targetName != "cpu")
    return fail("--portable-kernels compiles for the CPU; it cannot go with "
                "--target=" + targetName);
  if (withGradients && emit != Stage::Graph)
    return fail("--with-gradients is an option of -emit=graph");
  if (splitInputFile && !isPrinted(emit))
    return fail("--split-input-file works with a printed stage (-emit=...)");
  if (std::string problem = kiln::runReferenceProblem(
          emit, outputFile.getNumOccurrences(), splitInputFile);
      !problem.empty())
    return fail(problem);

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code error = buffer.getError())
    return fail("cannot read '" + inputFile + "': " + error.message());

  if (kiln::runReferenceRequested())
    return finish(compile(std::move(*buffer), llvm::nulls()));
  if (!isPrinted(emit)) {
    if (!outputFile.getNumOccurrences() && inputFile == "-")
      return fail("name the output file with -o when the model comes from "
                  "standard input");
    if (defaultOutput(emit) == inputFile && !outputFile.getNumOccurrences())
      return fail("the output would replace the input '" + inputFile +
                  "'; name it with -o or give the input a .kiln extension");
    return finish(compile(std::move(*buffer), llvm::nulls()));
  }

  std::string error;
  auto output = mlir::openOutputFile(
      outputFile.getNumOccurrences() ? outputFile.getValue() : "-", &error);
  if (!output)
    return fail(error);
  bool ok = true;
  if (!splitInputFile) {
    ok = compile(std::move(*buffer), output->os());
  } else {
    // A .kiln file's comment, or mlir-opt's separator in MLIR.
    auto parts = splitInput((*buffer)->getBuffer(), inputFile,
                            isMLIRInput() ? "// -----" : "# -----");
    for (auto [i, part] : llvm::enumerate(parts)) {
      if (i)
        output->os() << "// -----\n";
      ok &= compile(std::move(part), output->os());
    }
  }
  if (!ok)
    return 1;
  output->keep();
  return finish(true);
}
