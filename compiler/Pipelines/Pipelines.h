//===- Pipelines.h - The pass pipelines of kilnc, as library functions ----===//

#ifndef KILN_PIPELINES_PIPELINES_H
#define KILN_PIPELINES_PIPELINES_H

#include "Kiln/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace kiln {

/// Registers what the pipelines need beyond the passes' own dependent
/// dialects: how the ops of each dialect bufferize, and the composite kiln
/// ops' decompositions (kiln-decompose).
void registerPipelineInterfaces(mlir::DialectRegistry &registry);

/// What a compiled program is for: a trainer has the training, evaluation
/// and prediction steps; an inference library (kilnc --emit=lib) only the
/// prediction step, the forward.
enum class ProgramKind { Trainer, Library };

/// A data-parallel run: its processes, and how its training step averages
/// the gradients over them.
struct DataParallel {
  int64_t ranks = 1;
  KilnReduceGradientsOptions reduce;
};

/// The steps of `kind` built from the model function, which is erased when
/// `eraseModel`; then canonicalization and CSE. The training step of a
/// data-parallel run of several ranks averages its gradients over them
/// (kiln-reduce-gradients).
void buildStepsPipeline(mlir::OpPassManager &pm, ProgramKind kind,
                        bool eraseModel, const DataParallel &parallel = {});

/// The gradient program: kiln-autodiff, then canonicalization and CSE.
void buildGradientPipeline(mlir::OpPassManager &pm);

/// The trainer's steps (what -emit=train-step prints), the model kept.
void buildTrainStepPipeline(mlir::OpPassManager &pm,
                            const DataParallel &parallel = {});

/// The steps of `kind` lowered for the CPU: heavy ops as runtime calls, the
/// rest as linalg on tensors (what -emit=linalg prints).
void buildCpuLinalgPipeline(mlir::OpPassManager &pm, ProgramKind kind,
                            const DataParallel &parallel = {});

/// From there to the LLVM dialect: bufferization, the memory plan, the
/// program's description and entry points.
void buildCpuLLVMPipeline(mlir::OpPassManager &pm);

} // namespace kiln

#endif // KILN_PIPELINES_PIPELINES_H
