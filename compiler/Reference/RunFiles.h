//===- RunFiles.h - Runs a kiln function on safetensors files -------------===//
//
// What kiln-run and `kilnc -run-reference` share: choosing the function of a
// module, reading its arguments from a safetensors file by name
// (kiln::getArgumentName), evaluating it with the reference evaluator, and
// writing its results to another file by name (kiln::getResultName).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_REFERENCE_RUNFILES_H
#define KILN_REFERENCE_RUNFILES_H

#include "Reference/Evaluator.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace kiln::reference {

/// The function of `module` called `name`, or its only function when `name`
/// is empty. Otherwise returns null and sets `error`, which calls the module
/// `source` (the file it comes from).
mlir::func::FuncOp pickFunction(mlir::ModuleOp module, llvm::StringRef name,
                                llvm::StringRef source, std::string &error);

/// Evaluates `func` on the tensors of `inputsPath` (which may be empty when
/// `func` has no arguments) and writes its results to `outputsPath`. Each
/// argument's tensor must have its type's dtype and shape, and each result is
/// written in its element type. But F64 precision computes in double
/// whatever the types say, so there f32 arguments also take F64 tensors, and
/// when one does, real results are written as F64: a float64 reference then
/// meets all the digits of the f32 program evaluated in double. On failure,
/// `error` says why, or is empty when the evaluator has emitted a diagnostic
/// at an op.
mlir::LogicalResult runOnFiles(mlir::func::FuncOp func,
                               llvm::StringRef inputsPath,
                               llvm::StringRef outputsPath, Precision precision,
                               std::string &error);

} // namespace kiln::reference

#endif // KILN_REFERENCE_RUNFILES_H
