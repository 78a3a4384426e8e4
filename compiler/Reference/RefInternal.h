//===- RefInternal.h - Shared pieces of the reference evaluator -----------===//
//
// Private to compiler/Reference: the frame of values that the driver fills op
// by op, index arithmetic over row-major tensors, and one evaluateOp overload
// per kiln op, defined in the group files (RefTensor, RefMath, RefConv,
// RefNN, RefBatchNorm, RefLSTM, RefGRU, RefOptimizer; each backward op next
// to its forward op) and dispatched from Evaluator.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_REFERENCE_REFINTERNAL_H
#define KILN_REFERENCE_REFINTERNAL_H

#include "Reference/Evaluator.h"

#include "Kiln/IR/KilnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

namespace kiln::reference {

using Shape = llvm::SmallVector<int64_t, 4>;

/// The values computed so far while evaluating one function.
class Frame {
public:
  explicit Frame(Precision precision) : precision(precision) {}

  /// The tensor of `value`, which the driver has set before its users run.
  const Tensor &operator[](mlir::Value value) const;

  /// Records `tensor` as the value of `value`. In F32 precision its reals are
  /// rounded to float here, so that every op's result is.
  void set(mlir::Value value, Tensor tensor);

private:
  Precision precision;
  llvm::DenseMap<mlir::Value, Tensor> values;
};

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

/// The number of elements of a tensor of `shape` (1 for a scalar).
int64_t product(llvm::ArrayRef<int64_t> shape);

/// The multi-index of row-major position `flat` in a tensor of `shape`.
Shape unflatten(int64_t flat, llvm::ArrayRef<int64_t> shape);

/// The row-major position of `index` in a tensor of `shape`.
int64_t flatten(llvm::ArrayRef<int64_t> index, llvm::ArrayRef<int64_t> shape);

/// The position in a tensor of `shape` of the element that NumPy
/// broadcasting sends to `index` (of a shape at least as long): `shape`
/// aligns with the last dimensions, and its size-1 dimensions repeat.
int64_t broadcastSource(llvm::ArrayRef<int64_t> index,
                        llvm::ArrayRef<int64_t> shape);

/// NumPy's broadcast shape of two shapes that the verifier has checked.
Shape broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// `axis` counted from the front; the verifier has checked its range.
int64_t normalizeAxis(int64_t axis, int64_t rank);

/// A shape seen as [outer, size, inner] around one axis, so that element
/// (o, a, i) lies at (o * size + a) * inner + i.
struct AxisView {
  AxisView(llvm::ArrayRef<int64_t> shape, int64_t axis);
  int64_t at(int64_t o, int64_t a, int64_t i) const {
    return (o * size + a) * inner + i;
  }
  int64_t outer, size, inner;
};

/// a > b, with NaN greater than any number, as PyTorch's max and argmax
/// propagate NaN.
inline bool isGreater(double a, double b) {
  return a > b || (a != a && b == b);
}

/// A zero-filled tensor of `shape`, of reals or of integers.
Tensor zeros(llvm::ArrayRef<int64_t> shape, bool isInteger = false);

/// Copies element `from` of `source` to element `to` of `dest`, a tensor of
/// the same kind.
void copyElement(const Tensor &source, int64_t from, Tensor &dest, int64_t to);

/// Fails, after an error at `op`, when an element of the integer tensor
/// `ids` lies outside [0, limit); `what` says what the limit counts.
mlir::LogicalResult checkIds(mlir::Operation *op, const Tensor &ids,
                             int64_t limit, const char *what);

/// The static shape of `value`'s type.
std::vector<int64_t> shapeOf(mlir::Value value);

/// "[2, 3]", for messages.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

double logistic(double x);

//===----------------------------------------------------------------------===//
// The ops, one overload each
//===----------------------------------------------------------------------===//

/// Every op the evaluator implements, grouped by the file that does.
// clang-format off
#define KILN_REFERENCE_OPS(X)                                                  \
  /* RefTensor.cpp */                                                          \
  X(ConstantOp) X(ReshapeOp) X(FlattenOp) X(TransposeOp) X(ConcatOp)           \
  X(SliceOp) X(EmbeddingOp) X(EmbeddingBackwardOp) X(OneHotOp)                 \
  X(SinusoidalPositionsOp) X(BroadcastToOp) X(ScatterSliceOp) X(CountEqualOp)  \
  /* RefMath.cpp */                                                            \
  X(AddOp) X(SubOp) X(MulOp) X(DivOp) X(NegOp) X(ReluOp) X(ReluBackwardOp)     \
  X(TanhOp) X(SigmoidOp) X(ExpOp) X(LogOp) X(SqrtOp) X(GeluOp)                 \
  X(GeluBackwardOp) X(SoftmaxOp) X(SoftmaxBackwardOp) X(LogSoftmaxOp)          \
  X(LogSoftmaxBackwardOp) X(ReduceSumOp) X(ReduceMeanOp) X(ReduceMaxOp)        \
  X(ReduceMaxBackwardOp) X(ArgmaxOp) X(MatmulOp)                               \
  /* RefConv.cpp */                                                            \
  X(Conv2DOp) X(Conv2DBackwardInputOp) X(Conv2DBackwardWeightOp)               \
  X(MaxPool2DOp) X(MaxPool2DBackwardOp) X(AvgPool2DOp) X(AvgPool2DBackwardOp)  \
  /* RefNN.cpp */                                                              \
  X(LinearOp) X(LayerNormOp) X(LayerNormBackwardOp) X(DropoutOp)               \
  X(AttentionOp) X(AttentionBackwardOp) X(CrossEntropyOp)                      \
  X(CrossEntropyBackwardOp)                                                    \
  /* RefBatchNorm.cpp */                                                       \
  X(BatchNormOp) X(BatchNormBackwardOp)                                        \
  /* RefLSTM.cpp */                                                            \
  X(LSTMOp) X(LSTMBackwardOp)                                                  \
  /* RefGRU.cpp */                                                             \
  X(GRUOp) X(GRUBackwardOp)                                                    \
  /* RefOptimizer.cpp */                                                       \
  X(SGDOp) X(AdamOp) X(AdamWOp) X(LearningRateOp) X(ClipGradNormOp)
// clang-format on

/// Computes `op`'s results from its operands in `frame` and sets them there;
/// fails after emitting an error at the op on a run-time error.
#define KILN_REFERENCE_DECLARE(Op)                                             \
  mlir::LogicalResult evaluateOp(kiln::Op op, Frame &frame);
KILN_REFERENCE_OPS(KILN_REFERENCE_DECLARE)
#undef KILN_REFERENCE_DECLARE

} // namespace kiln::reference

#endif // KILN_REFERENCE_REFINTERNAL_H
