//===- KilnElementwise.cpp - Scalar bodies and adjoints of elementwise ops ===//
//
// Everything about an elementwise op but its ODS definition: the scalar
// computation of one result element (ElementwiseOpInterface), which every
// lowering puts in its loops, and the adjoint rule
// (DifferentiableOpInterface). A new elementwise op adds its two functions
// here.
//
//===----------------------------------------------------------------------===//

#include "GradientBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::detail;

namespace {

/// A scalar constant of the type of `like`.
Value constantLike(ImplicitLocOpBuilder &b, Value like, double value) {
  return arith::ConstantOp::create(b, b.getFloatAttr(like.getType(), value));
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
  Value scaled =
      arith::MulFOp::create(b, constantLike(b, x, std::sqrt(2 / M_PI)), inner);
  return math::TanhOp::create(b, scaled);
}

/// 1 where `predicate` holds of the two operands, else 0, in their type.
Value compare(ImplicitLocOpBuilder &b, arith::CmpFPredicate predicate,
              ValueRange a) {
  Value holds = arith::CmpFOp::create(b, predicate, a[0], a[1]);
  return arith::SelectOp::create(b, holds, constantLike(b, a[0], 1),
                                 constantLike(b, a[0], 0));
}

/// The adjoint of minimum or maximum: each operand gets the gradient where
/// it alone is the result (`lhsWins`, `rhsWins`) and half of it on ties, as
/// in PyTorch.
void selectionAdjoint(GradientBuilder &g, Value grad, Value lhs, Value rhs,
                      Value lhsWins, Value rhsWins, ArrayRef<bool> needed,
                      SmallVectorImpl<Value> &operandGrads) {
  Value half =
      g.mul(g.scalar(0.5, lhs), EqualOp::create(g.builder(), lhs, rhs));
  if (needed[0])
    operandGrads[0] = g.sumTo(g.mul(grad, g.add(lhsWins, half)), shapeOf(lhs));
  if (needed[1])
    operandGrads[1] = g.sumTo(g.mul(grad, g.add(rhsWins, half)), shapeOf(rhs));
}

} // namespace

//===----------------------------------------------------------------------===//
// Broadcasting arithmetic
//===----------------------------------------------------------------------===//

Value AddOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::AddFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult AddOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  if (needed[0])
    operandGrads[0] = g.sumTo(grads[0], shapeOf(getLhs()));
  if (needed[1])
    operandGrads[1] = g.sumTo(grads[0], shapeOf(getRhs()));
  return success();
}

Value SubOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::SubFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult SubOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  if (needed[0])
    operandGrads[0] = g.sumTo(grads[0], shapeOf(getLhs()));
  if (needed[1])
    operandGrads[1] = g.sumTo(g.neg(grads[0]), shapeOf(getRhs()));
  return success();
}

Value MulOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::MulFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult MulOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  if (needed[0])
    operandGrads[0] = g.sumTo(g.mul(grads[0], getRhs()), shapeOf(getLhs()));
  if (needed[1])
    operandGrads[1] = g.sumTo(g.mul(grads[0], getLhs()), shapeOf(getRhs()));
  return success();
}

Value DivOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::DivFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult DivOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  // d(x / y) = dx / y - dy * (x / y) / y.
  if (needed[0])
    operandGrads[0] = g.sumTo(g.div(grads[0], getRhs()), shapeOf(getLhs()));
  if (needed[1])
    operandGrads[1] =
        g.sumTo(g.neg(g.div(g.mul(grads[0], getResult()), getRhs())),
                shapeOf(getRhs()));
  return success();
}

Value MinimumOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::MinimumFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult MinimumOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  Value lhs = getLhs(), rhs = getRhs();
  selectionAdjoint(g, grads[0], lhs, rhs, LessOp::create(g.builder(), lhs, rhs),
                   GreaterOp::create(g.builder(), lhs, rhs), needed,
                   operandGrads);
  return success();
}

