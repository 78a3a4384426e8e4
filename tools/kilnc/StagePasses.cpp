//===- StagePasses.cpp - The pass pipeline of each stage that kilnc prints ===//

#include "StagePasses.h"

#include "Conversion/Passes.h"

using namespace kiln;

std::optional<Stage> kiln::pipelineSource(Stage stage) {
  switch (stage) {
  case Stage::KilnGrad:
  case Stage::TrainStep:
  case Stage::Linalg:
    return Stage::Kiln;
  case Stage::LLVMDialect:
    return Stage::Linalg;
  default:
    return std::nullopt;
  }
}

void kiln::addStagePasses(Stage stage, const StagePassOptions &options,
                          mlir::OpPassManager &pm) {
  switch (stage) {
  case Stage::KilnGrad:
    buildGradientPipeline(pm);
    return;
  case Stage::TrainStep:
    buildTrainStepPipeline(pm, options.parallel);
    return;
  case Stage::Linalg:
    buildCpuLinalgPipeline(
        pm, options.library ? ProgramKind::Library : ProgramKind::Trainer,
        options.parallel);
    return;
  case Stage::LLVMDialect: {
    buildCpuLLVMPipeline(pm);
    if (!options.library)
      return;
    KilnEmitLibraryApiOptions api;
    api.prefix = options.apiPrefix;
    pm.addPass(createKilnEmitLibraryApi(api));
    return;
  }
  default:
    llvm_unreachable("not a stage that a pipeline makes");
  }
}
