//===- Builders.h - Building blocks of the kiln-to-linalg lowering --------===//
//
// Private to KilnToLinalg: the linalg.generic shapes that the lowering uses
// over and over (broadcasting elementwise maps, reductions over axes) and
// scalar helpers, so that each op's lowering reads like its definition.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_KILNTOLINALG_BUILDERS_H
#define KILN_CONVERSION_KILNTOLINALG_BUILDERS_H

#include "Conversion/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln::lowering {

/// Computes one element (or, with several outputs, one element of each) from
/// the elements of the inputs, then of the outputs.
using ElementBody = llvm::function_ref<llvm::SmallVector<mlir::Value>(
    mlir::ImplicitLocOpBuilder &, mlir::ValueRange)>;

inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getShape();
}

inline mlir::Type elementTypeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getElementType();
}

int64_t product(llvm::ArrayRef<int64_t> sizes);

/// A map from the dimensions of a result of `resultRank` to the elements of an
/// operand of `shape` broadcast to it by NumPy's rules.
mlir::AffineMap broadcastMap(mlir::MLIRContext *context,
                             llvm::ArrayRef<int64_t> shape,
                             llvm::ArrayRef<int64_t> resultShape);

/// A new tensor of `shape` and `element` type, uninitialized.
mlir::Value emptyTensor(mlir::ImplicitLocOpBuilder &b,
                        llvm::ArrayRef<int64_t> shape, mlir::Type element);
/// A new tensor filled with `value`.
mlir::Value filledTensor(mlir::ImplicitLocOpBuilder &b,
                         llvm::ArrayRef<int64_t> shape, mlir::Type element,
                         mlir::TypedAttr value);

/// A linalg.generic over `resultShape` whose inputs broadcast to it and that
/// writes new tensors of `resultElements`.
llvm::SmallVector<mlir::Value>
elementwise(mlir::ImplicitLocOpBuilder &b, llvm::ArrayRef<int64_t> resultShape,
            mlir::ValueRange inputs, mlir::TypeRange resultElements,
            ElementBody body);

/// The same with one result, of the element type of the first input.
mlir::Value elementwise(mlir::ImplicitLocOpBuilder &b,
                        llvm::ArrayRef<int64_t> resultShape,
                        mlir::ValueRange inputs, ElementBody body);

/// A linalg.generic that updates `outputs` (tensors of one shape) in place,
/// with `inputs` broadcast to that shape.
llvm::SmallVector<mlir::Value> updateInPlace(mlir::ImplicitLocOpBuilder &b,
                                             mlir::ValueRange inputs,
                                             mlir::ValueRange outputs,
                                             ElementBody body);

/// Reduces `input` over `axes` (normalized, distinct) by `combine`, starting
/// from `init`; reduced dimensions are dropped, or kept with size 1.
mlir::Value reduce(mlir::ImplicitLocOpBuilder &b, mlir::Value input,
                   llvm::ArrayRef<int64_t> axes, bool keepDims,
                   mlir::TypedAttr init,
                   llvm::function_ref<mlir::Value(mlir::ImplicitLocOpBuilder &,
                                                  mlir::Value, mlir::Value)>
                       combine);

/// `axes` counted from the front, sorted.
llvm::SmallVector<int64_t> normalizeAxes(llvm::ArrayRef<int64_t> axes,
                                         int64_t rank);

/// A float constant of `type`.
mlir::Value floatConstant(mlir::ImplicitLocOpBuilder &b, mlir::Type type,
                          double value);
/// The element of a rank-0 tensor.
mlir::Value scalarOf(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor);
/// A rank-0 tensor holding `value`.
mlir::Value tensorOf(mlir::ImplicitLocOpBuilder &b, mlir::Value value);
/// `tensor` with `shape` (the same elements in row-major order).
mlir::Value reshapeTo(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor,
                      llvm::ArrayRef<int64_t> shape);

// Populates the patterns of each group of ops.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(mlir::RewritePatternSet &patterns);
void populateTrainingPatterns(mlir::RewritePatternSet &patterns);

} // namespace kiln::lowering

#endif // KILN_CONVERSION_KILNTOLINALG_BUILDERS_H
