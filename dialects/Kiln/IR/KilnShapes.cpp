//===- KilnShapes.cpp - Result types and checks of tensor and math ops ----===//
//
// Each op's inferReturnTypes both computes its result types and checks its
// operands and attributes. The same function therefore serves builders (which
// get the result types for free), the verifier (which compares the declared
// types with the inferred ones) and kiln-shape-inference (which refines them).
// The rule itself lives in Kiln/Rules, shared with the front end; these
// functions translate between MLIR's types and the rules'.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "ShapeChecks.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

std::optional<ElementType> kiln::detail::ruleElement(Type type) {
  if (type.isF32())
    return ElementType::F32;
  if (type.isF64())
    return ElementType::F64;
  if (type.isInteger(64))
    return ElementType::I64;
  return std::nullopt;
}

Type kiln::detail::mlirElement(MLIRContext *context, ElementType element) {
  switch (element) {
  case ElementType::F32:
    return Float32Type::get(context);
  case ElementType::F64:
    return Float64Type::get(context);
  case ElementType::I64:
    return IntegerType::get(context, 64);
  }
  llvm_unreachable("unknown element type");
}

RankedTensorType kiln::detail::mlirType(MLIRContext *context,
                                        const kiln::TensorType &type) {
  return RankedTensorType::get(type.shape, mlirElement(context, type.element));
}

namespace {

/// The element type named by an optional attribute, f32 when absent.
ElementType elementOr32(std::optional<Type> type) {
  if (!type)
    return ElementType::F32;
  return ruleElement(*type).value_or(ElementType::F32);
}

} // namespace

LogicalResult kiln::detail::inferReduction(const Checker &check, Value input,
                                           ArrayRef<int64_t> axes,
                                           bool keepDims,
                                           SmallVectorImpl<Type> &types) {
  auto type = check.operand(input, "input");
  if (failed(type))
    return failure();
  return check.results(input.getContext(),
                       rules::reduction(*type, axes, keepDims), types);
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

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(context, rules::reshape(*input, adaptor.getShape()),
                       types);
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(
      context,
      rules::flatten(*input, adaptor.getStartDim(), adaptor.getEndDim()),
      types);
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(
      context, rules::transpose(*input, adaptor.getPermutation()), types);
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto inputs = check.operands(adaptor.getInputs(), "input");
  if (failed(inputs))
    return failure();
  return check.results(context, rules::concat(*inputs, adaptor.getAxis()),
                       types);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(context,
                       rules::slice(*input, adaptor.getOffsets(),
                                    adaptor.getSizes(), adaptor.getStrides()),
                       types);
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto ids = check.operand(adaptor.getIds(), "ids");
  auto table = check.operand(adaptor.getTable(), "table");
  if (failed(ids) || failed(table))
    return failure();
  return check.results(context, rules::embedding(*ids, *table), types);
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto ids = check.operand(adaptor.getIds(), "ids");
  if (failed(ids))
    return failure();
  return check.results(context,
                       rules::oneHot(*ids, adaptor.getNumClasses(),
                                     elementOr32(adaptor.getElementType())),
                       types);
}

LogicalResult SinusoidalPositionsOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return Checker(loc, getOperationName())
      .results(context,
               rules::sinusoidalPositions(
                   adaptor.getLength(), adaptor.getDim(),
                   elementOr32(adaptor.getElementType())),
               types);
}

//===----------------------------------------------------------------------===//
// Math operations
//===----------------------------------------------------------------------===//

/// Result type shared by the broadcasting binary operations.
static LogicalResult inferBroadcast(const Checker &check, Value lhsValue,
                                    Value rhsValue,
                                    SmallVectorImpl<Type> &types) {
  auto lhs = check.operand(lhsValue, "lhs");
  auto rhs = check.operand(rhsValue, "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  return check.results(lhsValue.getContext(), rules::broadcast(*lhs, *rhs),
                       types);
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
KILN_BROADCAST_OP(MinimumOp)
KILN_BROADCAST_OP(MaximumOp)
KILN_BROADCAST_OP(PowOp)
KILN_BROADCAST_OP(GreaterOp)
KILN_BROADCAST_OP(LessOp)
KILN_BROADCAST_OP(GreaterEqualOp)
KILN_BROADCAST_OP(LessEqualOp)
KILN_BROADCAST_OP(EqualOp)
KILN_BROADCAST_OP(NotEqualOp)
#undef KILN_BROADCAST_OP

LogicalResult WhereOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto condition = check.operand(adaptor.getCondition(), "condition");
  auto x = check.operand(adaptor.getX(), "x");
  auto y = check.operand(adaptor.getY(), "y");
  if (failed(condition) || failed(x) || failed(y))
    return failure();
  return check.results(context, rules::where(*condition, *x, *y), types);
}

/// Result type shared by softmax and log_softmax.
static LogicalResult inferSoftmax(const Checker &check, Value inputValue,
                                  int64_t axis, SmallVectorImpl<Type> &types) {
  auto input = check.operand(inputValue, "input");
  if (failed(input))
    return failure();
  return check.results(inputValue.getContext(), rules::softmax(*input, axis),
                       types);
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
  auto input = check.operand(adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  return check.results(
      context, rules::argmax(*input, adaptor.getAxis(), adaptor.getKeepDims()),
      types);
}

LogicalResult CountEqualOp::inferReturnTypes(MLIRContext *context,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto lhs = check.operand(adaptor.getLhs(), "lhs");
  auto rhs = check.operand(adaptor.getRhs(), "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  return check.results(context, rules::countEqual(*lhs, *rhs), types);
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Checker check(loc, getOperationName());
  auto lhs = check.operand(adaptor.getLhs(), "lhs");
  auto rhs = check.operand(adaptor.getRhs(), "rhs");
  if (failed(lhs) || failed(rhs))
    return failure();
  return check.results(context,
                       rules::matmul(*lhs, *rhs, adaptor.getTransposeLhs(),
                                     adaptor.getTransposeRhs()),
                       types);
}
