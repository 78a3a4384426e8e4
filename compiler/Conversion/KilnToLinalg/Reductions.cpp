//===- Reductions.cpp - Reductions, argmax and cross-entropy as linalg ----===//

#include "KilnToLinalg/Builders.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

namespace {

Value addF(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::AddFOp::create(b, x, y);
}

Value maxF(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MaximumFOp::create(b, x, y);
}

TypedAttr floatAttr(Type type, double value) {
  return FloatAttr::get(type, value);
}

double lowest() { return -std::numeric_limits<double>::infinity(); }

/// The sum of `input` over `axes`, divided by the number of summed elements
/// when `mean`.
Value sumOver(ImplicitLocOpBuilder &b, Value input, ArrayRef<int64_t> axes,
              bool keepDims, bool mean) {
  Type element = elementTypeOf(input);
  Value sum = reduce(b, input, axes, keepDims, floatAttr(element, 0), addF);
  if (!mean)
    return sum;
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= shapeOf(input)[axis];
  Value divisor = floatConstant(b, element, static_cast<double>(count));
  return elementwise(b, shapeOf(sum), sum,
                     [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
                       return {arith::DivFOp::create(in, a[0], divisor)};
                     });
}

template <typename Op, bool Mean>
struct SumLowering : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    SmallVector<int64_t> axes =
        normalizeAxes(op.getAxes(), shapeOf(op.getInput()).size());
    rewriter.replaceOp(op, sumOver(b, op.getInput(), axes, op.getKeepDims(), Mean));
    return success();
  }
};

struct MaxLowering : OpRewritePattern<ReduceMaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceMaxOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    SmallVector<int64_t> axes =
        normalizeAxes(op.getAxes(), shapeOf(op.getInput()).size());
    rewriter.replaceOp(op, reduce(b, op.getInput(), axes, op.getKeepDims(),
                                  floatAttr(elementTypeOf(op.getInput()),
                                            lowest()),
                                  maxF));
    return success();
  }
};

struct MaxBackwardLowering : OpRewritePattern<ReduceMaxBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceMaxBackwardOp op,
                                PatternRewriter &rewriter) const override {
    // Each group's gradient is shared by the positions holding its maximum.
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value input = op.getInput();
    ArrayRef<int64_t> shape = shapeOf(input);
    Type element = elementTypeOf(input);
    SmallVector<int64_t> axes = normalizeAxes(op.getAxes(), shape.size());
    Value max = reduce(b, input, axes, true, floatAttr(element, lowest()), maxF);
    Value one = floatConstant(b, element, 1), zero = floatConstant(b, element, 0);
    Value isMax = elementwise(b, shape, {input, max},
                              [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
                                Value equal = arith::CmpFOp::create(
                                    in, arith::CmpFPredicate::OEQ, a[0], a[1]);
                                return {arith::SelectOp::create(in, equal, one, zero)};
                              });
    Value count = reduce(b, isMax, axes, true, floatAttr(element, 0), addF);
    Value grad = reshapeTo(b, op.getGrad(), shapeOf(count));
    rewriter.replaceOp(
        op, elementwise(b, shape, {grad, count, isMax},
                        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
                          return {arith::MulFOp::create(
                              in, arith::DivFOp::create(in, a[0], a[1]), a[2])};
                        }));
    return success();
  }
};

