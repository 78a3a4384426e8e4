//===- HeavyToLinalg.cpp - Matrix products and the pass -------------------===//

#include "HeavyToLinalg/Heavy.h"

#include "llvm/ADT/TypeSwitch.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERHEAVYTOLINALG
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::heavy;

Value heavy::filled(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                    Type element, double value) {
  Value empty = tensor::EmptyOp::create(b, shape, element);
  Value fill = arith::ConstantOp::create(b, b.getFloatAttr(element, value));
  return linalg::FillOp::create(b, fill, empty).getResult(0);
}

Value heavy::index(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value heavy::addIndex(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::AddIOp::create(b, x, y);
}

Value heavy::mulIndex(ImplicitLocOpBuilder &b, Value x, int64_t factor) {
  return factor == 1 ? x : arith::MulIOp::create(b, x, index(b, factor));
}

Value heavy::addIndex(ImplicitLocOpBuilder &b, Value x, int64_t offset) {
  return offset == 0 ? x : arith::AddIOp::create(b, x, index(b, offset));
}

Value heavy::inRange(ImplicitLocOpBuilder &b, Value i, int64_t size) {
  Value low = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, i, index(b, 0));
  Value high =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, index(b, size));
  return arith::AndIOp::create(b, low, high);
}

Value heavy::readOr(ImplicitLocOpBuilder &b, Value tensor, ValueRange indices,
                    Value valid, double padding) {
  SmallVector<Value> clamped;
  for (auto [i, value] : llvm::enumerate(indices)) {
    // Loop indices lie in range already; computed ones may not.
    if (value.getDefiningOp<linalg::IndexOp>()) {
      clamped.push_back(value);
      continue;
    }
    int64_t size = shapeOf(tensor)[i];
    Value low = arith::MaxSIOp::create(b, value, index(b, 0));
    clamped.push_back(arith::MinSIOp::create(b, low, index(b, size - 1)));
  }
  Value element = tensor::ExtractOp::create(b, tensor, clamped);
  Value pad = arith::ConstantOp::create(
      b, b.getFloatAttr(element.getType(), padding));
  return arith::SelectOp::create(b, valid, element, pad);
}

Value heavy::generic(
    ImplicitLocOpBuilder &b, ValueRange inputs, Value init,
    ArrayRef<AffineMap> maps, ArrayRef<utils::IteratorType> iterators,
    function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> body) {
  auto op = linalg::GenericOp::create(
      b, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder inner(loc, nested);
        linalg::YieldOp::create(inner, body(inner, args));
      });
  return op.getResult(0);
}

namespace {

/// The map of a matmul operand of `shape` (batch dimensions, then its two
/// matrix dimensions `rows` and `columns` of the iteration space) in the
/// iteration space (batch..., m, n, k) of a result of batch rank `batchRank`.
AffineMap operandMap(MLIRContext *context, ArrayRef<int64_t> shape,
                     ArrayRef<int64_t> resultBatch, unsigned rows,
                     unsigned columns) {
  int64_t batchRank = resultBatch.size();
  ArrayRef<int64_t> batch = shape.drop_back(2);
  int64_t offset = batchRank - batch.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(batch)) {
    int64_t d = offset + i;
    exprs.push_back(size == 1 && resultBatch[d] != 1
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(d, context));
  }
  exprs.push_back(getAffineDimExpr(rows, context));
  exprs.push_back(getAffineDimExpr(columns, context));
  return AffineMap::get(batchRank + 3, 0, exprs, context);
}

/// The addend of the add that is the only user of `op`'s product, when it
/// broadcasts to the product's shape: the product can start from it (a
/// linear layer's bias) instead of zeros, which saves a pass over the result.
Value foldableAddend(MatmulOp op, AddOp &add) {
  if (!op->hasOneUse())
    return {};
  add = dyn_cast<AddOp>(*op->getUsers().begin());
  if (!add || add.getType() != op.getType() || add.getLhs() == add.getRhs())
    return {};
  Value addend = add.getLhs() == op.getResult() ? add.getRhs() : add.getLhs();
  ArrayRef<int64_t> shape = shapeOf(addend), result = shapeOf(op.getResult());
  if (shape.size() > result.size() ||
      elementTypeOf(addend) != elementTypeOf(op.getResult()))
    return {};
  for (auto [size, target] : llvm::zip(llvm::reverse(shape), llvm::reverse(result)))
    if (size != target && size != 1)
      return {};
  return addend;
}

/// `value` broadcast to `shape`, as NumPy broadcasts.
Value broadcast(ImplicitLocOpBuilder &b, Value value, ArrayRef<int64_t> shape) {
  MLIRContext *context = b.getContext();
  ArrayRef<int64_t> source = shapeOf(value);
  int64_t offset = shape.size() - source.size();
  SmallVector<AffineExpr> exprs;
  for (auto [i, size] : llvm::enumerate(source))
    exprs.push_back(size == 1 && shape[offset + i] != 1
                        ? getAffineConstantExpr(0, context)
                        : getAffineDimExpr(offset + i, context));
  Value empty = tensor::EmptyOp::create(b, shape, elementTypeOf(value));
  SmallVector<utils::IteratorType> iterators(shape.size(),
                                             utils::IteratorType::parallel);
  return generic(b, value, empty,
                 {AffineMap::get(shape.size(), 0, exprs, context),
                  b.getMultiDimIdentityMap(shape.size())},
                 iterators,
                 [](ImplicitLocOpBuilder &, ValueRange a) { return a[0]; });
}

