//===- kiln-opt.cpp - The mlir-opt of Kiln: every kiln pass, one flag each ===//

#include "Conversion/Passes.h"
#include "GPU/Passes.h"
#include "Kiln/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  kiln::registerKilnPasses();
  kiln::registerKilnConversionPasses();
  kiln::registerKilnGPUPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<kiln::KilnDialect>();
  kiln::registerBufferizationInterfaces(registry);
  kiln::registerDecompositionModels(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "Kiln optimizer driver: the kiln dialect and its passes\n",
      registry));
}
