//===- Pipelines.h - The pass pipelines of kilnc, as library functions ----===//

#ifndef KILN_PIPELINES_PIPELINES_H
#define KILN_PIPELINES_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace kiln {

/// Registers what the pipelines need beyond the passes' own dependent
/// dialects: how the ops of each dialect bufferize.
void registerPipelineInterfaces(mlir::DialectRegistry &registry);

/// The gradient program: kiln-autodiff, then canonicalization and CSE.
void buildGradientPipeline(mlir::OpPassManager &pm);

/// The training and evaluation steps: kiln-build-train-step, then
/// canonicalization and CSE.
void buildTrainStepPipeline(mlir::OpPassManager &pm);

/// The training and evaluation steps lowered for the CPU: heavy ops as
/// runtime calls, the rest as linalg on tensors (what -emit=linalg prints).
void buildCpuLinalgPipeline(mlir::OpPassManager &pm);

/// From there to the LLVM dialect: bufferization, the memory plan, the
/// program's description and entry points.
void buildCpuLLVMPipeline(mlir::OpPassManager &pm);

} // namespace kiln

#endif // KILN_PIPELINES_PIPELINES_H
