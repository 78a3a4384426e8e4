//===- KilnShapes.cpp - Result types and checks of tensor and math ops ----===//
//
// Each op's inferReturnTypes both computes its result types and checks its
// operands and attributes. The same function therefore serves builders (which
// get the result types for free), the verifier (which compares the declared
// types with the inferred ones) and kiln-shape-inference (which refines them).
// Dynamic sizes are accepted everywhere and propagate: a check that needs a
// size only runs when the size is known.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "ShapeChecks.h"

#include "mlir/Dialect/Traits.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

namespace {

/// The element type named by an optional attribute, f32 when absent.
Type elementTypeOr32(MLIRContext *context, std::optional<Type> type) {
  return type ? *type : Float32Type::get(context);
}

} // namespace

LogicalResult kiln::detail::inferReduction(const Checker &check, Value input,
                             ArrayRef<int64_t> axes, bool keepDims,
                             SmallVectorImpl<Type> &types) {
  auto type = check.tensor(input, "input");
  if (failed(type))
    return failure();
  int64_t rank = type->getRank();
  if (axes.empty())
    return check.fail("axes must not be empty");
  SmallVector<bool> reduced(rank, false);
  for (int64_t axis : axes) {
    auto normalized = check.axis(axis, rank, "axis");
    if (failed(normalized))
      return failure();
    if (reduced[*normalized])
      return check.fail("axis ", axis, " appears more than once in axes");
    reduced[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    if (!reduced[d])
      shape.push_back(type->getDimSize(d));
    else if (keepDims)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, type->getElementType()));
  return success();
}


bool kiln::areCompatibleTensorTypes(TypeRange inferred, TypeRange declared) {
  if (inferred.size() != declared.size())
    return false;
  for (auto [a, b] : llvm::zip(inferred, declared)) {
    auto lhs = dyn_cast<RankedTensorType>(a);
    auto rhs = dyn_cast<RankedTensorType>(b);
    if (!lhs || !rhs || lhs.getElementType() != rhs.getElementType() ||
        lhs.getRank() != rhs.getRank())
      return false;
    for (auto [x, y] : llvm::zip(lhs.getShape(), rhs.getShape()))
      if (!sizesAgree(x, y))
        return false;
  }
  return true;
}

LogicalResult kiln::verifyInferredResultTypes(InferTypeOpInterface op) {
  SmallVector<Type> inferred;
  if (failed(op.inferReturnTypes(op->getContext(), op->getLoc(),
                                 op->getOperands(), op->getAttrDictionary(),
                                 op->getPropertiesStorage(), op->getRegions(),
                                 inferred)))
    return failure();
  if (areCompatibleTensorTypes(inferred, op->getResultTypes()))
    return success();
  return op->emitOpError("declares result types ")
         << op->getResultTypes() << " but its operands give " << inferred;
}

