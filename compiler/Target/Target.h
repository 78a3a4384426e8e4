//===- Target.h - From the LLVM dialect to an object file and a trainer ---===//

#ifndef KILN_TARGET_TARGET_H
#define KILN_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace kiln {

struct CodegenOptions {
  /// 0 to 3, as -O0 to -O3.
  unsigned optLevel = 3;
  /// The CPU to generate code for; "native" is this machine.
  std::string cpu = "native";
};

/// Translates `module` (LLVM dialect) to LLVM IR for the host, not yet
/// optimized. Returns null after reporting an error on the module.
std::unique_ptr<llvm::Module> translateToLLVMIR(mlir::ModuleOp module,
                                                llvm::LLVMContext &context,
                                                const CodegenOptions &options);

/// Runs LLVM's optimizations of `options.optLevel` on `module` (for
/// -emit=llvm; emitObjectFile optimizes by itself).
mlir::LogicalResult optimizeLLVMIR(llvm::Module &module,
                                   const CodegenOptions &options,
                                   std::string &error);

/// Optimizes `module` and writes it as an object file at `path`. With
/// `parallel`, optimizes and compiles it in pieces on the machine's cores
/// (up to 4) where lld is there to join them; only for a trainer, whose
/// functions the pieces may export under new names (a library's may not:
/// they would clash between libraries).
mlir::LogicalResult emitObjectFile(llvm::Module &module, llvm::StringRef path,
                                   const CodegenOptions &options,
                                   std::string &error, bool parallel = false);

/// Links `object` with the Kiln runtime and its libraries into the
/// executable `output`, with the system's C++ compiler driver.
mlir::LogicalResult linkTrainer(llvm::StringRef object, llvm::StringRef output,
                                std::string &error);

/// Links `object` (an inference library's, kilnc --emit=lib) with the
/// runtime's inference part: into the shared object `output`, exporting
/// `exported` alone, or, when not `shared`, into the static archive
/// `output`, which holds the object and the runtime's members.
mlir::LogicalResult linkLibrary(llvm::StringRef object, llvm::StringRef output,
                                bool shared,
                                llvm::ArrayRef<std::string> exported,
                                std::string &error);

} // namespace kiln

#endif // KILN_TARGET_TARGET_H
