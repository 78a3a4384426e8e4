//===- TensorRules.cpp - Shape rules of the tensor and math ops -----------===//

#include "Kiln/Rules/Shapes.h"

#include "llvm/ADT/STLExtras.h"

using namespace kiln;
using namespace kiln::rules;
using llvm::Twine;

namespace {

std::optional<ShapeProblem> sameElement(const TensorType &first,
                                        const TensorType &other,
                                        llvm::StringRef firstName,
                                        llvm::StringRef otherName) {
  if (first.element == other.element)
    return std::nullopt;
  return shapeProblem(otherName, otherName + " has element type " +
                                     elementName(other.element) + " but " +
                                     firstName + " has " +
                                     elementName(first.element));
}

} // namespace

Checked<int64_t> rules::axis(int64_t axis, int64_t rank, llvm::StringRef name) {
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank)
    return shapeProblem(name, name + " " + Twine(axis) +
                                  " is out of range for rank " + Twine(rank) +
                                  " (expected " + Twine(-rank) + " to " +
                                  Twine(rank - 1) + ")");
  return normalized;
}

Checked<Shape> rules::broadcastShapes(ArrayRef<int64_t> lhs,
                                      ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  Shape shape(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    int64_t a = d < rank - lhs.size() ? 1 : lhs[d - (rank - lhs.size())];
    int64_t b = d < rank - rhs.size() ? 1 : rhs[d - (rank - rhs.size())];
    if (a == 1)
      shape[d] = b;
    else if (b == 1)
      shape[d] = a;
    else if (sizesAgree(a, b))
      shape[d] = mergeSizes(a, b);
    else
      return shapeProblem("", "cannot broadcast " + formatShape(lhs) +
                                  " with " + formatShape(rhs));
  }
  return shape;
}

Checked<TensorType> rules::broadcast(const TensorType &lhs,
                                     const TensorType &rhs) {
  if (auto problem = sameElement(lhs, rhs, "lhs", "rhs"))
    return *problem;
  Checked<Shape> shape = broadcastShapes(lhs.shape, rhs.shape);
  if (!shape)
    return shape.problem();
  return TensorType{lhs.element, *shape};
}

Checked<TensorType> rules::where(const TensorType &condition,
                                 const TensorType &x, const TensorType &y) {
  if (auto problem = sameElement(x, y, "x", "y"))
    return *problem;
  if (auto problem = sameElement(x, condition, "x", "condition"))
    return *problem;
  Checked<Shape> shape = broadcastShapes(condition.shape, x.shape);
  if (shape)
    shape = broadcastShapes(*shape, y.shape);
  if (!shape)
    return shape.problem();
  return TensorType{x.element, *shape};
}

Checked<TensorType> rules::reduction(const TensorType &input,
                                     ArrayRef<int64_t> axes, bool keepDims) {
  int64_t rank = input.rank();
  if (axes.empty())
    return shapeProblem("axes", "axes must not be empty");
  std::vector<bool> reduced(rank, false);
  for (int64_t a : axes) {
    Checked<int64_t> normalized = axis(a, rank, "axis");
    if (!normalized)
      return normalized.problem();
    if (reduced[*normalized])
      return shapeProblem("axes", "axis " + Twine(a) +
                                      " appears more than once in axes");
    reduced[*normalized] = true;
  }
  TensorType result{input.element, {}};
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      result.shape.push_back(input.shape[d]);
    else if (keepDims)
      result.shape.push_back(1);
  }
  return result;
}

Checked<TensorType> rules::argmax(const TensorType &input, int64_t a,
                                  bool keepDims) {
  Checked<int64_t> normalized = axis(a, input.rank(), "axis");
  if (!normalized)
    return normalized.problem();
  TensorType result{ElementType::I64, input.shape};
  if (keepDims)
    result.shape[*normalized] = 1;
  else
    result.shape.erase(result.shape.begin() + *normalized);
  return result;
}

Checked<TensorType> rules::softmax(const TensorType &input, int64_t a) {
  Checked<int64_t> normalized = axis(a, input.rank(), "axis");
  if (!normalized)
    return normalized.problem();
  return input;
}