//===----------------------------------------------------------------------===//
// Tensor operations
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &types) {
  Adaptor adaptor(operands, attributes, properties, regions);
  if (!adaptor.getValueAttr())
    return Checker(loc, getOperationName()).fail("needs a value");
  types.push_back(adaptor.getValueAttr().getType());
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> target = adaptor.getShape();
  int64_t known = 1;
  int inferredDims = 0;
  for (int64_t size : target) {
    if (size == -1)
      ++inferredDims;
    else if (size < 0)
      return check.fail("shape entries must be non-negative or -1, got ",
                        formatShape(target));
    else
      known *= size;
  }
  if (inferredDims > 1)
    return check.fail("shape may contain -1 at most once, got ",
                      formatShape(target));
  SmallVector<int64_t> shape(target);
  if (!input->hasStaticShape()) {
    llvm::replace(shape, int64_t(-1), kDynamic);
  } else {
    int64_t count = input->getNumElements();
    bool fits = inferredDims ? known != 0 && count % known == 0
                             : count == known;
    if (!fits)
      return check.fail("cannot reshape ", formatShape(input->getShape()),
                        " (", count, " elements) into ", formatShape(target));
    if (inferredDims)
      llvm::replace(shape, int64_t(-1), count / known);
  }
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  // As in PyTorch, a scalar flattens like a one-element vector.
  ArrayRef<int64_t> inputShape = input->getShape();
  SmallVector<int64_t> dims = inputShape.empty() ? SmallVector<int64_t>{1}
                                                 : SmallVector<int64_t>(inputShape);
  int64_t rank = dims.size();
  auto start = check.axis(adaptor.getStartDim(), rank, "start_dim");
  if (failed(start))
    return failure();
  auto end = check.axis(adaptor.getEndDim(), rank, "end_dim");
  if (failed(end))
    return failure();
  if (*start > *end)
    return check.fail("start_dim ", static_cast<int64_t>(adaptor.getStartDim()),
                      " comes after end_dim ",
                      static_cast<int64_t>(adaptor.getEndDim()));
  SmallVector<int64_t> shape(dims.begin(), dims.begin() + *start);
  int64_t merged = 1;
  for (int64_t d = *start; d <= *end; ++d)
    merged = isDynamic(dims[d]) || isDynamic(merged) ? kDynamic
                                                     : merged * dims[d];
  shape.push_back(merged);
  shape.append(dims.begin() + *end + 1, dims.end());
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> permutation = adaptor.getPermutation();
  int64_t rank = input->getRank();
  if (static_cast<int64_t>(permutation.size()) != rank)
    return check.fail("permutation ", formatShape(permutation), " has ",
                      permutation.size(), " entries but the input has rank ",
                      rank);
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t d : permutation) {
    if (d < 0 || d >= rank || seen[d])
      return check.fail("permutation ", formatShape(permutation),
                        " must contain each of 0 to ", rank - 1, " once");
    seen[d] = true;
    shape.push_back(input->getDimSize(d));
  }
  types.push_back(RankedTensorType::get(shape, input->getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return check.fail("needs at least one input");
  auto first = check.tensor(inputs.front(), "input #0");
  if (failed(first))
    return failure();
  int64_t rank = first->getRank();
  auto axis = check.axis(adaptor.getAxis(), rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first->getShape());
  for (auto [i, value] : llvm::enumerate(inputs.drop_front())) {
    auto type = check.tensor(value, "input");
    if (failed(type))
      return failure();
    if (type->getElementType() != first->getElementType())
      return check.fail("input #", i + 1, " has element type ",
                        type->getElementType(), " but input #0 has ",
                        first->getElementType());
    if (type->getRank() != rank)
      return check.fail("input #", i + 1, " has rank ", type->getRank(),
                        " but input #0 has rank ", rank);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t size = type->getDimSize(d);
      if (d == *axis) {
        shape[d] = isDynamic(shape[d]) || isDynamic(size) ? kDynamic
                                                          : shape[d] + size;
      } else if (!sizesAgree(shape[d], size)) {
        return check.fail("input #", i + 1, " has shape ",
                          formatShape(type->getShape()),
                          ", which differs from input #0's ",
                          formatShape(first->getShape()),
                          " outside the concatenation axis");
      } else {
        shape[d] = mergeSizes(shape[d], size);
      }
    }
  }
  types.push_back(RankedTensorType::get(shape, first->getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  ArrayRef<int64_t> offsets = adaptor.getOffsets();
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  ArrayRef<int64_t> strides = adaptor.getStrides();
  size_t rank = input->getRank();
  if (offsets.size() != rank || sizes.size() != rank || strides.size() != rank)
    return check.fail("offsets, sizes and strides must have one entry per "
                      "dimension of the input (",
                      rank, ")");
  for (size_t d = 0; d < rank; ++d) {
    if (offsets[d] < 0 || sizes[d] < 0 || strides[d] <= 0)
      return check.fail("dimension ", d,
                        " needs a non-negative offset and size and a "
                        "positive stride, got offset ",
                        offsets[d], ", size ", sizes[d], ", stride ",
                        strides[d]);
    int64_t dimSize = input->getDimSize(d);
    int64_t last = offsets[d] + (sizes[d] - 1) * strides[d];
    if (sizes[d] > 0 && !isDynamic(dimSize) && last >= dimSize)
      return check.fail("dimension ", d, " reads index ", last,
                        ", past its size ", dimSize);
  }
  types.push_back(RankedTensorType::get(sizes, input->getElementType()));
  return success();
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto ids = check.tensor(adaptor.getIds(), "ids");
  auto table = check.tensor(adaptor.getTable(), "table");
  if (failed(ids) || failed(table) || failed(check.rank(*table, 2, "table")))
    return failure();
  SmallVector<int64_t> shape(ids->getShape());
  shape.push_back(table->getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table->getElementType()));
  return success();
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto ids = check.tensor(adaptor.getIds(), "ids");
  if (failed(ids))
    return failure();
  int64_t numClasses = adaptor.getNumClasses();
  if (numClasses <= 0)
    return check.fail("num_classes must be positive, got ", numClasses);
  SmallVector<int64_t> shape(ids->getShape());
  shape.push_back(numClasses);
  types.push_back(RankedTensorType::get(
      shape, elementTypeOr32(context, adaptor.getElementType())));
  return success();
}

LogicalResult SinusoidalPositionsOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  int64_t length = adaptor.getLength(), dim = adaptor.getDim();
  if (length <= 0)
    return check.fail("length must be positive, got ", length);
  if (dim <= 0 || dim % 2)
    return check.fail("dim must be positive and even, got ", dim);
  types.push_back(RankedTensorType::get(
      {length, dim}, elementTypeOr32(context, adaptor.getElementType())));
  return success();
}

//===----------------------------------------------------------------------===//
// Math operations
//===----------------------------------------------------------------------===//

