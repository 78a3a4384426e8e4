//===- GradientBuilder.h - The vocabulary of the adjoint rules ------------===//
//
// Private to the kiln IR library: the small tensor computations that the
// adjoint rules in KilnAdjoints.cpp, KilnNNAdjoints.cpp and
// KilnElementwise.cpp are made of, so that each rule reads like its formula.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IR_GRADIENTBUILDER_H
#define KILN_IR_GRADIENTBUILDER_H

#include "Kiln/IR/KilnOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/TypeUtilities.h"

namespace kiln::detail {

class GradientBuilder {
public:
  GradientBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(loc, builder) {}

  mlir::Value add(mlir::Value x, mlir::Value y) { return AddOp::create(b, x, y); }
  mlir::Value sub(mlir::Value x, mlir::Value y) { return SubOp::create(b, x, y); }
  mlir::Value mul(mlir::Value x, mlir::Value y) { return MulOp::create(b, x, y); }
  mlir::Value div(mlir::Value x, mlir::Value y) { return DivOp::create(b, x, y); }
  mlir::Value neg(mlir::Value x) { return NegOp::create(b, x); }
  /// `x` where `condition` is not 0, else `y`.
  mlir::Value where(mlir::Value condition, mlir::Value x, mlir::Value y) {
    return WhereOp::create(b, condition, x, y);
  }

  /// A scalar of the element type of `like`.
  mlir::Value scalar(double value, mlir::Value like);
  /// A tensor of zeros of `type`.
  mlir::Value zeros(mlir::Type type);
  /// `x` with `shape`, or `x` itself when it already has it.
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> permutation);
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes,
                        bool keepDims);
  /// `x` broadcast to `shape`, or `x` itself when it already has it.
  mlir::Value broadcastTo(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// Undoes broadcasting: sums `grad` down to `shape`, from which an operand
  /// of that shape was broadcast.
  mlir::Value sumTo(mlir::Value grad, llvm::ArrayRef<int64_t> shape);
  /// The gradient of a reduction: `grad`, reduced over `axes` (kept or not),
  /// spread back over `inputShape`.
  mlir::Value unreduce(mlir::Value grad, llvm::ArrayRef<int64_t> axes,
                       llvm::ArrayRef<int64_t> inputShape);
  mlir::Value matmul(mlir::Value x, mlir::Value y, bool transposeX,
                     bool transposeY) {
    return MatmulOp::create(b, x, y, transposeX, transposeY);
  }

  mlir::ImplicitLocOpBuilder &builder() { return b; }

private:
  mlir::ImplicitLocOpBuilder b;
};

/// The static shape of a value's ranked tensor type.
inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getShape();
}

/// `axis` counted from the front, for a tensor of rank `rank`.
inline int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

} // namespace kiln::detail

#endif // KILN_IR_GRADIENTBUILDER_H
