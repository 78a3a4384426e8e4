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
