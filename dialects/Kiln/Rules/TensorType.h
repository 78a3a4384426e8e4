//===- TensorType.h - Tensor types as the shape rules see them ------------===//
//
// The front end's and the rules' view of a ranked tensor type: an element
// type and sizes, some of which may be unknown (kDynamic, the same value as
// MLIR's ShapedType::kDynamic) in hand-written IR.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RULES_TENSORTYPE_H
#define KILN_RULES_TENSORTYPE_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kiln {

enum class ElementType { F32, F64, I64 };

/// An unknown size.
inline constexpr int64_t kDynamic = std::numeric_limits<int64_t>::min();

inline bool isDynamic(int64_t size) { return size == kDynamic; }

/// Whether two sizes can be equal: both known and equal, or one unknown.
inline bool sizesAgree(int64_t a, int64_t b) {
  return isDynamic(a) || isDynamic(b) || a == b;
}

/// The better known of two agreeing sizes.
inline int64_t mergeSizes(int64_t a, int64_t b) { return isDynamic(a) ? b : a; }

using Shape = std::vector<int64_t>;

struct TensorType {
  ElementType element = ElementType::F32;
  Shape shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  bool isFloat() const { return element != ElementType::I64; }
  /// The number of elements (kDynamic when a size is unknown).
  int64_t numElements() const;
  /// As the language writes it: "f32[64, 10]", with "?" for unknown sizes.
  std::string str() const;
  bool operator==(const TensorType &other) const {
    return element == other.element && shape == other.shape;
  }
  bool operator!=(const TensorType &other) const { return !(*this == other); }
};

/// "f32", "f64" or "i64".
const char *elementName(ElementType element);

/// "[2, ?, 3]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// A number as people write it: 0.9, 1, 1e-08.
std::string formatNumber(double value);

} // namespace kiln

#endif // KILN_RULES_TENSORTYPE_H
