//===- Pipelines.h - The pass pipelines of kilnc, as library functions ----===//

#ifndef KILN_PIPELINES_PIPELINES_H
#define KILN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace kiln {

/// The gradient program: kiln-autodiff, then canonicalization and CSE.
void buildGradientPipeline(mlir::OpPassManager &pm);

/// The training and evaluation steps: kiln-build-train-step, then
/// canonicalization and CSE.
void buildTrainStepPipeline(mlir::OpPassManager &pm);

} // namespace kiln

#endif // KILN_PIPELINES_PIPELINES_H
