//===- BufferRegions.h - Which buffers of a step cannot overlap -----------===//
//
// After kiln-plan-memory, every buffer of a step is a slot (an argument of
// the step, which the runtime allocates on its own), a view of the arena (a
// slot) at a byte offset fixed at compile time, a constant global, or a view
// of one of those. That is enough to prove two buffers apart, which LLVM
// cannot see once they are bare pointers loaded from a frame: told so, it
// vectorizes without run-time overlap checks and the scalar copy of each
// loop that they guard.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_LOOPS_BUFFERREGIONS_H
#define KILN_CONVERSION_LOOPS_BUFFERREGIONS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <limits>

namespace kiln {

/// The memory that a buffer lies in, as far as it is known.
struct BufferRegion {
  enum class Kind {
    /// Anything else: it may overlap any buffer.
    Unknown,
    /// Bytes [begin, end) of a slot.
    Slot,
    /// A constant global, which nothing writes.
    Constant,
  };
  Kind kind = Kind::Unknown;
  /// The slot, or the global's name.
  int64_t slot = -1;
  llvm::StringRef global;
  /// An input or output of the step, which the caller of an inference
  /// library gives: two of those may be one buffer.
  bool external = false;
  /// The bytes of the slot that the buffer lies within.
  int64_t begin = 0, end = std::numeric_limits<int64_t>::max();
  /// Whether the buffer starts at `begin` (not only somewhere after it), so
  /// that a view at an offset into it can be placed.
  bool exactBegin = true;
};

/// The regions of the buffers of a step.
class BufferRegions {
public:
  /// `slots` holds the slot of each argument of `step` (kiln-describe-
  /// program's `kiln.<step>_slots`); empty when the step has none, and then
  /// its arguments may be one another.
  BufferRegions(mlir::func::FuncOp step, llvm::ArrayRef<int64_t> slots)
      : step(step), slots(slots) {}

  /// The region of `buffer`, a value of the step.
  BufferRegion regionOf(mlir::Value buffer) const;

  /// Whether no byte lies in both regions.
  static bool apart(const BufferRegion &a, const BufferRegion &b);

private:
  // Mutable: an op's accessors are not const.
  mutable mlir::func::FuncOp step;
  llvm::ArrayRef<int64_t> slots;
};

} // namespace kiln

#endif // KILN_CONVERSION_LOOPS_BUFFERREGIONS_H
