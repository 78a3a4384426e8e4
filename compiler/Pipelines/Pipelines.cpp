//===- Pipelines.cpp - The pass pipelines of kilnc ------------------------===//

#include "Pipelines/Pipelines.h"

#include "Conversion/Passes.h"
#include "GPU/Passes.h"
#include "Kiln/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Transforms/Passes.h"

void kiln::registerPipelineInterfaces(mlir::DialectRegistry &registry) {
  registerDecompositionModels(registry);
  registerBufferizationInterfaces(registry);
  mlir::arith::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  mlir::linalg::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::scf::registerBufferizableOpInterfaceExternalModels(registry);
  mlir::tensor::registerBufferizableOpInterfaceExternalModels(registry);
}

void kiln::buildGradientPipeline(mlir::OpPassManager &pm) {
  pm.addPass(createKilnAutocast());
  pm.addPass(createKilnAutodiff());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void kiln::buildStepsPipeline(mlir::OpPassManager &pm, ProgramKind kind,
                              bool eraseModel, const DataParallel &parallel) {
  // The backward is a pass of its own in the path to a trainer, so that a
  // pass may be inserted after it (kilnc --insert-pass); the train step
  // takes the gradient function it builds.
  pm.addPass(createKilnAutocast());
  if (kind == ProgramKind::Trainer)
    pm.addPass(createKilnAutodiff());
  KilnBuildPredictStepOptions predict;
  predict.eraseModel = eraseModel && kind == ProgramKind::Library;
  pm.addPass(createKilnBuildPredictStep(predict));
  if (kind == ProgramKind::Trainer) {
    KilnBuildTrainStepOptions steps;
    steps.eraseModel = eraseModel;
    pm.addPass(createKilnBuildTrainStep(steps));
    if (parallel.ranks > 1)
      pm.addNestedPass<mlir::func::FuncOp>(
          createKilnReduceGradients(parallel.reduce));
  }
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void kiln::buildTrainStepPipeline(mlir::OpPassManager &pm,
                                  const DataParallel &parallel) {
  buildStepsPipeline(pm, ProgramKind::Trainer, /*eraseModel=*/false, parallel);
}

void kiln::buildCpuLinalgPipeline(mlir::OpPassManager &pm, ProgramKind kind,
                                  const DataParallel &parallel) {
  buildStepsPipeline(pm, kind, /*eraseModel=*/true, parallel);
  pm.addPass(createKilnAnnotateSteps());
  // The composite ops that the runtime does not take become primitive ones,
  // whose matrix products the runtime then takes.
  KilnDecomposeOptions decompose;
  decompose.keepRuntimeKernels = true;
  pm.addPass(createKilnDecompose(decompose));
  pm.addPass(mlir::createCSEPass());
  pm.addPass(createKilnMaskReluGradients());
  pm.addPass(createKilnLowerToRuntime());
  pm.addPass(createKilnAssignRuntimeLayouts());
  pm.addPass(createKilnLowerToLinalg());
  pm.addPass(mlir::createLinalgElementwiseOpFusionPass());
  pm.addPass(mlir::createCanonicalizerPass());
}

void kiln::buildCpuLLVMPipeline(mlir::OpPassManager &pm) {
  mlir::bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      mlir::bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.unknownTypeConversion =
      mlir::bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(mlir::bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createKilnNameConstants());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(createKilnResultsToSlots());
  pm.addPass(createKilnContiguousRuntimeOperands());
  pm.addPass(createKilnPlanMemory());
  pm.addPass(createKilnDescribeProgram());
  pm.addPass(createKilnLowerRuntimeCalls());
  pm.addPass(createKilnStridedCopiesToLinalg());
  pm.addPass(createKilnCollapseLoops());
  pm.addPass(createKilnOutlineParallelLoops());
  // The passes that convert one function at a time run on the functions in
  // parallel, on MLIR's threads.
  mlir::OpPassManager &loops = pm.nest<mlir::func::FuncOp>();
  loops.addPass(mlir::createConvertLinalgToLoopsPass());
  loops.addPass(mlir::createLowerAffinePass());
  loops.addPass(mlir::createSCFToControlFlowPass());
  loops.addPass(mlir::createConvertMathToLLVMPass());
  loops.addPass(mlir::memref::createExpandStridedMetadataPass());
  // The offsets of the slices of parallel bodies expand to affine.apply.
  loops.addPass(mlir::createLowerAffinePass());
  pm.addPass(mlir::createConvertMathToLibmPass());
  pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass());
  mlir::OpPassManager &scalars = pm.nest<mlir::func::FuncOp>();
  scalars.addPass(mlir::createArithToLLVMConversionPass());
  scalars.addPass(mlir::createConvertIndexToLLVMPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  mlir::ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(mlir::createConvertFuncToLLVMPass(func));
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  pm.addPass(createKilnLowerParallelCalls());
  pm.addPass(createKilnEmitProgram());
}
