//===- Kernel.h - Building GPU kernels from linalg.generic ops ------------===//
//
// Private to MapToGPU: a linalg.generic on buffers, with static loop ranges,
// becomes one gpu.launch. The strategies (one thread per element, one
// thread per result, one block per result, tiled contractions) share how a
// kernel reads an operand at given loop indices and how it runs the
// generic's body.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_GPU_MAPTOGPU_KERNEL_H
#define KILN_GPU_MAPTOGPU_KERNEL_H

#include "GPU/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln::gpu_mapping {

/// Threads per block of the one-dimensional strategies.
constexpr int64_t kBlockSize = 256;

/// The loops of a generic: static sizes, parallel and reduction dimensions.
struct LoopSpace {
  llvm::SmallVector<int64_t> sizes;
  llvm::SmallVector<unsigned> parallel, reduction;

  explicit LoopSpace(mlir::linalg::GenericOp op);
  int64_t count(llvm::ArrayRef<unsigned> dims) const;
};

mlir::Value constantIndex(mlir::ImplicitLocOpBuilder &b, int64_t value);

/// A launch of `grid` x `block` threads (x, y, z), with `workgroup` shared
/// buffers, whose body is empty but for its terminator; the builder is set
/// at the start of the body.
mlir::gpu::LaunchOp createLaunch(mlir::ImplicitLocOpBuilder &b,
                                 std::array<int64_t, 3> grid,
                                 std::array<int64_t, 3> block,
                                 mlir::TypeRange workgroup = {});

/// The indices of `linear` in a row-major space of `sizes` (the last one
/// varying fastest).
llvm::SmallVector<mlir::Value> delinearize(mlir::ImplicitLocOpBuilder &b,
                                           mlir::Value linear,
                                           llvm::ArrayRef<int64_t> sizes);

/// The element of `operand` of `op` at loop indices `ivs` (one per loop).
mlir::Value loadOperand(mlir::ImplicitLocOpBuilder &b,
                        mlir::linalg::GenericOp op, mlir::OpOperand &operand,
                        mlir::ValueRange ivs);
/// Stores `value` into output `operand` at loop indices `ivs`.
void storeOperand(mlir::ImplicitLocOpBuilder &b, mlir::linalg::GenericOp op,
                  mlir::OpOperand &operand, mlir::Value value,
                  mlir::ValueRange ivs);

/// Clones the body of `op` with its block arguments replaced by `args` and
/// its linalg.index ops by `ivs`; returns the yielded values.
llvm::SmallVector<mlir::Value> cloneBody(mlir::ImplicitLocOpBuilder &b,
                                         mlir::linalg::GenericOp op,
                                         mlir::ValueRange args,
                                         mlir::ValueRange ivs,
                                         mlir::IRMapping &mapping);

/// The values of every operand's block argument at `ivs`: loaded inputs,
/// then, for outputs, `outputs` when given or their loaded elements.
llvm::SmallVector<mlir::Value> loadArguments(mlir::ImplicitLocOpBuilder &b,
                                             mlir::linalg::GenericOp op,
                                             mlir::ValueRange ivs,
                                             mlir::ValueRange outputs = {});

/// A loop nest over `dims` (of `loops`) that carries `init`; `body` gets the
/// full index vector (`ivs` with the looped dimensions set) and the carried
/// values, and returns the new ones. Returns the final carried values.
llvm::SmallVector<mlir::Value>
loopNest(mlir::ImplicitLocOpBuilder &b, const LoopSpace &loops,
         llvm::ArrayRef<unsigned> dims, llvm::SmallVector<mlir::Value> ivs,
         mlir::ValueRange init,
         llvm::function_ref<llvm::SmallVector<mlir::Value>(
             mlir::ImplicitLocOpBuilder &, llvm::ArrayRef<mlir::Value>,
             mlir::ValueRange)>
             body);

/// What the reductions of a generic start from: the elements stored in its
/// output or, when the elementwise op that writes that output (a fill, a
/// broadcast bias) is absorbed into the generic's kernel, that op's values,
/// computed where they are needed instead of by a kernel of their own.
class OutputInit {
public:
  OutputInit(mlir::linalg::GenericOp op, mlir::linalg::GenericOp producer)
      : op(op), producer(producer) {}

  /// The initial element of output `index` of `op` at loop indices `ivs`.
  mlir::Value at(mlir::ImplicitLocOpBuilder &b, unsigned index,
                 mlir::ValueRange ivs) const;

  /// Whether `producer`, the op right before `op`, may be absorbed: it
  /// writes all of `op`'s only output, element by element, without reading
  /// it, and `op` reads nothing else that it writes.
  static bool canAbsorb(mlir::linalg::GenericOp producer,
                        mlir::linalg::GenericOp op);

private:
  // Op handles are values whose accessors are not const.
  mutable mlir::linalg::GenericOp op, producer;
};

/// The strategies; each replaces `op` by a launch, or fails without
/// changing anything when it does not apply.
mlir::LogicalResult mapBlockReduction(mlir::linalg::GenericOp op,
                                      const LoopSpace &loops,
                                      const OutputInit &init);
mlir::LogicalResult mapContraction(mlir::linalg::GenericOp op,
                                   const LoopSpace &loops,
                                   const OutputInit &init);

} // namespace kiln::gpu_mapping

#endif // KILN_GPU_MAPTOGPU_KERNEL_H
