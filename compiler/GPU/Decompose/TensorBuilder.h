//===- TensorBuilder.h - Kiln ops by name, for the decompositions ---------===//
//
// Private to Decompose: each composite op's rewrite reads like its formula.
// Values are ranked tensors of static shape; scalars are rank-0 constants
// that broadcast. The adjoints' GradientBuilder provides the arithmetic,
// reshapes, reductions by sum and products; this adds the functions and
// composites that the decompositions need, and the model that attaches a
// rewrite to its op.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GPU_DECOMPOSE_TENSORBUILDER_H
#define KILN_GPU_DECOMPOSE_TENSORBUILDER_H

#include "Kiln/IR/GradientBuilder.h"
#include "Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln::decompose {

using detail::normalizeAxis;
using detail::shapeOf;

class TensorBuilder : public detail::GradientBuilder {
public:
  using GradientBuilder::GradientBuilder;

  mlir::Value exp(mlir::Value x) { return ExpOp::create(builder(), x); }
  mlir::Value log(mlir::Value x) { return LogOp::create(builder(), x); }
  mlir::Value sqrt(mlir::Value x) { return SqrtOp::create(builder(), x); }
  mlir::Value tanh(mlir::Value x) { return TanhOp::create(builder(), x); }
  mlir::Value sigmoid(mlir::Value x) { return SigmoidOp::create(builder(), x); }

  /// A constant tensor of `shape` filled with `value`.
  mlir::Value splat(llvm::ArrayRef<int64_t> shape, mlir::Type element,
                    double value);
  /// 1 - x.
  mlir::Value oneMinus(mlir::Value x) { return sub(scalar(1, x), x); }

  /// Reductions over `axes` (a no-op when `axes` is empty).
  mlir::Value mean(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);
  mlir::Value max(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);

  /// The unit-stride window of `x` at `offsets` of `sizes`.
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> offsets,
                    llvm::ArrayRef<int64_t> sizes);
  /// `values` joined along `axis` (the one value itself, alone).
  mlir::Value concat(mlir::ValueRange values, int64_t axis);
  /// [N, ...] from N values of one shape: the recurrent layers' final
  /// states [L, B, H] from each layer's [B, H].
  mlir::Value stack(mlir::ValueRange values);

  /// softmax or log-softmax of `x` along `axis`.
  mlir::Value softmax(mlir::Value x, int64_t axis, bool log);
  /// y * (g - sum(g * y)) along `axis`: the gradient of softmax.
  mlir::Value softmaxBackward(mlir::Value grad, mlir::Value output,
                              int64_t axis);
};

/// The values that replace a composite op's results, or failure after an
/// error at the op.
using Decomposition = mlir::FailureOr<llvm::SmallVector<mlir::Value>>;

/// linalg's AggregatedOpInterface for `Op`: `Decompose` builds the values
/// that replace the op's results, just before the op.
template <typename Op, Decomposition (*Decompose)(Op, TensorBuilder &)>
struct DecompositionModel : mlir::linalg::AggregatedOpInterface::ExternalModel<
                                DecompositionModel<Op, Decompose>, Op> {
  Decomposition decomposeOperation(mlir::Operation *op,
                                   mlir::OpBuilder &builder) const {
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(op);
    TensorBuilder t(builder, op->getLoc());
    return Decompose(llvm::cast<Op>(op), t);
  }
};

/// Makes `Decompose` the decomposition of `Op` in `context`.
template <typename Op, Decomposition (*Decompose)(Op, TensorBuilder &)>
void attachDecomposition(mlir::MLIRContext &context) {
  Op::template attachInterface<DecompositionModel<Op, Decompose>>(context);
}

/// Fails, at `op`, when unrolling `layers` recurrent layers over the steps
/// of `input` [B, T, I] would make a program too large to compile (the CPU's
/// recurrent kernels are not unrolled).
mlir::LogicalResult checkUnrollable(mlir::Operation *op, mlir::Value input,
                                    int64_t layers);

/// Attach the rewrites of each group file and of its ops' gradients.
void attachBatchNormDecompositions(mlir::MLIRContext &context);
void attachLSTMDecompositions(mlir::MLIRContext &context);
void attachGRUDecompositions(mlir::MLIRContext &context);

} // namespace kiln::decompose

#endif // KILN_GPU_DECOMPOSE_TENSORBUILDER_H