Value MaximumOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::MaximumFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult MaximumOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  GradientBuilder g(builder, getLoc());
  Value lhs = getLhs(), rhs = getRhs();
  selectionAdjoint(g, grads[0], lhs, rhs,
                   GreaterOp::create(g.builder(), lhs, rhs),
                   LessOp::create(g.builder(), lhs, rhs), needed, operandGrads);
  return success();
}

Value PowOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::PowFOp::create(builder, loc, a[0], a[1]);
}

LogicalResult PowOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  // d x^y = y x^(y-1) dx + x^y log(x) dy. As PyTorch, dx is 0 where y = 0
  // and dy where x = 0 <= y, which keeps 0 * inf out of them.
  GradientBuilder g(builder, getLoc());
  ImplicitLocOpBuilder &b = g.builder();
  Value x = getLhs(), y = getRhs(), zero = g.scalar(0, x);
  if (needed[0]) {
    Value power = PowOp::create(b, x, g.sub(y, g.scalar(1, y)));
    operandGrads[0] = g.sumTo(g.where(EqualOp::create(b, y, zero), zero,
                                      g.mul(grads[0], g.mul(y, power))),
                              shapeOf(x));
  }
  if (needed[1]) {
    Value base0 =
        g.mul(EqualOp::create(b, x, zero), GreaterEqualOp::create(b, y, zero));
    Value logX = LogOp::create(b, x);
    operandGrads[1] =
        g.sumTo(g.where(base0, zero, g.mul(grads[0], g.mul(getResult(), logX))),
                shapeOf(y));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Comparisons and selection
//===----------------------------------------------------------------------===//

// Comparisons are piecewise constant: their gradient is zero, so they give
// none.
#define KILN_COMPARISON(Op, predicate)                                         \
  Value Op::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {      \
    ImplicitLocOpBuilder b(loc, builder);                                      \
    return compare(b, arith::CmpFPredicate::predicate, a);                     \
  }                                                                            \
  LogicalResult Op::buildAdjoint(OpBuilder &, ArrayRef<Value>, ArrayRef<bool>, \
                                 SmallVectorImpl<Value> &) {                   \
    return success();                                                          \
  }
KILN_COMPARISON(GreaterOp, OGT)
KILN_COMPARISON(LessOp, OLT)
KILN_COMPARISON(GreaterEqualOp, OGE)
KILN_COMPARISON(LessEqualOp, OLE)
KILN_COMPARISON(EqualOp, OEQ)
// Unordered: NaN differs from everything, as in PyTorch.
KILN_COMPARISON(NotEqualOp, UNE)
#undef KILN_COMPARISON

Value WhereOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value chosen = arith::CmpFOp::create(b, arith::CmpFPredicate::UNE, a[0],
                                       constantLike(b, a[0], 0));
  return arith::SelectOp::create(b, chosen, a[1], a[2]);
}

LogicalResult WhereOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGrads) {
  // The condition only selects: it gets no gradient.
  GradientBuilder g(builder, getLoc());
  Value condition = getCondition(), zero = g.scalar(0, getX());
  if (needed[1])
    operandGrads[1] =
        g.sumTo(g.where(condition, grads[0], zero), shapeOf(getX()));
  if (needed[2])
    operandGrads[2] =
        g.sumTo(g.where(condition, zero, grads[0]), shapeOf(getY()));
  return success();
}

//===----------------------------------------------------------------------===//
// Functions of one tensor
//===----------------------------------------------------------------------===//

Value NegOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return arith::NegFOp::create(builder, loc, a[0]);
}

LogicalResult NegOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = GradientBuilder(builder, getLoc()).neg(grads[0]);
  return success();
}

Value ReluOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  return arith::MaximumFOp::create(b, a[0], constantLike(b, a[0], 0));
}

LogicalResult ReluOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      ReluBackwardOp::create(builder, getLoc(), grads[0], getInput());
  return success();
}

Value TanhOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::TanhOp::create(builder, loc, a[0]);
}

