//===- TensorBuilder.h - Kiln ops by name, for the decompositions ---------===//
//
// Private to Decompose: each composite op's rewrite reads like its formula.
// Values are ranked tensors of static shape; scalars are rank-0 constants
// that broadcast.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GPU_DECOMPOSE_TENSORBUILDER_H
#define KILN_GPU_DECOMPOSE_TENSORBUILDER_H

#include "Kiln/IR/KilnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln::decompose {

inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getShape();
}

inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

class TensorBuilder {
public:
  TensorBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(loc, builder) {}

  mlir::Value add(mlir::Value x, mlir::Value y) { return AddOp::create(b, x, y); }
  mlir::Value sub(mlir::Value x, mlir::Value y) { return SubOp::create(b, x, y); }
  mlir::Value mul(mlir::Value x, mlir::Value y) { return MulOp::create(b, x, y); }
  mlir::Value div(mlir::Value x, mlir::Value y) { return DivOp::create(b, x, y); }
  mlir::Value exp(mlir::Value x) { return ExpOp::create(b, x); }
  mlir::Value log(mlir::Value x) { return LogOp::create(b, x); }
  mlir::Value sqrt(mlir::Value x) { return SqrtOp::create(b, x); }
  mlir::Value tanh(mlir::Value x) { return TanhOp::create(b, x); }
  mlir::Value sigmoid(mlir::Value x) { return SigmoidOp::create(b, x); }

  /// A rank-0 constant of the element type of `like`.
  mlir::Value scalar(double value, mlir::Value like);
  /// A constant tensor of `shape` filled with `value`.
  mlir::Value splat(llvm::ArrayRef<int64_t> shape, mlir::Type element,
                    double value);
  /// 1 - x.
  mlir::Value oneMinus(mlir::Value x) { return sub(scalar(1, x), x); }

  /// Reductions over `axes` (a no-op when `axes` is empty).
  mlir::Value sum(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);
  mlir::Value mean(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);
  mlir::Value max(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepDims);

  mlir::Value matmul(mlir::Value x, mlir::Value y, bool transposeX = false,
                     bool transposeY = false) {
    return MatmulOp::create(b, x, y, transposeX, transposeY);
  }
  /// `x` with `shape` (itself when it has it already).
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// The unit-stride window of `x` at `offsets` of `sizes`.
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> offsets,
                    llvm::ArrayRef<int64_t> sizes);
  /// `values` joined along `axis` (the one value itself, alone).
  mlir::Value concat(mlir::ValueRange values, int64_t axis);

  /// softmax or log-softmax of `x` along `axis`.
  mlir::Value softmax(mlir::Value x, int64_t axis, bool log);
  /// y * (g - sum(g * y)) along `axis`: the gradient of softmax.
  mlir::Value softmaxBackward(mlir::Value grad, mlir::Value output,
                              int64_t axis);

  mlir::ImplicitLocOpBuilder &builder() { return b; }

private:
  mlir::ImplicitLocOpBuilder b;
};

/// The LSTM rewrites (DecomposeLSTM.cpp).
mlir::LogicalResult decomposeLSTM(LSTMOp op, mlir::RewriterBase &rewriter);
mlir::LogicalResult decomposeLSTMBackward(LSTMBackwardOp op,
                                          mlir::RewriterBase &rewriter);

} // namespace kiln::decompose

#endif // KILN_GPU_DECOMPOSE_TENSORBUILDER_H
