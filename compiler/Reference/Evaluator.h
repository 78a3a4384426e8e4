//===- Evaluator.h - The reference evaluator of the kiln dialect ----------===//
//
// The oracle of every numeric test: a plain, obviously correct implementation
// of every kiln operation (loops over indices, no tricks), which executes a
// function of kiln ops on given tensors. In F64 precision every value is a
// double; in F32 precision every floating-point result is rounded to float
// after each operation, which tracks float32 programs such as PyTorch's
// closely.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_REFERENCE_EVALUATOR_H
#define KILN_REFERENCE_EVALUATOR_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <vector>

namespace kiln::io {
struct TensorData;
} // namespace kiln::io

namespace kiln::reference {

enum class Precision { F32, F64 };

/// A value of the evaluator: reals (f32 and f64 tensors) as doubles,
/// integers (i64 tensors) as int64, in row-major order.
struct Tensor {
  std::vector<int64_t> shape;
  bool isInteger = false;
  std::vector<double> reals;
  std::vector<int64_t> integers;

  int64_t numElements() const;
  static Tensor real(std::vector<int64_t> shape, std::vector<double> values);
  static Tensor integer(std::vector<int64_t> shape,
                        std::vector<int64_t> values);
};

/// Runs `func` on `args`, one per argument, whose shapes and kinds must match
/// its argument types. Fails, after emitting an error at the offending op's
/// location, on an operation it does not know or on a run-time error such
/// as an embedding id out of range.
mlir::FailureOr<std::vector<Tensor>>
evaluate(mlir::func::FuncOp func, llvm::ArrayRef<Tensor> args,
         Precision precision);

/// Conversions from and to the tensors of safetensors files.
Tensor fromTensorData(const io::TensorData &data);
io::TensorData toTensorData(const Tensor &tensor, mlir::Type elementType);

} // namespace kiln::reference

#endif // KILN_REFERENCE_EVALUATOR_H