LogicalResult TanhOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d tanh(x) = 1 - tanh(x)^2.
  GradientBuilder g(builder, getLoc());
  Value y = getResult();
  operandGrads[0] = g.mul(grads[0], g.sub(g.scalar(1, y), g.mul(y, y)));
  return success();
}

Value SigmoidOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value e = math::ExpOp::create(b, arith::NegFOp::create(b, a[0]));
  return arith::DivFOp::create(
      b, constantLike(b, a[0], 1),
      arith::AddFOp::create(b, constantLike(b, a[0], 1), e));
}

LogicalResult SigmoidOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &operandGrads) {
  // d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)).
  GradientBuilder g(builder, getLoc());
  Value y = getResult();
  operandGrads[0] = g.mul(grads[0], g.mul(y, g.sub(g.scalar(1, y), y)));
  return success();
}

Value SiluOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value e = math::ExpOp::create(b, arith::NegFOp::create(b, a[0]));
  return arith::DivFOp::create(
      b, a[0], arith::AddFOp::create(b, constantLike(b, a[0], 1), e));
}

LogicalResult SiluOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d silu(x) = s (1 + x (1 - s)), s = sigmoid(x).
  GradientBuilder g(builder, getLoc());
  Value x = getInput();
  Value s = SigmoidOp::create(builder, getLoc(), x);
  Value one = g.scalar(1, x);
  operandGrads[0] =
      g.mul(grads[0], g.mul(s, g.add(one, g.mul(x, g.sub(one, s)))));
  return success();
}

Value ExpOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::ExpOp::create(builder, loc, a[0]);
}

LogicalResult ExpOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      GradientBuilder(builder, getLoc()).mul(grads[0], getResult());
  return success();
}

Value LogOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::LogOp::create(builder, loc, a[0]);
}

LogicalResult LogOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      GradientBuilder(builder, getLoc()).div(grads[0], getInput());
  return success();
}

Value SqrtOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::SqrtOp::create(builder, loc, a[0]);
}

LogicalResult SqrtOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  // d sqrt(x) = 1 / (2 sqrt(x)).
  GradientBuilder g(builder, getLoc());
  operandGrads[0] =
      g.div(grads[0], g.mul(getResult(), g.scalar(2, getResult())));
  return success();
}

Value AbsOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  return math::AbsFOp::create(builder, loc, a[0]);
}

LogicalResult AbsOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  // d |x| = sign(x), 0 at 0 as in PyTorch.
  GradientBuilder g(builder, getLoc());
  Value x = getInput(), zero = g.scalar(0, x);
  Value sign = g.sub(GreaterOp::create(g.builder(), x, zero),
                     LessOp::create(g.builder(), x, zero));
  operandGrads[0] = g.mul(grads[0], sign);
  return success();
}

Value LeakyReluOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value x = a[0];
  double slope = getNegativeSlope().convertToDouble();
  Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x,
                                         constantLike(b, x, 0));
  return arith::SelectOp::create(
      b, positive, x, arith::MulFOp::create(b, constantLike(b, x, slope), x));
}

LogicalResult LeakyReluOp::buildAdjoint(OpBuilder &builder,
                                        ArrayRef<Value> grads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &operandGrads) {
  // The slope at 0 is the negative one, as in PyTorch.
  GradientBuilder g(builder, getLoc());
  Value x = getInput();
  double slope = getNegativeSlope().convertToDouble();
  Value positive = GreaterOp::create(g.builder(), x, g.scalar(0, x));
  operandGrads[0] =
      g.where(positive, grads[0], g.mul(grads[0], g.scalar(slope, x)));
  return success();
}

Value EluOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value x = a[0];
  double alpha = getAlpha().convertToDouble();
  Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x,
                                         constantLike(b, x, 0));
  Value negative = arith::MulFOp::create(b, constantLike(b, x, alpha),
                                         math::ExpM1Op::create(b, x));
  return arith::SelectOp::create(b, positive, x, negative);
}

