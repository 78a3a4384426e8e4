//===- KilnCanonicalize.cpp - Folders and canonical rewrites of kiln ops --===//
//
// Only rewrites that are always profitable and keep results bit-identical
// belong here: dropping identities, merging chains of data movement, and
// folding constants of the same shape.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

#include "mlir/Dialect/CommonFolders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace kiln;

namespace {

/// Whether `attr` is a constant tensor whose elements all equal `value`.
bool isSplatOf(Attribute attr, double value) {
  auto splat = dyn_cast_if_present<SplatElementsAttr>(attr);
  if (!splat || !isa<FloatType>(splat.getElementType()))
    return false;
  return splat.getSplatValue<APFloat>().convertToDouble() == value;
}

/// `operand` when it already has the type of `result`, so that an identity
/// never changes a type; null otherwise.
Value sameTypeOrNull(Value operand, Value result) {
  return operand.getType() == result.getType() ? operand : Value();
}

/// Folds elementwise arithmetic on two constants of the result's shape.
template <typename Calculate>
Attribute foldConstants(ArrayRef<Attribute> operands, Type resultType,
                        Calculate &&calculate) {
  auto lhs = dyn_cast_if_present<DenseElementsAttr>(operands[0]);
  auto rhs = dyn_cast_if_present<DenseElementsAttr>(operands[1]);
  if (!lhs || !rhs || lhs.getType() != resultType ||
      rhs.getType() != resultType)
    return {};
  return constFoldBinaryOp<FloatAttr, APFloat, void>(operands, calculate);
}

} // namespace

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 0.0))
    return sameTypeOrNull(getLhs(), getResult());
  if (isSplatOf(adaptor.getLhs(), 0.0))
    return sameTypeOrNull(getRhs(), getResult());
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 0.0))
    return sameTypeOrNull(getLhs(), getResult());
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1.0))
    return sameTypeOrNull(getLhs(), getResult());
  if (isSplatOf(adaptor.getLhs(), 1.0))
    return sameTypeOrNull(getRhs(), getResult());
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1.0))
    return sameTypeOrNull(getLhs(), getResult());
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a / b; });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return constFoldUnaryOp<FloatAttr, APFloat, void>(adaptor.getOperands(),
                                     [](const APFloat &a) { return -a; });
}

OpFoldResult ReducePrecisionOp::fold(FoldAdaptor) {
  // Rounding is idempotent.
  if (auto inner = getInput().getDefiningOp<ReducePrecisionOp>())
    if (inner.getPrecision() == getPrecision())
      return inner.getResult();
  return {};
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto constant = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (constant && getType().hasStaticShape())
    return constant.reshape(getType());
  return {};
}

namespace {
/// reshape(reshape(x)) -> reshape(x): only the last shape matters.
struct MergeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getInputMutable().assign(inner.getInput()); });
    return success();
  }
};

/// flatten -> reshape, so that later passes see one form of reshaping.
struct FlattenToReshape : OpRewritePattern<FlattenOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FlattenOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!type.hasStaticShape())
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, type, op.getInput(),
                                           type.getShape());
    return success();
  }
};

/// transpose(transpose(x, inner), outer) -> transpose(x, inner o outer).
struct MergeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> innerPermutation = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t d : op.getPermutation())
      composed.push_back(innerPermutation[d]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(),
                                             inner.getInput(), composed);
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<MergeReshapes>(context);
}

void FlattenOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                            MLIRContext *context) {
  patterns.add<FlattenToReshape>(context);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, d] : llvm::enumerate(getPermutation()))
    if (static_cast<int64_t>(i) != d)
      return {};
  return sameTypeOrNull(getInput(), getResult());
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<MergeTransposes>(context);
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() != 1)
    return {};
  return sameTypeOrNull(getInputs().front(), getResult());
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  auto inputType = getInput().getType();
  bool whole = llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }) &&
               llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }) &&
               inputType.hasStaticShape() &&
               getSizes() == inputType.getShape();
  return whole ? sameTypeOrNull(getInput(), getResult()) : Value();
}

OpFoldResult DropoutOp::fold(FoldAdaptor) {
  if (getP().isZero())
    return sameTypeOrNull(getInput(), getResult());
  return {};
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  return sameTypeOrNull(getInput(), getResult());
}