struct ArgmaxLowering : OpRewritePattern<ArgmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ArgmaxOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *context = b.getContext();
    Value input = op.getInput();
    ArrayRef<int64_t> shape = shapeOf(input);
    int64_t rank = shape.size(), axis = op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    SmallVector<int64_t> resultShape;
    SmallVector<AffineExpr> exprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d != axis) {
        resultShape.push_back(shape[d]);
        exprs.push_back(getAffineDimExpr(d, context));
      }
    }
    Type element = elementTypeOf(input);
    Value values = filledTensor(b, resultShape, element,
                                floatAttr(element, lowest()));
    Value indices = filledTensor(b, resultShape, b.getI64Type(),
                                 b.getI64IntegerAttr(0));
    AffineMap resultMap = AffineMap::get(rank, 0, exprs, context);
    auto generic = linalg::GenericOp::create(
        b, TypeRange{values.getType(), indices.getType()}, input,
        ValueRange{values, indices},
        {b.getMultiDimIdentityMap(rank), resultMap, resultMap}, iterators,
        [&](OpBuilder &nested, Location loc, ValueRange a) {
          ImplicitLocOpBuilder in(loc, nested);
          Value index = arith::IndexCastOp::create(
              in, in.getI64Type(), linalg::IndexOp::create(in, axis));
          // The first of equal maxima wins, whatever the order of the loop.
          Value greater =
              arith::CmpFOp::create(in, arith::CmpFPredicate::OGT, a[0], a[1]);
          Value tie = arith::AndIOp::create(
              in, arith::CmpFOp::create(in, arith::CmpFPredicate::OEQ, a[0], a[1]),
              arith::CmpIOp::create(in, arith::CmpIPredicate::slt, index, a[2]));
          Value take = arith::OrIOp::create(in, greater, tie);
          linalg::YieldOp::create(
              in, ValueRange{arith::SelectOp::create(in, take, a[0], a[1]),
                             arith::SelectOp::create(in, take, index, a[2])});
        });
    Value result = generic.getResult(1);
    if (op.getKeepDims())
      result = reshapeTo(b, result, shapeOf(op.getResult()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CountEqualLowering : OpRewritePattern<CountEqualOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CountEqualOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ArrayRef<int64_t> shape = shapeOf(op.getLhs());
    Value equal = elementwise(
        b, shape, {op.getLhs(), op.getRhs()}, {b.getI64Type()},
        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          Value same =
              arith::CmpIOp::create(in, arith::CmpIPredicate::eq, a[0], a[1]);
          return {arith::ExtUIOp::create(in, in.getI64Type(), same)};
        })[0];
    SmallVector<int64_t> axes;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
      axes.push_back(d);
    rewriter.replaceOp(
        op, reduce(b, equal, axes, false, b.getI64IntegerAttr(0),
                   [](ImplicitLocOpBuilder &in, Value x, Value y) -> Value {
                     return arith::AddIOp::create(in, x, y);
                   }));
    return success();
  }
};

/// The per-row statistics of softmax over [N, C]: the maximum and the sum of
/// exp(x - max).
std::pair<Value, Value> rowStatistics(ImplicitLocOpBuilder &b, Value logits) {
  Type element = elementTypeOf(logits);
  Value max = reduce(b, logits, {1}, false, floatAttr(element, lowest()), maxF);
  Value shifted = elementwise(
      b, shapeOf(logits), {logits, reshapeTo(b, max, {shapeOf(logits)[0], 1})},
      [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
        return {math::ExpOp::create(in, arith::SubFOp::create(in, a[0], a[1]))};
      });
  Value sum = reduce(b, shifted, {1}, false, floatAttr(element, 0), addF);
  return {max, sum};
}

/// logits[n, labels[n]] for each row n, the label clamped to the classes:
/// an ignored label picks a value that is then not used.
Value pickLabels(ImplicitLocOpBuilder &b, Value logits, Value labels) {
  int64_t classes = shapeOf(logits)[1];
  return elementwise(
      b, shapeOf(labels), labels, {elementTypeOf(logits)},
      [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
        Value row = linalg::IndexOp::create(in, 0);
        Value column = arith::MinSIOp::create(
            in,
            arith::MaxSIOp::create(
                in, a[0], arith::ConstantIntOp::create(in, in.getI64Type(), 0)),
            arith::ConstantIntOp::create(in, in.getI64Type(), classes - 1));
        column = arith::IndexCastOp::create(in, in.getIndexType(), column);
        return {tensor::ExtractOp::create(in, logits, ValueRange{row, column})};
      })[0];
}

/// Whether `label` is the ignored value.
Value isIgnored(ImplicitLocOpBuilder &b, Value label, int64_t ignoreIndex) {
  return arith::CmpIOp::create(
      b, arith::CmpIPredicate::eq, label,
      arith::ConstantIntOp::create(b, b.getI64Type(), ignoreIndex));
}

/// The number of labels that are not `ignoreIndex`, as a rank-0 tensor of
/// `element`.
Value countKept(ImplicitLocOpBuilder &b, Value labels, int64_t ignoreIndex,
                Type element) {
  Value kept = elementwise(
      b, shapeOf(labels), labels, {element},
      [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
        return {arith::SelectOp::create(in, isIgnored(in, a[0], ignoreIndex),
                                        floatConstant(in, element, 0),
                                        floatConstant(in, element, 1))};
      })[0];
  return sumOver(b, kept, {0}, false, false);
}