LogicalResult EluOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &operandGrads) {
  // Below 0, d elu(x) = alpha exp(x) = elu(x) + alpha, which cannot
  // overflow where it is not chosen.
  GradientBuilder g(builder, getLoc());
  Value x = getInput(), y = getResult();
  Value positive = GreaterOp::create(g.builder(), x, g.scalar(0, x));
  Value slope = g.add(y, g.scalar(getAlpha().convertToDouble(), y));
  operandGrads[0] = g.where(positive, grads[0], g.mul(grads[0], slope));
  return success();
}

Value SoftplusOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value x = a[0];
  double beta = getBeta().convertToDouble();
  Value scaled = arith::MulFOp::create(b, constantLike(b, x, beta), x);
  Value linear = arith::CmpFOp::create(
      b, arith::CmpFPredicate::OGT, scaled,
      constantLike(b, x, getThreshold().convertToDouble()));
  Value smooth = arith::DivFOp::create(
      b, math::Log1pOp::create(b, math::ExpOp::create(b, scaled)),
      constantLike(b, x, beta));
  return arith::SelectOp::create(b, linear, x, smooth);
}

LogicalResult SoftplusOp::buildAdjoint(OpBuilder &builder,
                                       ArrayRef<Value> grads,
                                       ArrayRef<bool> needed,
                                       SmallVectorImpl<Value> &operandGrads) {
  // d softplus(x) = sigmoid(beta x), and 1 where the op passes x through.
  GradientBuilder g(builder, getLoc());
  Value x = getInput();
  Value scaled = g.mul(g.scalar(getBeta().convertToDouble(), x), x);
  Value linear = GreaterOp::create(
      g.builder(), scaled, g.scalar(getThreshold().convertToDouble(), x));
  Value slope = SigmoidOp::create(g.builder(), scaled);
  operandGrads[0] = g.where(linear, grads[0], g.mul(grads[0], slope));
  return success();
}

LogicalResult SoftplusOp::verify() {
  if (getBeta().isZero())
    return emitOpError("beta must not be 0: softplus divides by it");
  return success();
}

LogicalResult ClampOp::verify() {
  if (!getMin() && !getMax())
    return emitOpError("needs a min or a max bound, or both");
  return success();
}

Value ClampOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value x = a[0];
  if (std::optional<APFloat> min = getMin())
    x = arith::MaximumFOp::create(b, x,
                                  constantLike(b, x, min->convertToDouble()));
  if (std::optional<APFloat> max = getMax())
    x = arith::MinimumFOp::create(b, x,
                                  constantLike(b, x, max->convertToDouble()));
  return x;
}

LogicalResult ClampOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGrads) {
  // The gradient passes where min <= x <= max, bounds included, as in
  // PyTorch.
  GradientBuilder g(builder, getLoc());
  ImplicitLocOpBuilder &b = g.builder();
  Value x = getInput(), inside;
  if (std::optional<APFloat> min = getMin())
    inside = GreaterEqualOp::create(b, x, g.scalar(min->convertToDouble(), x));
  if (std::optional<APFloat> max = getMax()) {
    Value below =
        LessEqualOp::create(b, x, g.scalar(max->convertToDouble(), x));
    inside = inside ? g.mul(inside, below) : below;
  }
  operandGrads[0] = g.where(inside, grads[0], g.scalar(0, x));
  return success();
}

Value ReducePrecisionOp::buildScalar(OpBuilder &builder, Location loc,
                                     ValueRange a) {
  // bfloat16 is the high half of a float32: round the low half away, to
  // nearest with ties to even, by adding 0x7FFF plus the lowest kept bit
  // and truncating. A carry into the exponent gives the next binade, or
  // infinity past the largest bfloat16; denormals round the same way. NaN
  // is passed through, since the addition could carry it into infinity.
  ImplicitLocOpBuilder b(loc, builder);
  Type i32 = b.getI32Type();
  auto constant = [&](uint32_t value) {
    return arith::ConstantOp::create(b, b.getIntegerAttr(i32, value));
  };
  Value x = a[0];
  Value bits = arith::BitcastOp::create(b, i32, x);
  Value keptLowest = arith::AndIOp::create(
      b, arith::ShRUIOp::create(b, bits, constant(16)), constant(1));
  Value biased = arith::AddIOp::create(
      b, bits, arith::AddIOp::create(b, keptLowest, constant(0x7FFF)));
  Value rounded = arith::BitcastOp::create(
      b, x.getType(), arith::AndIOp::create(b, biased, constant(0xFFFF0000u)));
  Value isNaN = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
  return arith::SelectOp::create(b, isNaN, x, rounded);
}