LogicalResult lowerMatmul(MatmulOp op, RewriterBase &rewriter) {
  AddOp add;
  Value addend = foldableAddend(op, add);
  // The addend may be computed after the product: build at the add.
  if (addend)
    rewriter.setInsertionPoint(add);
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> result = type.getShape();
  ArrayRef<int64_t> batch = result.drop_back(2);
  unsigned m = batch.size(), n = m + 1, k = m + 2;
  AffineMap lhs = op.getTransposeLhs()
                      ? operandMap(context, shapeOf(op.getLhs()), batch, k, m)
                      : operandMap(context, shapeOf(op.getLhs()), batch, m, k);
  AffineMap rhs = op.getTransposeRhs()
                      ? operandMap(context, shapeOf(op.getRhs()), batch, n, k)
                      : operandMap(context, shapeOf(op.getRhs()), batch, k, n);
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d < k; ++d)
    outExprs.push_back(getAffineDimExpr(d, context));
  AffineMap out = AffineMap::get(k + 1, 0, outExprs, context);
  SmallVector<utils::IteratorType> iterators(k, utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value init = addend ? broadcast(b, addend, result)
                      : filled(b, result, type.getElementType(), 0);
  Value product =
      generic(b, {op.getLhs(), op.getRhs()}, init, {lhs, rhs, out}, iterators,
              [](ImplicitLocOpBuilder &in, ValueRange a) -> Value {
                return arith::AddFOp::create(
                    in, a[2], arith::MulFOp::create(in, a[0], a[1]));
              });
  if (addend) {
    rewriter.replaceOp(add, product);
    rewriter.eraseOp(op);
  } else {
    rewriter.replaceOp(op, product);
  }
  return success();
}

/// `value` with all its dimensions but the last `kept` merged into one.
Value collapseLeading(ImplicitLocOpBuilder &b, Value value, int64_t kept) {
  int64_t rank = shapeOf(value).size();
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d < rank - kept; ++d)
    groups.back().push_back(d);
  for (int64_t d = rank - kept; d < rank; ++d)
    groups.push_back({d});
  if (groups.front().size() == 1)
    return value;
  return tensor::CollapseShapeOp::create(b, value, groups);
}

LogicalResult lowerEmbeddingBackward(EmbeddingBackwardOp op,
                                     RewriterBase &rewriter) {
  // table[r, d] = sum_p (ids[p] == r ? grad[p, d] : 0): a reduction per
  // element of the table, instead of a sequential scatter.
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(op.getType());
  Value grad = collapseLeading(b, op.getGrad(), 1);
  Value ids = collapseLeading(b, op.getIds(), 0);
  AffineExpr r = getAffineDimExpr(0, context), d = getAffineDimExpr(1, context),
             p = getAffineDimExpr(2, context);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {p}, context),
                                 AffineMap::get(3, 0, {p, d}, context),
                                 AffineMap::get(3, 0, {r, d}, context)};
  Type element = type.getElementType();
  Value init = filled(b, type.getShape(), element, 0);
  rewriter.replaceOp(
      op, generic(b, {ids, grad}, init, maps,
                  {utils::IteratorType::parallel, utils::IteratorType::parallel,
                   utils::IteratorType::reduction},
                  [&](ImplicitLocOpBuilder &in, ValueRange a) -> Value {
                    Value row = arith::IndexCastOp::create(
                        in, in.getI64Type(), linalg::IndexOp::create(in, 0));
                    Value hit = arith::CmpIOp::create(
                        in, arith::CmpIPredicate::eq, a[0], row);
                    Value zero = arith::ConstantOp::create(
                        in, in.getFloatAttr(element, 0));
                    return arith::AddFOp::create(
                        in, a[2], arith::SelectOp::create(in, hit, a[1], zero));
                  }));
  return success();
}

struct LowerHeavyToLinalgPass
    : kiln::impl::KilnLowerHeavyToLinalgBase<LowerHeavyToLinalgPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<MatmulOp, EmbeddingBackwardOp, Conv2DOp, Conv2DBackwardInputOp,
              Conv2DBackwardWeightOp, MaxPool2DOp, AvgPool2DOp,
              MaxPool2DBackwardOp, AvgPool2DBackwardOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](MatmulOp o) { return lowerMatmul(o, rewriter); })
              .Case([&](EmbeddingBackwardOp o) {
                return lowerEmbeddingBackward(o, rewriter);
              })
              .Case([&](Conv2DOp o) { return lowerConv2D(o, rewriter); })
              .Case([&](Conv2DBackwardInputOp o) {
                return lowerConv2DBackwardInput(o, rewriter);
              })
              .Case([&](Conv2DBackwardWeightOp o) {
                return lowerConv2DBackwardWeight(o, rewriter);
              })
              .Case([&](MaxPool2DOp o) { return lowerMaxPool2D(o, rewriter); })
              .Case([&](AvgPool2DOp o) { return lowerAvgPool2D(o, rewriter); })
              .Case([&](MaxPool2DBackwardOp o) {
                return lowerMaxPool2DBackward(o, rewriter);
              })
              .Case([&](AvgPool2DBackwardOp o) {
                return lowerAvgPool2DBackward(o, rewriter);
              });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
