//===- Autodiff.h - Reverse-mode differentiation of kiln functions --------===//

#ifndef KILN_TRANSFORMS_AUTODIFF_H
#define KILN_TRANSFORMS_AUTODIFF_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {

/// Builds, next to `func`, the function `<name>_grad`: the same arguments,
/// the same results, followed by the gradient of result `lossIndex` (a float
/// scalar) with respect to each argument in `wrt`, in that order, named
/// `kiln.grad = <argument name>`.
///
/// Reverse mode, one local rule per op (DifferentiableOpInterface): only ops
/// between the `wrt` arguments and the loss get adjoints, gradients of values
/// used several times are summed, and an op is asked only for the operand
/// gradients that lead back to a `wrt` argument (no gradient for a batch).
mlir::FailureOr<mlir::func::FuncOp>
buildGradientFunction(mlir::func::FuncOp func, unsigned lossIndex,
                      llvm::ArrayRef<unsigned> wrt);

/// The index of the result named `kiln.output = "loss"`, if any.
std::optional<unsigned> findLossResult(mlir::func::FuncOp func);

/// The arguments that are parameters (`kiln.param`), in order.
llvm::SmallVector<unsigned> parameterArguments(mlir::func::FuncOp func);

/// Whether `func` is a step that kiln-build-train-step or
/// kiln-build-predict-step builds (train_step, eval_step, predict_step).
bool isStepFunction(mlir::func::FuncOp func);

/// The gradient function of `func` with respect to the arguments `wrt`: the
/// one in the module (kiln-autodiff's, perhaps changed since), else a new
/// one (buildGradientFunction). An existing one must return `func`'s
/// results and then the gradients of `wrt`, named as buildGradientFunction
/// names them.
mlir::FailureOr<mlir::func::FuncOp>
findOrBuildGradientFunction(mlir::func::FuncOp func, unsigned lossIndex,
                            llvm::ArrayRef<unsigned> wrt);

} // namespace kiln

#endif // KILN_TRANSFORMS_AUTODIFF_H
