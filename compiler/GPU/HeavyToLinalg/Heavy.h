//===- Heavy.h - Building blocks of the heavy ops' linalg lowering --------===//
//
// Private to HeavyToLinalg. Convolutions and pooling read their input
// through index arithmetic in the body of a linalg.generic (linalg.index,
// then a bounds-checked tensor.extract) instead of padding it: no padded
// copy, any stride, padding and dilation.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GPU_HEAVYTOLINALG_HEAVY_H
#define KILN_GPU_HEAVYTOLINALG_HEAVY_H

#include "GPU/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

namespace kiln::heavy {

inline llvm::ArrayRef<int64_t> shapeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getShape();
}

inline mlir::Type elementTypeOf(mlir::Value value) {
  return llvm::cast<mlir::RankedTensorType>(value.getType()).getElementType();
}

/// A new tensor of `shape` filled with `value`.
mlir::Value filled(mlir::ImplicitLocOpBuilder &b, llvm::ArrayRef<int64_t> shape,
                   mlir::Type element, double value);

/// An index constant.
mlir::Value index(mlir::ImplicitLocOpBuilder &b, int64_t value);

/// Index arithmetic of the bodies.
mlir::Value addIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value x,
                     mlir::Value y);
mlir::Value mulIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value x,
                     int64_t factor);
mlir::Value addIndex(mlir::ImplicitLocOpBuilder &b, mlir::Value x,
                     int64_t offset);

/// Whether 0 <= i < size.
mlir::Value inRange(mlir::ImplicitLocOpBuilder &b, mlir::Value i, int64_t size);

/// The element of `tensor` at `indices` when `valid`, else `padding`; the
/// indices are clamped so that no read leaves the tensor.
mlir::Value readOr(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor,
                   mlir::ValueRange indices, mlir::Value valid,
                   double padding);

/// A linalg.generic over the dimensions of `maps`' domain with `iterators`,
/// reading `inputs` and updating `init`, whose body `body` gets the block
/// arguments (inputs, then the output) and returns the new output.
mlir::Value generic(
    mlir::ImplicitLocOpBuilder &b, mlir::ValueRange inputs, mlir::Value init,
    llvm::ArrayRef<mlir::AffineMap> maps,
    llvm::ArrayRef<mlir::utils::IteratorType> iterators,
    llvm::function_ref<mlir::Value(mlir::ImplicitLocOpBuilder &,
                                   mlir::ValueRange)>
        body);

// The lowerings of each group (Convolution.cpp, Pooling.cpp).
mlir::LogicalResult lowerConv2D(Conv2DOp op, mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerConv2DBackwardInput(Conv2DBackwardInputOp op,
                                             mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerConv2DBackwardWeight(Conv2DBackwardWeightOp op,
                                              mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerMaxPool2D(MaxPool2DOp op, mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerAvgPool2D(AvgPool2DOp op, mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerMaxPool2DBackward(MaxPool2DBackwardOp op,
                                           mlir::RewriterBase &rewriter);
mlir::LogicalResult lowerAvgPool2DBackward(AvgPool2DBackwardOp op,
                                           mlir::RewriterBase &rewriter);

} // namespace kiln::heavy

#endif // KILN_GPU_HEAVYTOLINALG_HEAVY_H