Checked<TensorType> rules::reshape(const TensorType &input,
                                   ArrayRef<int64_t> target) {
  int64_t known = 1;
  int inferred = 0;
  for (int64_t size : target) {
    if (size == -1)
      ++inferred;
    else if (size < 0)
      return shapeProblem("shape", "shape entries must be non-negative or "
                                   "-1, got " +
                                       formatShape(target));
    else
      known *= size;
  }
  if (inferred > 1)
    return shapeProblem("shape", "shape may contain -1 at most once, got " +
                                     formatShape(target));
  TensorType result{input.element, Shape(target.begin(), target.end())};
  int64_t count = input.numElements();
  if (isDynamic(count)) {
    llvm::replace(result.shape, int64_t(-1), kDynamic);
    return result;
  }
  bool fits = inferred ? known != 0 && count % known == 0 : count == known;
  if (!fits)
    return shapeProblem("shape", "cannot reshape " + formatShape(input.shape) +
                                     " (" + Twine(count) + " elements) into " +
                                     formatShape(target));
  if (inferred)
    llvm::replace(result.shape, int64_t(-1), count / known);
  return result;
}

Checked<TensorType> rules::flatten(const TensorType &input, int64_t startDim,
                                   int64_t endDim) {
  // As in PyTorch, a scalar flattens like a one-element vector.
  Shape dims = input.shape.empty() ? Shape{1} : input.shape;
  int64_t rank = dims.size();
  Checked<int64_t> start = axis(startDim, rank, "start_dim");
  if (!start)
    return start.problem();
  Checked<int64_t> end = axis(endDim, rank, "end_dim");
  if (!end)
    return end.problem();
  if (*start > *end)
    return shapeProblem("start_dim", "start_dim " + Twine(startDim) +
                                         " comes after end_dim " +
                                         Twine(endDim));
  TensorType result{input.element, Shape(dims.begin(), dims.begin() + *start)};
  int64_t merged = 1;
  for (int64_t d = *start; d <= *end; ++d)
    merged = isDynamic(dims[d]) || isDynamic(merged) ? kDynamic
                                                     : merged * dims[d];
  result.shape.push_back(merged);
  result.shape.insert(result.shape.end(), dims.begin() + *end + 1, dims.end());
  return result;
}

Checked<TensorType> rules::transpose(const TensorType &input,
                                     ArrayRef<int64_t> permutation) {
  int64_t rank = input.rank();
  if (static_cast<int64_t>(permutation.size()) != rank)
    return shapeProblem("permutation",
                        "permutation " + formatShape(permutation) + " has " +
                            Twine(permutation.size()) +
                            " entries but the input has rank " + Twine(rank));
  std::vector<bool> seen(rank, false);
  TensorType result{input.element, {}};
  for (int64_t d : permutation) {
    if (d < 0 || d >= rank || seen[d])
      return shapeProblem("permutation",
                          "permutation " + formatShape(permutation) +
                              " must contain each of 0 to " + Twine(rank - 1) +
                              " once");
    seen[d] = true;
    result.shape.push_back(input.shape[d]);
  }
  return result;
}

Checked<TensorType> rules::concat(ArrayRef<TensorType> inputs, int64_t a) {
  if (inputs.empty())
    return shapeProblem("inputs", "needs at least one input");
  const TensorType &first = inputs.front();
  int64_t rank = first.rank();
  Checked<int64_t> normalized = axis(a, rank, "axis");
  if (!normalized)
    return normalized.problem();
  TensorType result = first;
  for (auto [i, type] : llvm::enumerate(inputs.drop_front())) {
    std::string name = "input #" + std::to_string(i + 1);
    if (auto problem = sameElement(first, type, "input #0", name))
      return *problem;
    if (type.rank() != rank)
      return shapeProblem("inputs", name + " has rank " + Twine(type.rank()) +
                                        " but input #0 has rank " +
                                        Twine(rank));
    for (int64_t d = 0; d < rank; ++d) {
      int64_t &size = result.shape[d], other = type.shape[d];
      if (d == *normalized)
        size = isDynamic(size) || isDynamic(other) ? kDynamic : size + other;
      else if (!sizesAgree(size, other))
        return shapeProblem("inputs",
                            name + " has shape " + formatShape(type.shape) +
                                ", which differs from input #0's " +
                                formatShape(first.shape) +
                                " outside the concatenation axis");
      else
        size = mergeSizes(size, other);
    }
  }
  return result;
}

