//===- DataMovement.cpp - Reshapes, slices and constants as tensor ops ----===//

#include "KilnToLinalg/Builders.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

namespace {

template <typename Op>
struct ReshapeLowering : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    rewriter.replaceOp(op, reshapeTo(b, op.getInput(), shapeOf(op.getResult())));
    return success();
  }
};

struct TransposeLowering : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value init = emptyTensor(b, shapeOf(op.getResult()), elementTypeOf(op.getInput()));
    rewriter.replaceOp(op, linalg::TransposeOp::create(
                               b, op.getInput(), init, op.getPermutation())
                               .getResult());
    return success();
  }
};

struct ConcatLowering : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    ArrayRef<int64_t> shape = shapeOf(op.getResult());
    int64_t rank = shape.size(), axis = op.getAxis();
    axis = axis < 0 ? axis + rank : axis;
    Value result = emptyTensor(b, shape, elementTypeOf(op.getResult()));
    int64_t offset = 0;
    for (Value input : op.getInputs()) {
      SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = offset;
      result = tensor::InsertSliceOp::create(b, input, result, ValueRange{},
                                             ValueRange{}, ValueRange{},
                                             offsets, shapeOf(input), strides);
      offset += shapeOf(input)[axis];
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SliceLowering : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, op.getType(), op.getInput(), ValueRange{}, ValueRange{},
        ValueRange{}, op.getOffsets(), op.getSizes(), op.getStrides());
    return success();
  }
};

struct ScatterSliceLowering : OpRewritePattern<ScatterSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterSliceOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type element = elementTypeOf(op.getSource());
    Value zeros = filledTensor(b, op.getShape(), element,
                               FloatAttr::get(element, 0));
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, op.getSource(), zeros, ValueRange{}, ValueRange{}, ValueRange{},
        op.getOffsets(), shapeOf(op.getSource()), op.getStrides());
    return success();
  }
};

struct ConstantLowering : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

struct SinusoidalPositionsLowering : OpRewritePattern<SinusoidalPositionsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SinusoidalPositionsOp op,
                                PatternRewriter &rewriter) const override {
    // The table is a constant of the program.
    int64_t length = op.getLength(), dim = op.getDim();
    auto type = op.getType();
    SmallVector<APFloat> values;
    bool f32 = type.getElementType().isF32();
    for (int64_t p = 0; p < length; ++p) {
      for (int64_t i = 0; i < dim; ++i) {
        double frequency =
            std::exp(-static_cast<double>(i - i % 2) * std::log(10000.0) / dim);
        double angle = static_cast<double>(p) * frequency;
        double value = i % 2 ? std::cos(angle) : std::sin(angle);
        values.push_back(f32 ? APFloat(static_cast<float>(value))
                             : APFloat(value));
      }
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, DenseElementsAttr::get(type, values));
    return success();
  }
};

struct EmbeddingBackwardLowering : OpRewritePattern<EmbeddingBackwardOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingBackwardOp op,
                                PatternRewriter &rewriter) const override {
    // A scatter-add: for each position p, table[ids[p]] += grad[p].
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto type = op.getType();
    int64_t rows = type.getDimSize(0), width = type.getDimSize(1);
    int64_t positions = product(shapeOf(op.getIds()));
    Type element = type.getElementType();
    Value ids = reshapeTo(b, op.getIds(), {positions});
    Value grad = reshapeTo(b, op.getGrad(), {positions, width});
    Value table = filledTensor(b, type.getShape(), element,
                               FloatAttr::get(element, 0));
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    auto outer = scf::ForOp::create(
        b, zero, arith::ConstantIndexOp::create(b, positions), one,
        ValueRange{table},
        [&](OpBuilder &nested, Location loc, Value p, ValueRange carried) {
          ImplicitLocOpBuilder in(loc, nested);
          Value row = arith::IndexCastOp::create(
              in, in.getIndexType(), tensor::ExtractOp::create(in, ids, p));
          row = arith::MaxSIOp::create(in, row, zero);
          row = arith::MinSIOp::create(in, row,
                                       arith::ConstantIndexOp::create(in, rows - 1));
          auto inner = scf::ForOp::create(
              in, zero, arith::ConstantIndexOp::create(in, width), one,
              carried,
              [&](OpBuilder &innerBuilder, Location innerLoc, Value d,
                  ValueRange acc) {
                ImplicitLocOpBuilder ib(innerLoc, innerBuilder);
                Value current =
                    tensor::ExtractOp::create(ib, acc[0], ValueRange{row, d});
                Value added = arith::AddFOp::create(
                    ib, current,
                    tensor::ExtractOp::create(ib, grad, ValueRange{p, d}));
                scf::YieldOp::create(
                    ib, tensor::InsertOp::create(ib, added, acc[0],
                                                 ValueRange{row, d})
                            .getResult());
              });
          scf::YieldOp::create(in, inner.getResults());
        });
    rewriter.replaceOp(op, outer.getResult(0));
    return success();
  }
};

} // namespace

void lowering::populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<ReshapeLowering<ReshapeOp>, ReshapeLowering<FlattenOp>,
               TransposeLowering, ConcatLowering, SliceLowering,
               ScatterSliceLowering, ConstantLowering,
               SinusoidalPositionsLowering, EmbeddingBackwardLowering>(
      patterns.getContext());
}
