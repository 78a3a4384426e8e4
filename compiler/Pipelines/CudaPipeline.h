//===- CudaPipeline.h - The pass pipelines of the GPU backend -------------===//

#ifndef KILN_PIPELINES_CUDAPIPELINE_H
#define KILN_PIPELINES_CUDAPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace kiln {

/// What the GPU backend found of the CUDA toolkit at compile time. Neither
/// part is required: without ptxas the kernels ship as PTX, which the driver
/// compiles when the trainer starts; without libdevice, math functions are
/// polynomial approximations.
struct CudaToolkit {
  /// The toolkit's directory; empty when there is none.
  std::string path;
  /// Whether bin/ptxas and nvvm/libdevice/libdevice.10.bc exist in it.
  bool hasPtxas = false, hasLibdevice = false;
};

/// The toolkit at `explicitPath`, or else at $CUDA_HOME, $CUDA_PATH or
/// /usr/local/cuda, whichever exists first.
CudaToolkit findCudaToolkit(llvm::StringRef explicitPath);

struct CudaOptions {
  /// The GPU architecture, as sm_XX.
  std::string chip = "sm_90";
  CudaToolkit toolkit;
  /// A cubin (needs ptxas), or PTX text.
  bool cubin = false;
  /// LLVM's optimization level for the kernels.
  unsigned optLevel = 3;
};

/// Registers what the GPU pipelines need beyond the passes' dependent
/// dialects: the NVVM target, and the LLVM conversions of the dialects in
/// kernels.
void registerCudaPipelineInterfaces(mlir::DialectRegistry &registry);

/// The steps with every op as linalg on tensors, ready for bufferization:
/// composite ops decomposed, heavy ops as linalg generics, scalars inside
/// linalg ops, elementwise chains fused. Also what the CPU backend compiles
/// in place of oneDNN to test these kernels' arithmetic.
void buildPortableLinalgPipeline(mlir::OpPassManager &pm);

/// From there to kernels: bufferization, the memory plan, the program's
/// description, one kernel per linalg op, NVVM, and the gpu.binary that
/// holds them (-emit=ptx prints it).
void buildCudaKernelPipeline(mlir::OpPassManager &pm,
                             const CudaOptions &options);

/// The host side to the LLVM dialect: launches as calls of the CUDA runtime,
/// the program's description and entry points.
void buildCudaHostPipeline(mlir::OpPassManager &pm);

/// Without libdevice, MLIR's NVVM serialization reports that it cannot find
/// it as errors, yet succeeds: the kernels need none after
/// kiln-approximate-math. While the returned handler lives, those reports
/// are dropped; null when the toolkit has libdevice.
std::unique_ptr<mlir::ScopedDiagnosticHandler>
ignoreMissingLibdevice(mlir::MLIRContext *context, const CudaToolkit &toolkit);

/// Prints the PTX (or says that it is a cubin) of each gpu.binary.
void printKernels(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace kiln

#endif // KILN_PIPELINES_CUDAPIPELINE_H
