//===- RefInternal.h - Shared pieces of the reference evaluator -----------===//
//
// Private to compiler/Reference: the frame of values that the driver fills op
// by op, index arithmetic over row-major tensors, and the table of kernels
// that the group files (RefTensor, RefMath, RefConv, RefNN, RefBatchNorm,
// RefLSTM, RefGRU, RefOptimizer; each backward op next to its forward op)
// fill and Evaluator.cpp dispatches through.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_REFERENCE_REFINTERNAL_H
#define KILN_REFERENCE_REFINTERNAL_H

#include "Reference/Evaluator.h"

#include "Kiln/IR/KilnOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
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

/// Each op's kernel, by the op's TypeID: computes the op's results from its
/// operands in the frame and sets them there; fails after emitting an error
/// at the op on a run-time error.
class KernelTable {
public:
  using Kernel = std::function<mlir::LogicalResult(mlir::Operation *, Frame &)>;

  template <typename Op> void add(mlir::LogicalResult (*kernel)(Op, Frame &)) {
    kernels[mlir::TypeID::get<Op>()] = [kernel](mlir::Operation *op,
                                                Frame &frame) {
      return kernel(llvm::cast<Op>(op), frame);
    };
  }
  /// The kernel of `op`, or null when the evaluator has none.
  const Kernel *find(mlir::Operation *op) const {
    auto it = kernels.find(op->getName().getTypeID());
    return it == kernels.end() ? nullptr : &it->second;
  }

private:
  llvm::DenseMap<mlir::TypeID, Kernel> kernels;
};

/// Each file of kernels registers its own, where it defines them.
void registerTensorKernels(KernelTable &table);
void registerMathKernels(KernelTable &table);
void registerConvKernels(KernelTable &table);
void registerNNKernels(KernelTable &table);
void registerBatchNormKernels(KernelTable &table);
void registerLSTMKernels(KernelTable &table);
void registerGRUKernels(KernelTable &table);
void registerOptimizerKernels(KernelTable &table);

} // namespace kiln::reference

#endif // KILN_REFERENCE_REFINTERNAL_H