LogicalResult
ReducePrecisionOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                ArrayRef<bool> needed,
                                SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      ReducePrecisionOp::create(builder, getLoc(), grads[0], getPrecision());
  return success();
}

Value GeluOp::buildScalar(OpBuilder &builder, Location loc, ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value x = a[0];
  if (getApproximate() == GeluApproximation::none)
    return arith::MulFOp::create(b, x, normalCdf(b, x));
  Value t = geluTanhInner(b, x);
  Value half = arith::MulFOp::create(b, constantLike(b, x, 0.5), x);
  return arith::MulFOp::create(
      b, half, arith::AddFOp::create(b, constantLike(b, x, 1), t));
}

LogicalResult GeluOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                                   ArrayRef<bool> needed,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] = GeluBackwardOp::create(builder, getLoc(), grads[0],
                                           getInput(), getApproximate());
  return success();
}

//===----------------------------------------------------------------------===//
// Gradients of activations
//===----------------------------------------------------------------------===//

Value ReluBackwardOp::buildScalar(OpBuilder &builder, Location loc,
                                  ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, a[1],
                                         constantLike(b, a[1], 0));
  return arith::SelectOp::create(b, positive, a[0], constantLike(b, a[0], 0));
}

Value GeluBackwardOp::buildScalar(OpBuilder &builder, Location loc,
                                  ValueRange a) {
  ImplicitLocOpBuilder b(loc, builder);
  Value g = a[0], x = a[1];
  auto c = [&](double v) { return constantLike(b, x, v); };
  Value derivative;
  if (getApproximate() == GeluApproximation::none) {
    // Phi(x) + x phi(x).
    Value square = arith::MulFOp::create(b, x, x);
    Value density = arith::MulFOp::create(
        b, c(1 / std::sqrt(2 * M_PI)),
        math::ExpOp::create(b, arith::MulFOp::create(b, c(-0.5), square)));
    derivative = arith::AddFOp::create(b, normalCdf(b, x),
                                       arith::MulFOp::create(b, x, density));
  } else {
    // d/dx 0.5 x (1 + t)
    //   = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 0.044715 x^2).
    Value t = geluTanhInner(b, x);
    Value square = arith::MulFOp::create(b, x, x);
    Value left =
        arith::MulFOp::create(b, c(0.5), arith::AddFOp::create(b, c(1), t));
    Value sech2 =
        arith::SubFOp::create(b, c(1), arith::MulFOp::create(b, t, t));
    Value inner = arith::MulFOp::create(
        b, c(std::sqrt(2 / M_PI)),
        arith::AddFOp::create(
            b, c(1), arith::MulFOp::create(b, c(3 * 0.044715), square)));
    Value right = arith::MulFOp::create(
        b, arith::MulFOp::create(b, arith::MulFOp::create(b, c(0.5), x), sech2),
        inner);
    derivative = arith::AddFOp::create(b, left, right);
  }
  return arith::MulFOp::create(b, g, derivative);
}

//===----------------------------------------------------------------------===//
// Broadcasting
//===----------------------------------------------------------------------===//

Value BroadcastToOp::buildScalar(OpBuilder &, Location, ValueRange a) {
  // The broadcast is in the indexing: each element is its input's.
  return a[0];
}

LogicalResult
BroadcastToOp::buildAdjoint(OpBuilder &builder, ArrayRef<Value> grads,
                            ArrayRef<bool> needed,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads[0] =
      GradientBuilder(builder, getLoc()).sumTo(grads[0], shapeOf(getInput()));
  return success();
}
