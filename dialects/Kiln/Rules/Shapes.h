//===- Shapes.h - The shape rules of the kiln ops, without MLIR -----------===//
//
// Each op's rule is written once, here: what its operands and attributes must
// be and what its result types are. The dialect's type inference calls it
// (and reports a problem at the op), and so does the front end (which reports
// it at the source line). Sizes may be unknown (kDynamic) in hand-written IR;
// a check that needs a size runs only when it is known.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RULES_SHAPES_H
#define KILN_RULES_SHAPES_H

#include "Kiln/Rules/TensorType.h"

#include "llvm/ADT/Twine.h"

#include <cassert>
#include <optional>
#include <variant>

namespace kiln {

/// Why operands or attributes do not fit an op. `subject` names the operand
/// or attribute at fault, as ODS names it ("input", "kernel"), or is empty
/// when no single one is; `message` is a whole phrase that starts with it.
struct ShapeProblem {
  std::string subject;
  std::string message;
};

/// A rule's answer: the value, or the problem that prevents it.
template <typename T> class Checked {
public:
  Checked(T value) : state(std::move(value)) {}
  Checked(ShapeProblem problem) : state(std::move(problem)) {}

  explicit operator bool() const { return state.index() == 0; }
  const T &operator*() const { return std::get<0>(state); }
  T &operator*() { return std::get<0>(state); }
  const T *operator->() const { return &std::get<0>(state); }
  const ShapeProblem &problem() const { return std::get<1>(state); }

private:
  std::variant<T, ShapeProblem> state;
};

inline ShapeProblem shapeProblem(llvm::StringRef subject,
                                 const llvm::Twine &message) {
  return {subject.str(), message.str()};
}

namespace rules {

using llvm::ArrayRef;

/// `axis` counted from the front, when it is an axis of a rank-`rank` tensor.
Checked<int64_t> axis(int64_t axis, int64_t rank, llvm::StringRef name);

/// NumPy's broadcast of two shapes.
Checked<Shape> broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs);

//===----------------------------------------------------------------------===//
// Tensor and math ops (TensorRules.cpp)
//===----------------------------------------------------------------------===//

/// add, sub, mul, div and the other broadcasting elementwise ops.
Checked<TensorType> broadcast(const TensorType &lhs, const TensorType &rhs);
/// where: the condition, x and y broadcast to one shape.
Checked<TensorType> where(const TensorType &condition, const TensorType &x,
                          const TensorType &y);
Checked<TensorType> reduction(const TensorType &input, ArrayRef<int64_t> axes,
                              bool keepDims);
Checked<TensorType> argmax(const TensorType &input, int64_t axis,
                           bool keepDims);
/// softmax and log_softmax.
Checked<TensorType> softmax(const TensorType &input, int64_t axis);
/// `target` may hold one -1, inferred from the element count.
Checked<TensorType> reshape(const TensorType &input, ArrayRef<int64_t> target);
Checked<TensorType> flatten(const TensorType &input, int64_t startDim,
                            int64_t endDim);
Checked<TensorType> transpose(const TensorType &input,
                              ArrayRef<int64_t> permutation);
Checked<TensorType> concat(ArrayRef<TensorType> inputs, int64_t axis);
Checked<TensorType> slice(const TensorType &input, ArrayRef<int64_t> offsets,
                          ArrayRef<int64_t> sizes, ArrayRef<int64_t> strides);
Checked<TensorType> embedding(const TensorType &ids, const TensorType &table);
Checked<TensorType> oneHot(const TensorType &ids, int64_t numClasses,
                           ElementType element);
Checked<TensorType> sinusoidalPositions(int64_t length, int64_t dim,
                                        ElementType element);
Checked<TensorType> matmul(const TensorType &lhs, const TensorType &rhs,
                           bool transposeLhs, bool transposeRhs);
Checked<TensorType> countEqual(const TensorType &lhs, const TensorType &rhs);

//===----------------------------------------------------------------------===//
// Layers (LayerRules.cpp)
//===----------------------------------------------------------------------===//

/// The sizes a sliding window produces along the last `kernel.size()`
/// dimensions of `input` ([N, C, spatial...]): [N, channels, out...].
Checked<Shape> windowShape(ArrayRef<int64_t> input, int64_t channels,
                           ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                           ArrayRef<int64_t> padding,
                           ArrayRef<int64_t> dilation);
Checked<TensorType> conv2d(const TensorType &input, const TensorType &weight,
                           const TensorType *bias, ArrayRef<int64_t> stride,
                           ArrayRef<int64_t> padding,
                           ArrayRef<int64_t> dilation);
/// The [N, out, H, W] result of a transposed convolution of `input`
/// [N, in, H', W'] by `weight` [in, out, KH, KW] (PyTorch's ConvTranspose2d):
/// the input whose convolution by `weight` gives [N, in, H', W'], plus
/// `outputPadding` rows and columns.
Checked<TensorType> convTranspose2d(const TensorType &input,
                                    const TensorType &weight,
                                    ArrayRef<int64_t> stride,
                                    ArrayRef<int64_t> padding,
                                    ArrayRef<int64_t> outputPadding,
                                    ArrayRef<int64_t> dilation);
/// max_pool2d and avg_pool2d.
Checked<TensorType> pool2d(const TensorType &input, ArrayRef<int64_t> kernel,
                           ArrayRef<int64_t> stride, ArrayRef<int64_t> padding);
Checked<TensorType> linear(const TensorType &input, const TensorType &weight,
                           const TensorType *bias);
Checked<TensorType> layerNorm(const TensorType &input,
                              const TensorType *weight, const TensorType *bias,
                              int64_t axis, double epsilon);
/// A dropout probability, kiln.dropout's `p` or attention's `dropout`
/// (`name`): it must be in [0, 1).
std::optional<ShapeProblem> dropoutProbability(double p, llvm::StringRef name);
Checked<TensorType> dropout(const TensorType &input, double p);
/// The normalized input, then the running mean, variance and batch count.
Checked<std::vector<TensorType>>
batchNorm(const TensorType &input, const TensorType *weight,
          const TensorType *bias, const TensorType &runningMean,
          const TensorType &runningVar, const TensorType &numBatchesTracked,
          double epsilon, double momentum);
/// The output sequence, then the last hidden and cell states.
Checked<std::vector<TensorType>> lstm(const TensorType &input,
                                      ArrayRef<TensorType> weights,
                                      int64_t hiddenSize, int64_t numLayers);
/// The output sequence, then the last hidden state.
Checked<std::vector<TensorType>> gru(const TensorType &input,
                                     ArrayRef<TensorType> weights,
                                     int64_t hiddenSize, int64_t numLayers);
Checked<TensorType> attention(const TensorType &query, const TensorType &key,
                              const TensorType &value,
                              std::optional<double> scale, double dropout);
/// `labelSmoothing` must lie in [0, 1]; any ignored label value is valid.
Checked<TensorType> crossEntropy(const TensorType &logits,
                                 const TensorType &labels,
                                 double labelSmoothing = 0);

} // namespace rules
} // namespace kiln

#endif // KILN_RULES_SHAPES_H
