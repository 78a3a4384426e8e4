//===- MLIRGen.h - A checked Kiln program as a module of the kiln dialect -===//

#ifndef KILN_MLIRGEN_MLIRGEN_H
#define KILN_MLIRGEN_MLIRGEN_H

#include "Frontend/Program.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace kiln {

/// Builds one function named after the model. Its arguments are the
/// parameters (`kiln.param` holds the PyTorch name, `kiln.init` the initial
/// distribution), then the inputs (`kiln.input`), then the step counter
/// (`kiln.step`) if dropout needs it. Its results are named by `kiln.output`:
/// the loss, the number of correct predictions, then the model's outputs.
/// The train section becomes the module attribute `kiln.recipe`. Every op
/// carries the file, line and column it comes from.
///
/// Returns null, after reporting an internal error, if the module does not
/// verify: Sema has checked everything a user can get wrong.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const Program &program,
                                          const llvm::SourceMgr &sourceMgr);

} // namespace kiln

#endif // KILN_MLIRGEN_MLIRGEN_H
