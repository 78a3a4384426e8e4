//===- Training.cpp - Optimizer updates, schedules, clipping as linalg ----===//
//
// The updates follow torch.optim's single-tensor code: scalar factors are
// computed once per step in double precision, as Python floats are, and the
// elementwise arithmetic runs in the parameters' element type. Each update
// writes into its parameter and state operands, so that bufferization
// updates them in place.
//
//===----------------------------------------------------------------------===//

#include "KilnToLinalg/Builders.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::lowering;

namespace {

/// A double scalar as a constant.
Value f64(ImplicitLocOpBuilder &b, double value) {
  return floatConstant(b, b.getF64Type(), value);
}

/// `value` (f64) converted to `type`.
Value castTo(ImplicitLocOpBuilder &b, Type type, Value value) {
  return type.isF64() ? value : arith::TruncFOp::create(b, type, value).getResult();
}

/// The step counter of an update (an i64 rank-0 tensor) as a double.
Value stepOf(ImplicitLocOpBuilder &b, Value step) {
  return arith::SIToFPOp::create(b, b.getF64Type(), scalarOf(b, step));
}

struct SGDLowering : OpRewritePattern<SGDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SGDOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type element = elementTypeOf(op.getParam());
    auto c = [&](double v) { return floatConstant(b, element, v); };
    Value lr = scalarOf(b, op.getLr());
    Value decay = c(op.getWeightDecay().convertToDouble());
    double momentumValue = op.getMomentum().convertToDouble();
    Value momentum = c(momentumValue);
    Value damping = c(1 - op.getDampening().convertToDouble());
    bool nesterov = op.getNesterov();
    // The first update sets the buffer to the gradient itself.
    Value first = arith::CmpIOp::create(
        b, arith::CmpIPredicate::eq, scalarOf(b, op.getStep()),
        arith::ConstantOp::create(b, b.getI64IntegerAttr(1)));
    SmallVector<Value> outputs = {op.getParam()};
    if (Value buffer = op.getMomentumBuffer())
      outputs.push_back(buffer);
    SmallVector<Value> results = updateInPlace(
        b, op.getGrad(), outputs,
        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          Value g = a[0], p = a[1];
          g = arith::AddFOp::create(in, g, arith::MulFOp::create(in, decay, p));
          if (momentumValue == 0)
            return {arith::SubFOp::create(in, p, arith::MulFOp::create(in, lr, g))};
          Value buffer = arith::AddFOp::create(
              in, arith::MulFOp::create(in, momentum, a[2]),
              arith::MulFOp::create(in, damping, g));
          buffer = arith::SelectOp::create(in, first, g, buffer);
          Value direction =
              nesterov ? arith::AddFOp::create(
                             in, g, arith::MulFOp::create(in, momentum, buffer))
                             .getResult()
                       : buffer;
          return {arith::SubFOp::create(in, p, arith::MulFOp::create(in, lr, direction)),
                  buffer};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

template <typename Op, bool Decoupled>
struct AdamLowering : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type element = elementTypeOf(op.getParam());
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();
    double decay = op.getWeightDecay().convertToDouble();
    // Per-step scalars, in double as torch.optim computes them.
    Value lr = arith::ExtFOp::create(b, b.getF64Type(), scalarOf(b, op.getLr()));
    Value step = stepOf(b, op.getStep());
    auto correction = [&](double beta) {
      return arith::SubFOp::create(b, f64(b, 1),
                                   math::PowFOp::create(b, f64(b, beta), step));
    };
    Value stepSize = castTo(b, element, arith::DivFOp::create(b, lr, correction(beta1)));
    Value correction2 = castTo(b, element, math::SqrtOp::create(b, correction(beta2)));
    Value shrink = castTo(
        b, element,
        arith::SubFOp::create(b, f64(b, 1),
                              arith::MulFOp::create(b, lr, f64(b, decay))));
    auto c = [&](double v) { return floatConstant(b, element, v); };
    Value b1 = c(beta1), b2 = c(beta2), oneMinusB1 = c(1 - beta1),
          oneMinusB2 = c(1 - beta2), eps = c(op.getEpsilon().convertToDouble()),
          decayValue = c(decay);
    SmallVector<Value> results = updateInPlace(
        b, op.getGrad(), {op.getParam(), op.getExpAvg(), op.getExpAvgSq()},
        [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          Value g = a[0], p = a[1], m = a[2], v = a[3];
          if (Decoupled)
            p = arith::MulFOp::create(in, p, shrink);
          else if (decay != 0)
            g = arith::AddFOp::create(in, g, arith::MulFOp::create(in, decayValue, p));
          m = arith::AddFOp::create(in, arith::MulFOp::create(in, b1, m),
                                    arith::MulFOp::create(in, oneMinusB1, g));
          v = arith::AddFOp::create(
              in, arith::MulFOp::create(in, b2, v),
              arith::MulFOp::create(in, oneMinusB2, arith::MulFOp::create(in, g, g)));
          Value denom = arith::AddFOp::create(
              in, arith::DivFOp::create(in, math::SqrtOp::create(in, v), correction2),
              eps);
          Value update = arith::MulFOp::create(
              in, stepSize, arith::DivFOp::create(in, m, denom));
          return {arith::SubFOp::create(in, p, update), m, v};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct LearningRateLowering : OpRewritePattern<LearningRateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LearningRateOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    double lrValue = op.getLr().convertToDouble();
    int64_t warmupSteps = op.getWarmup();
    // k counts updates from 0.
    Value k = arith::SubFOp::create(b, stepOf(b, op.getStep()), f64(b, 1));
    Value total = stepOf(b, op.getTotalSteps());
    Value lr = f64(b, lrValue);
    StringRef schedule = op.getSchedule();
    if (schedule == "step") {
      Value every = f64(b, static_cast<double>(op.getEvery()));
      Value stage = math::FloorOp::create(b, arith::DivFOp::create(b, k, every));
      lr = arith::MulFOp::create(
          b, lr,
          math::PowFOp::create(b, f64(b, op.getGamma().convertToDouble()), stage));
    } else if (schedule == "cosine") {
      // After the warm-up, from lr down to min_lr at the last update.
      Value warmup = f64(b, static_cast<double>(warmupSteps));
      Value span = arith::MaximumFOp::create(
          b, arith::SubFOp::create(b, total, warmup), f64(b, 1));
      Value t = arith::MinimumFOp::create(
          b, arith::MaximumFOp::create(b, arith::SubFOp::create(b, k, warmup),
                                       f64(b, 0)),
          span);
      Value cosine = math::CosOp::create(
          b, arith::MulFOp::create(b, f64(b, M_PI),
                                   arith::DivFOp::create(b, t, span)));
      double minLr = op.getMinLr().convertToDouble();
      Value factor = arith::MulFOp::create(
          b, f64(b, 0.5), arith::AddFOp::create(b, f64(b, 1), cosine));
      lr = arith::AddFOp::create(
          b, f64(b, minLr),
          arith::MulFOp::create(b, f64(b, lrValue - minLr), factor));
    }
    if (warmupSteps > 0) {
      Value ramp = arith::MinimumFOp::create(
          b, f64(b, 1),
          arith::DivFOp::create(b, arith::AddFOp::create(b, k, f64(b, 1)),
                                f64(b, static_cast<double>(warmupSteps))));
      lr = schedule == "cosine"
               ? arith::SelectOp::create(
                     b,
                     arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, k,
                                           f64(b, static_cast<double>(warmupSteps))),
                     arith::MulFOp::create(b, f64(b, lrValue), ramp), lr)
                     .getResult()
               : arith::MulFOp::create(b, lr, ramp).getResult();
    }
    rewriter.replaceOp(op, tensorOf(b, castTo(b, op.getType().getElementType(), lr)));
    return success();
  }
};

struct AccumulateLowering : OpRewritePattern<AccumulateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AccumulateOp op,
                                PatternRewriter &rewriter) const override {
    // The sum is the destination: elementwise fusion fuses only the
    // producers of inputs, so the sums stay where the micro-batches end.
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    SmallVector<Value> results = updateInPlace(
        b, op.getTerm(), op.getSum(),
        [](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
          return {arith::AddFOp::create(in, a[1], a[0])};
        });
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct ClipGradNormLowering : OpRewritePattern<ClipGradNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClipGradNormOp op,
                                PatternRewriter &rewriter) const override {
    // As torch.nn.utils.clip_grad_norm_: every gradient times
    // min(1, max_norm / (norm + 1e-6)), the norm over all of them.
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type element = elementTypeOf(op.getGrads().front());
    Value sum = floatConstant(b, element, 0);
    for (Value grad : op.getGrads()) {
      ArrayRef<int64_t> shape = shapeOf(grad);
      Value squares = elementwise(
          b, shape, grad,
          [](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
            return {arith::MulFOp::create(in, a[0], a[0])};
          });
      SmallVector<int64_t> axes;
      for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
        axes.push_back(d);
      Value total = reduce(b, squares, axes, false, FloatAttr::get(element, 0),
                           [](ImplicitLocOpBuilder &in, Value x, Value y) -> Value {
                             return arith::AddFOp::create(in, x, y);
                           });
      sum = arith::AddFOp::create(b, sum, scalarOf(b, total));
    }
    Value norm = math::SqrtOp::create(b, sum);
    Value coefficient = arith::DivFOp::create(
        b, floatConstant(b, element, op.getMaxNorm().convertToDouble()),
        arith::AddFOp::create(b, norm, floatConstant(b, element, 1e-6)));
    coefficient = arith::MinimumFOp::create(b, coefficient,
                                            floatConstant(b, element, 1));
    SmallVector<Value> results;
    for (Value grad : op.getGrads())
      results.push_back(elementwise(
          b, shapeOf(grad), grad,
          [&](ImplicitLocOpBuilder &in, ValueRange a) -> SmallVector<Value> {
            return {arith::MulFOp::create(in, a[0], coefficient)};
          }));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void lowering::populateTrainingPatterns(RewritePatternSet &patterns) {
  patterns.add<SGDLowering, AdamLowering<AdamOp, false>,
               AdamLowering<AdamWOp, true>, LearningRateLowering,
               AccumulateLowering, ClipGradNormLowering>(patterns.getContext());
}
