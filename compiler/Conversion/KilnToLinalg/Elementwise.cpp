//===- Elementwise.cpp - Elementwise kiln ops as linalg.generic -----------===//

#include "KilnToLinalg/Builders.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

namespace {

/// An op that states the scalar computation of its elements: a
/// linalg.generic with that computation as its body.
struct ElementwiseLowering : OpInterfaceRewritePattern<ElementwiseOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(ElementwiseOpInterface op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value result =
        elementwise(b, shapeOf(op->getResult(0)), op->getOperands(),
                    [&](ImplicitLocOpBuilder &inner,
                        ValueRange args) -> SmallVector<Value> {
                      return {op.buildScalar(inner, inner.getLoc(), args)};
                    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

Value constantLike(ImplicitLocOpBuilder &b, Value like, double value) {
  return floatConstant(b, like.getType(), value);
}

/// SplitMix64's finalizer, as kiln_mix64 in runtime/include/kiln/Random.h.
Value mix64(ImplicitLocOpBuilder &b, Value x) {
  auto c = [&](uint64_t v) {
    return arith::ConstantOp::create(b, b.getI64IntegerAttr(static_cast<int64_t>(v)));
  };
  auto shiftXor = [&](Value v, int64_t shift) {
    return arith::XOrIOp::create(b, v, arith::ShRUIOp::create(b, v, c(shift)));
  };
  x = arith::AddIOp::create(b, x, c(0x9E3779B97F4A7C15ull));
  x = arith::MulIOp::create(b, shiftXor(x, 30), c(0xBF58476D1CE4E5B9ull));
  x = arith::MulIOp::create(b, shiftXor(x, 27), c(0x94D049BB133111EBull));
  return shiftXor(x, 31);
}

struct DropoutLowering : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    double p = op.getP().convertToDouble();
    int64_t seed = op.getSeed();
    Value result = elementwise(
        b, shape, {op.getInput(), op.getCounter()},
        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          // The element's row-major index.
          Value index = arith::ConstantOp::create(in, in.getI64IntegerAttr(0));
          for (auto [d, size] : llvm::enumerate(shape)) {
            Value position = arith::IndexCastOp::create(
                in, in.getI64Type(), linalg::IndexOp::create(in, d));
            index = arith::AddIOp::create(
                in,
                arith::MulIOp::create(
                    in, index,
                    arith::ConstantOp::create(in, in.getI64IntegerAttr(size))),
                position);
          }
          Value seedValue =
              arith::ConstantOp::create(in, in.getI64IntegerAttr(seed));
          Value h = mix64(in, arith::XOrIOp::create(
                                  in, seedValue,
                                  mix64(in, arith::XOrIOp::create(
                                                in, a[1], mix64(in, index)))));
          Value bits = arith::ShRUIOp::create(
              in, h, arith::ConstantOp::create(in, in.getI64IntegerAttr(11)));
          Value uniform = arith::MulFOp::create(
              in, arith::UIToFPOp::create(in, in.getF64Type(), bits),
              floatConstant(in, in.getF64Type(), 1.0 / 9007199254740992.0));
          Value keep = arith::CmpFOp::create(
              in, arith::CmpFPredicate::OGE, uniform,
              floatConstant(in, in.getF64Type(), p));
          Value scaled = arith::MulFOp::create(
              in, a[0], constantLike(in, a[0], 1 / (1 - p)));
          return {arith::SelectOp::create(in, keep, scaled,
                                          constantLike(in, a[0], 0))};
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// One-hot vectors and embedding rows: results [S..., N] indexed by the ids
/// [S...] and the last position.
template <typename Op>
struct IndexedLowering : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = cast<RankedTensorType>(op.getResult().getType());
    int64_t rank = type.getRank();
    MLIRContext *context = b.getContext();
    SmallVector<AffineExpr> idExprs;
    for (int64_t d = 0; d + 1 < rank; ++d)
      idExprs.push_back(getAffineDimExpr(d, context));
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, idExprs, context),
                                   b.getMultiDimIdentityMap(rank)};
    Value output = emptyTensor(b, type.getShape(), type.getElementType());
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        b, type, op.getIds(), output, maps, iterators,
        [&](OpBuilder &nested, Location loc, ValueRange args) {
          ImplicitLocOpBuilder in(loc, nested);
          Value last = linalg::IndexOp::create(in, rank - 1);
          linalg::YieldOp::create(in, element(in, op, args[0], last));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  Value element(ImplicitLocOpBuilder &b, OneHotOp op, Value id,
                Value position) const {
    Value matches = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq, id,
        arith::IndexCastOp::create(b, b.getI64Type(), position));
    Type element = op.getType().getElementType();
    return arith::SelectOp::create(b, matches, floatConstant(b, element, 1),
                                   floatConstant(b, element, 0));
  }

  Value element(ImplicitLocOpBuilder &b, EmbeddingOp op, Value id,
                Value position) const {
    // Ids are checked when a batch is loaded; clamping keeps every read
    // inside the table whatever the data.
    int64_t rows = shapeOf(op.getTable())[0];
    Value row = arith::IndexCastOp::create(b, b.getIndexType(), id);
    row = arith::MaxSIOp::create(b, row, arith::ConstantIndexOp::create(b, 0));
    row = arith::MinSIOp::create(b, row,
                                 arith::ConstantIndexOp::create(b, rows - 1));
    return tensor::ExtractOp::create(b, op.getTable(), ValueRange{row, position});
  }
};

} // namespace

void lowering::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseLowering, DropoutLowering, IndexedLowering<OneHotOp>,
               IndexedLowering<EmbeddingOp>>(patterns.getContext());
}