Checked<TensorType> rules::slice(const TensorType &input,
                                 ArrayRef<int64_t> offsets,
                                 ArrayRef<int64_t> sizes,
                                 ArrayRef<int64_t> strides) {
  size_t rank = input.rank();
  if (offsets.size() != rank || sizes.size() != rank || strides.size() != rank)
    return shapeProblem("", "offsets, sizes and strides must have one entry "
                            "per dimension of the input (" +
                                Twine(rank) + ")");
  for (size_t d = 0; d < rank; ++d) {
    if (offsets[d] < 0 || sizes[d] < 0 || strides[d] <= 0)
      return shapeProblem(
          "", "dimension " + Twine(d) +
                  " needs a non-negative offset and size and a positive "
                  "stride, got offset " +
                  Twine(offsets[d]) + ", size " + Twine(sizes[d]) +
                  ", stride " + Twine(strides[d]));
    int64_t last = offsets[d] + (sizes[d] - 1) * strides[d];
    if (sizes[d] > 0 && !isDynamic(input.shape[d]) && last >= input.shape[d])
      return shapeProblem("", "dimension " + Twine(d) + " reads index " +
                                  Twine(last) + ", past its size " +
                                  Twine(input.shape[d]));
  }
  return TensorType{input.element, Shape(sizes.begin(), sizes.end())};
}

Checked<TensorType> rules::embedding(const TensorType &ids,
                                     const TensorType &table) {
  if (table.rank() != 2)
    return shapeProblem("table", "table must have rank 2, got " +
                                     formatShape(table.shape));
  TensorType result{table.element, ids.shape};
  result.shape.push_back(table.shape[1]);
  return result;
}

Checked<TensorType> rules::oneHot(const TensorType &ids, int64_t numClasses,
                                  ElementType element) {
  if (numClasses <= 0)
    return shapeProblem("num_classes", "num_classes must be positive, got " +
                                           Twine(numClasses));
  TensorType result{element, ids.shape};
  result.shape.push_back(numClasses);
  return result;
}

Checked<TensorType> rules::sinusoidalPositions(int64_t length, int64_t dim,
                                               ElementType element) {
  if (length <= 0)
    return shapeProblem("length",
                        "length must be positive, got " + Twine(length));
  if (dim <= 0 || dim % 2)
    return shapeProblem("dim",
                        "dim must be positive and even, got " + Twine(dim));
  // The table becomes a constant of the program, held by the compiler.
  constexpr int64_t kMaxTable = int64_t(1) << 24;
  if (length > kMaxTable / dim)
    return shapeProblem("length", "the table of " + Twine(length) + " x " +
                                      Twine(dim) +
                                      " positions is a constant of the "
                                      "program; it may hold at most " +
                                      Twine(kMaxTable) + " values");
  return TensorType{element, {length, dim}};
}

Checked<TensorType> rules::matmul(const TensorType &lhs, const TensorType &rhs,
                                  bool transposeLhs, bool transposeRhs) {
  if (auto problem = sameElement(lhs, rhs, "lhs", "rhs"))
    return *problem;
  if (lhs.rank() < 2 || rhs.rank() < 2)
    return shapeProblem("", "operands must have rank 2 or more, got " +
                                formatShape(lhs.shape) + " and " +
                                formatShape(rhs.shape));
  ArrayRef<int64_t> l = lhs.shape, r = rhs.shape;
  int64_t m = l[l.size() - 2], k = l.back();
  int64_t k2 = r[r.size() - 2], n = r.back();
  if (transposeLhs)
    std::swap(m, k);
  if (transposeRhs)
    std::swap(k2, n);
  if (!sizesAgree(k, k2))
    return shapeProblem("", "contracted dimensions differ: " + formatShape(l) +
                                (transposeLhs ? " (transposed)" : "") +
                                " times " + formatShape(r) +
                                (transposeRhs ? " (transposed)" : ""));
  Checked<Shape> batch = broadcastShapes(l.drop_back(2), r.drop_back(2));
  if (!batch)
    return shapeProblem("", "batch dimensions " + formatShape(l.drop_back(2)) +
                                " and " + formatShape(r.drop_back(2)) +
                                " cannot be broadcast");
  TensorType result{lhs.element, *batch};
  result.shape.push_back(m);
  result.shape.push_back(n);
  return result;
}

Checked<TensorType> rules::countEqual(const TensorType &lhs,
                                      const TensorType &rhs) {
  bool agree = lhs.rank() == rhs.rank() &&
               llvm::all_of(llvm::zip(lhs.shape, rhs.shape), [](auto pair) {
                 return sizesAgree(std::get<0>(pair), std::get<1>(pair));
               });
  if (!agree)
    return shapeProblem("rhs", "rhs must have shape " + formatShape(lhs.shape) +
                                   ", got " + formatShape(rhs.shape));
  return TensorType{ElementType::I64, {}};
}
