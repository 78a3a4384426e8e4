//===- CudaPipeline.cpp - The pass pipelines of the GPU backend -----------===//

#include "Pipelines/CudaPipeline.h"
#include "Pipelines/Pipelines.h"

#include "Conversion/Passes.h"
#include "GPU/Passes.h"
#include "Kiln/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>

using namespace mlir;

kiln::CudaToolkit kiln::findCudaToolkit(StringRef explicitPath) {
  SmallVector<std::string> candidates;
  if (!explicitPath.empty()) {
    candidates.push_back(explicitPath.str());
  } else {
    for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
      if (const char *value = std::getenv(variable); value && *value)
        candidates.push_back(value);
    candidates.push_back("/usr/local/cuda");
  }
  CudaToolkit toolkit;
  for (const std::string &candidate : candidates) {
    if (!llvm::sys::fs::is_directory(candidate))
      continue;
    toolkit.path = candidate;
    SmallString<256> ptxas(candidate), libdevice(candidate);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
    toolkit.hasPtxas = llvm::sys::fs::can_execute(ptxas);
    toolkit.hasLibdevice = llvm::sys::fs::exists(libdevice);
    break;
  }
  return toolkit;
}

void kiln::registerCudaPipelineInterfaces(DialectRegistry &registry) {
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  registerConvertNVVMToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
}

void kiln::buildPortableLinalgPipeline(OpPassManager &pm) {
  buildStepsPipeline(pm, ProgramKind::Trainer, /*eraseModel=*/true);
  pm.addPass(createKilnAnnotateSteps());
  pm.addPass(createKilnDecompose());
  // Merges the LSTM gradient's recomputed forward with the forward.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createKilnLowerHeavyToLinalg());
  pm.addPass(createKilnLowerToLinalg());
  pm.addPass(createKilnDeviceScalars());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Canonicalization may fold new splat constants.
  pm.addPass(createKilnDeviceScalars());
}

void kiln::buildCudaKernelPipeline(OpPassManager &pm,
                                   const CudaOptions &options) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.unknownTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(kiln::createKilnNameConstants());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createKilnResultsToSlots());
  pm.addPass(createKilnPlanMemory());
  pm.addPass(createKilnDescribeProgram());
  pm.addPass(createKilnMapToGPU());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createKilnMergeGPUModules());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = "";
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  if (!options.toolkit.hasLibdevice)
    kernels.addPass(createKilnApproximateMath());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.toolkit.path;
  binary.compilationTarget = options.cubin ? "bin" : "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void kiln::buildCudaHostPipeline(OpPassManager &pm) {
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions func;
  func.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(func));
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createKilnLowerGPULaunches());
  pm.addPass(createKilnEmitProgram());
}

std::unique_ptr<ScopedDiagnosticHandler>
kiln::ignoreMissingLibdevice(MLIRContext *context, const CudaToolkit &toolkit) {
  if (toolkit.hasLibdevice)
    return nullptr;
  return std::make_unique<ScopedDiagnosticHandler>(
      context, [](Diagnostic &diagnostic) {
        std::string message = diagnostic.str();
        bool libdevice = StringRef(message).starts_with("LibDevice path:") ||
                         StringRef(message).starts_with("CUDA path:");
        return success(libdevice &&
                       diagnostic.getSeverity() == DiagnosticSeverity::Error);
      });
}

void kiln::printKernels(ModuleOp module, raw_ostream &os) {
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute attr : binary.getObjectsAttr()) {
      auto object = cast<gpu::ObjectAttr>(attr);
      if (object.getFormat() == gpu::CompilationTarget::Assembly)
        os << object.getObject().getValue();
      else
        os << "; " << binary.getSymName() << ": a binary of "
           << object.getObject().getValue().size() << " bytes\n";
    }
}