struct CrossEntropyLowering : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    // The sum over the rows not ignored of log(sum exp(x - max)) + max
    // - (1 - s) x[label] - s mean(x), over their number.
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value logits = op.getLogits(), labels = op.getLabels();
    Type element = elementTypeOf(logits);
    int64_t ignoreIndex = op.getIgnoreIndex();
    double smoothing = op.getLabelSmoothing().convertToDouble();
    auto [max, sum] = rowStatistics(b, logits);
    SmallVector<Value> inputs = {sum, max, pickLabels(b, logits, labels),
                                 labels};
    if (smoothing != 0)
      inputs.push_back(sumOver(b, logits, {1}, false, true));
    Value losses = elementwise(
        b, shapeOf(max), inputs,
        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          Value lse = arith::AddFOp::create(in, math::LogOp::create(in, a[0]), a[1]);
          Value loss;
          if (smoothing == 0) {
            loss = arith::SubFOp::create(in, lse, a[2]);
          } else {
            Value picked = arith::MulFOp::create(
                in, a[2], floatConstant(in, element, 1 - smoothing));
            Value spread = arith::MulFOp::create(
                in, a[4], floatConstant(in, element, smoothing));
            loss = arith::SubFOp::create(
                in, arith::SubFOp::create(in, lse, picked), spread);
          }
          return {arith::SelectOp::create(in, isIgnored(in, a[3], ignoreIndex),
                                          floatConstant(in, element, 0), loss)};
        });
    Value total = sumOver(b, losses, {0}, false, false);
    Value count = countKept(b, labels, ignoreIndex, element);
    // 0 / 0 when every label is ignored: NaN, as PyTorch's mean.
    rewriter.replaceOp(
        op, elementwise(b, {}, {total, count},
                        [&](ImplicitLocOpBuilder &in,
                            ValueRange a) -> SmallVector<Value> {
                          return {arith::DivFOp::create(in, a[0], a[1])};
                        }));
    return success();
  }
};

struct CrossEntropyBackwardLowering : OpRewritePattern<CrossEntropyBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyBackwardOp op,
                                PatternRewriter &rewriter) const override {
    // grad (softmax(x) - (1 - s) one_hot(label) - s / C) / count in the rows
    // not ignored, 0 in the others.
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value logits = op.getLogits();
    ArrayRef<int64_t> shape = shapeOf(logits);
    auto [max, sum] = rowStatistics(b, logits);
    Type element = elementTypeOf(logits);
    int64_t ignoreIndex = op.getIgnoreIndex();
    double smoothing = op.getLabelSmoothing().convertToDouble();
    double spread = smoothing / static_cast<double>(shape[1]);
    Value count = countKept(b, op.getLabels(), ignoreIndex, element);
    auto asColumn = [&](Value v) { return reshapeTo(b, v, {shape[0], 1}); };
    rewriter.replaceOp(
        op,
        elementwise(
            b, shape,
            {logits, asColumn(max), asColumn(sum), asColumn(op.getLabels()),
             op.getGrad(), count},
            [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
              Value p = arith::DivFOp::create(
                  in, math::ExpOp::create(in, arith::SubFOp::create(in, a[0], a[1])),
                  a[2]);
              Value c = arith::IndexCastOp::create(in, in.getI64Type(),
                                                   linalg::IndexOp::create(in, 1));
              Value isLabel =
                  arith::CmpIOp::create(in, arith::CmpIPredicate::eq, c, a[3]);
              Value target = arith::SelectOp::create(
                  in, isLabel,
                  floatConstant(in, element, 1 - smoothing + spread),
                  floatConstant(in, element, spread));
              Value difference = arith::SubFOp::create(in, p, target);
              Value gradient = arith::MulFOp::create(
                  in, difference, arith::DivFOp::create(in, a[4], a[5]));
              return {arith::SelectOp::create(
                  in, isIgnored(in, a[3], ignoreIndex),
                  floatConstant(in, element, 0), gradient)};
            }));
    return success();
  }
};

} // namespace

void lowering::populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<SumLowering<ReduceSumOp, false>, SumLowering<ReduceMeanOp, true>,
               MaxLowering, MaxBackwardLowering, ArgmaxLowering,
               CountEqualLowering, CrossEntropyLowering,
               CrossEntropyBackwardLowering>(patterns.getContext());
}
