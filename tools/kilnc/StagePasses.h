//===- StagePasses.h - The pass pipeline of each stage that kilnc prints --===//

#ifndef KILN_TOOLS_KILNC_STAGEPASSES_H
#define KILN_TOOLS_KILNC_STAGEPASSES_H

#include "Pipelines/Pipelines.h"
#include "Stage.h"

#include "mlir/Pass/PassManager.h"

#include <optional>
#include <string>

namespace kiln {

struct StagePassOptions {
  /// The pipelines of an inference library rather than a trainer's.
  bool library = false;
  DataParallel parallel;
  /// An inference library's function prefix (empty: the model's name).
  std::string apiPrefix;
};

/// The stage that `stage`'s pipeline starts from: kiln, or linalg for the
/// LLVM dialect (CPU target); none for a stage that no one pipeline makes.
std::optional<Stage> pipelineSource(Stage stage);

/// Adds the passes that make `stage` from pipelineSource(stage) on the CPU
/// target: what kilnc runs and what --dump-pipeline prints.
void addStagePasses(Stage stage, const StagePassOptions &options,
                    mlir::OpPassManager &pm);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_STAGEPASSES_H
