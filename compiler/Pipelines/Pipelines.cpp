//===- Pipelines.cpp - The pass pipelines of kilnc ------------------------===//

#include "Pipelines/Pipelines.h"

#include "Kiln/Transforms/Passes.h"

#include "mlir/Transforms/Passes.h"

void kiln::buildGradientPipeline(mlir::OpPassManager &pm) {
  pm.addPass(createKilnAutodiff());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}

void kiln::buildTrainStepPipeline(mlir::OpPassManager &pm) {
  pm.addPass(createKilnBuildTrainStep());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
}
