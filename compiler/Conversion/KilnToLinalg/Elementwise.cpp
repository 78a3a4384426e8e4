//===- Elementwise.cpp - Elementwise kiln ops as linalg.generic -----------===//

#include "KilnToLinalg/Builders.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

namespace {

/// An op whose every result element is `compute` of the operands' elements.
template <typename Op>
struct ElementwiseLowering : OpRewritePattern<Op> {
  using Compute = Value (*)(ImplicitLocOpBuilder &, Op, ValueRange);
  ElementwiseLowering(MLIRContext *context, Compute compute)
      : OpRewritePattern<Op>(context), compute(compute) {}

  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value result = elementwise(
        b, shapeOf(op.getResult()), op->getOperands(),
        [&](ImplicitLocOpBuilder &inner, ValueRange args) -> SmallVector<Value> {
          return {compute(inner, op, args)};
        });
    rewriter.replaceOp(op, result);
    return success();
  }

  Compute compute;
};

template <typename Op>
void add(RewritePatternSet &patterns,
         typename ElementwiseLowering<Op>::Compute compute) {
  patterns.add<ElementwiseLowering<Op>>(patterns.getContext(), compute);
}

Value constantLike(ImplicitLocOpBuilder &b, Value like, double value) {
  return floatConstant(b, like.getType(), value);
}

/// Phi(x), the standard normal distribution function.
Value normalCdf(ImplicitLocOpBuilder &b, Value x) {
  Value scaled = arith::MulFOp::create(b, x, constantLike(b, x, M_SQRT1_2));
  Value erf = math::ErfOp::create(b, scaled);
  return arith::MulFOp::create(
      b, constantLike(b, x, 0.5),
      arith::AddFOp::create(b, constantLike(b, x, 1), erf));
}

/// tanh(sqrt(2 / pi) * (x + 0.044715 x^3)), the core of gelu's tanh form.
Value geluTanhInner(ImplicitLocOpBuilder &b, Value x) {
  Value cube = arith::MulFOp::create(b, arith::MulFOp::create(b, x, x), x);
  Value inner = arith::AddFOp::create(
      b, x, arith::MulFOp::create(b, constantLike(b, x, 0.044715), cube));
  Value scaled = arith::MulFOp::create(
      b, constantLike(b, x, std::sqrt(2 / M_PI)), inner);
  return math::TanhOp::create(b, scaled);
}

Value gelu(ImplicitLocOpBuilder &b, GeluOp op, ValueRange a) {
  Value x = a[0];
  if (op.getApproximate() == GeluApproximation::none)
    return arith::MulFOp::create(b, x, normalCdf(b, x));
  Value t = geluTanhInner(b, x);
  Value half = arith::MulFOp::create(b, constantLike(b, x, 0.5), x);
  return arith::MulFOp::create(
      b, half, arith::AddFOp::create(b, constantLike(b, x, 1), t));
}

Value geluBackward(ImplicitLocOpBuilder &b, GeluBackwardOp op, ValueRange a) {
  Value g = a[0], x = a[1];
  auto c = [&](double v) { return constantLike(b, x, v); };
  Value derivative;
  if (op.getApproximate() == GeluApproximation::none) {
    // Phi(x) + x phi(x).
    Value square = arith::MulFOp::create(b, x, x);
    Value density = arith::MulFOp::create(
        b, c(1 / std::sqrt(2 * M_PI)),
        math::ExpOp::create(b, arith::MulFOp::create(b, c(-0.5), square)));
    derivative = arith::AddFOp::create(b, normalCdf(b, x),
                                       arith::MulFOp::create(b, x, density));
  } else {
    // d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 0.044715 x^2).
    Value t = geluTanhInner(b, x);
    Value square = arith::MulFOp::create(b, x, x);
    Value left = arith::MulFOp::create(b, c(0.5), arith::AddFOp::create(b, c(1), t));
    Value sech2 = arith::SubFOp::create(b, c(1), arith::MulFOp::create(b, t, t));
    Value inner = arith::MulFOp::create(
        b, c(std::sqrt(2 / M_PI)),
        arith::AddFOp::create(b, c(1), arith::MulFOp::create(b, c(3 * 0.044715), square)));
    Value right = arith::MulFOp::create(
        b, arith::MulFOp::create(b, arith::MulFOp::create(b, c(0.5), x), sech2),
        inner);
    derivative = arith::AddFOp::create(b, left, right);
  }
  return arith::MulFOp::create(b, g, derivative);
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
  add<AddOp>(patterns, [](ImplicitLocOpBuilder &b, AddOp, ValueRange a) -> Value {
    return arith::AddFOp::create(b, a[0], a[1]);
  });
  add<SubOp>(patterns, [](ImplicitLocOpBuilder &b, SubOp, ValueRange a) -> Value {
    return arith::SubFOp::create(b, a[0], a[1]);
  });
  add<MulOp>(patterns, [](ImplicitLocOpBuilder &b, MulOp, ValueRange a) -> Value {
    return arith::MulFOp::create(b, a[0], a[1]);
  });
  add<DivOp>(patterns, [](ImplicitLocOpBuilder &b, DivOp, ValueRange a) -> Value {
    return arith::DivFOp::create(b, a[0], a[1]);
  });
  add<NegOp>(patterns, [](ImplicitLocOpBuilder &b, NegOp, ValueRange a) -> Value {
    return arith::NegFOp::create(b, a[0]);
  });
  add<ReluOp>(patterns, [](ImplicitLocOpBuilder &b, ReluOp, ValueRange a) -> Value {
    return arith::MaximumFOp::create(b, a[0], constantLike(b, a[0], 0));
  });
  add<TanhOp>(patterns, [](ImplicitLocOpBuilder &b, TanhOp, ValueRange a) -> Value {
    return math::TanhOp::create(b, a[0]);
  });
  add<SigmoidOp>(patterns, [](ImplicitLocOpBuilder &b, SigmoidOp, ValueRange a) -> Value {
    Value e = math::ExpOp::create(b, arith::NegFOp::create(b, a[0]));
    return arith::DivFOp::create(
        b, constantLike(b, a[0], 1),
        arith::AddFOp::create(b, constantLike(b, a[0], 1), e));
  });
  add<ExpOp>(patterns, [](ImplicitLocOpBuilder &b, ExpOp, ValueRange a) -> Value {
    return math::ExpOp::create(b, a[0]);
  });
  add<LogOp>(patterns, [](ImplicitLocOpBuilder &b, LogOp, ValueRange a) -> Value {
    return math::LogOp::create(b, a[0]);
  });
  add<SqrtOp>(patterns, [](ImplicitLocOpBuilder &b, SqrtOp, ValueRange a) -> Value {
    return math::SqrtOp::create(b, a[0]);
  });
  add<GeluOp>(patterns, gelu);
  add<GeluBackwardOp>(patterns, geluBackward);
  add<ReluBackwardOp>(patterns, [](ImplicitLocOpBuilder &b, ReluBackwardOp,
                                   ValueRange a) -> Value {
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, a[1],
                                           constantLike(b, a[1], 0));
    return arith::SelectOp::create(b, positive, a[0], constantLike(b, a[0], 0));
  });
  add<BroadcastToOp>(patterns, [](ImplicitLocOpBuilder &, BroadcastToOp,
                                  ValueRange a) -> Value { return a[0]; });
  patterns.add<DropoutLowering, IndexedLowering<OneHotOp>,
               IndexedLowering<EmbeddingOp>>(patterns.getContext());
}