/// Result type shared by the broadcasting binary operations.
static LogicalResult inferBroadcast(const Checker &check, Value lhsValue,
                                    Value rhsValue,
                                    SmallVectorImpl<Type> &types) {
  auto lhs = check.tensor(lhsValue, "lhs");
  auto rhs = check.tensor(rhsValue, "rhs");
  if (failed(lhs) || failed(rhs) ||
      failed(check.sameElementType({*lhs, *rhs}, {"lhs", "rhs"})))
    return failure();
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhs->getShape(), rhs->getShape(),
                                          shape))
    return check.fail("cannot broadcast ", formatShape(lhs->getShape()),
                      " with ", formatShape(rhs->getShape()));
  types.push_back(RankedTensorType::get(shape, lhs->getElementType()));
  return success();
}

#define KILN_BROADCAST_OP(Op)                                                  \
  LogicalResult Op::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferBroadcast(Checker(loc, getOperationName()), adaptor.getLhs(),  \
                          adaptor.getRhs(), types);                            \
  }
KILN_BROADCAST_OP(AddOp)
KILN_BROADCAST_OP(SubOp)
KILN_BROADCAST_OP(MulOp)
KILN_BROADCAST_OP(DivOp)
#undef KILN_BROADCAST_OP

/// Result type shared by softmax and log_softmax.
static LogicalResult inferSoftmax(const Checker &check, Value inputValue,
                                  int64_t axis, SmallVectorImpl<Type> &types) {
  auto input = check.tensor(inputValue, "input");
  if (failed(input) || failed(check.axis(axis, input->getRank(), "axis")))
    return failure();
  types.push_back(*input);
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferSoftmax(Checker(loc, getOperationName()), adaptor.getInput(),
                      adaptor.getAxis(), types);
}

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferSoftmax(Checker(loc, getOperationName()), adaptor.getInput(),
                      adaptor.getAxis(), types);
}

#define KILN_REDUCTION_OP(Op)                                                  \
  LogicalResult Op::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferReduction(Checker(loc, getOperationName()),                    \
                          adaptor.getInput(), adaptor.getAxes(),               \
                          adaptor.getKeepDims(), types);                       \
  }
KILN_REDUCTION_OP(ReduceSumOp)
KILN_REDUCTION_OP(ReduceMeanOp)
KILN_REDUCTION_OP(ReduceMaxOp)
#undef KILN_REDUCTION_OP

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.tensor(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  auto axis = check.axis(adaptor.getAxis(), input->getRank(), "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(input->getShape());
  if (adaptor.getKeepDims())
    shape[*axis] = 1;
  else
    shape.erase(shape.begin() + *axis);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}

LogicalResult CountEqualOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto lhs = check.tensor(adaptor.getLhs(), "lhs");
  if (failed(lhs) || failed(check.tensor(adaptor.getRhs(), "rhs")) ||
      failed(check.shapeIs(cast<RankedTensorType>(adaptor.getRhs().getType()),
                           lhs->getShape(), "rhs")))
    return failure();
  types.push_back(RankedTensorType::get({}, IntegerType::get(context, 64)));
  return success();
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto lhs = check.tensor(adaptor.getLhs(), "lhs");
  auto rhs = check.tensor(adaptor.getRhs(), "rhs");
  if (failed(lhs) || failed(rhs) ||
      failed(check.sameElementType({*lhs, *rhs}, {"lhs", "rhs"})))
    return failure();
  if (lhs->getRank() < 2 || rhs->getRank() < 2)
    return check.fail("operands must have rank 2 or more, got ",
                      formatShape(lhs->getShape()), " and ",
                      formatShape(rhs->getShape()));
  ArrayRef<int64_t> lhsShape = lhs->getShape(), rhsShape = rhs->getShape();
  int64_t m = lhsShape[lhsShape.size() - 2], k = lhsShape.back();
  int64_t k2 = rhsShape[rhsShape.size() - 2], n = rhsShape.back();
  if (adaptor.getTransposeLhs())
    std::swap(m, k);
  if (adaptor.getTransposeRhs())
    std::swap(k2, n);
  if (!sizesAgree(k, k2))
    return check.fail("contracted dimensions differ: ", formatShape(lhsShape),
                      (adaptor.getTransposeLhs() ? " (transposed)" : ""),
                      " times ", formatShape(rhsShape),
                      (adaptor.getTransposeRhs() ? " (transposed)" : ""));
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhsShape.drop_back(2),
                                          rhsShape.drop_back(2), shape))
    return check.fail("batch dimensions ",
                      formatShape(lhsShape.drop_back(2)), " and ",
                      formatShape(rhsShape.drop_back(2)),
                      " cannot be broadcast");
  shape.append({m, n});
  types.push_back(RankedTensorType::get(shape, lhs->getElementType()));
  return success();
}

