//===- Convolution.cpp - conv2d and its gradients as linalg ---------------===//
//
// Each is one linalg.generic whose summed dimensions are reductions: the
// weight (or, for the weight's gradient, the result's gradient) is an
// operand read through its indexing map, the other tensor is read with
// bounds-checked index arithmetic (padding reads zeros).
//
//===----------------------------------------------------------------------===//

#include "HeavyToLinalg/Heavy.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::heavy;

namespace {

using utils::IteratorType;

/// The 7-dimensional iteration space: four parallel dimensions, then three
/// reductions.
SmallVector<IteratorType> convolutionIterators() {
  SmallVector<IteratorType> iterators(4, IteratorType::parallel);
  iterators.append(3, IteratorType::reduction);
  return iterators;
}

AffineMap dims(MLIRContext *context, ArrayRef<unsigned> positions) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : positions)
    exprs.push_back(getAffineDimExpr(d, context));
  return AffineMap::get(7, 0, exprs, context);
}

Value loopIndex(ImplicitLocOpBuilder &b, unsigned d) {
  return linalg::IndexOp::create(b, d);
}

/// The input coordinate out * stride - padding + kernel * dilation, and
/// whether it lies inside [0, size).
std::pair<Value, Value> inputCoordinate(ImplicitLocOpBuilder &b, Value out,
                                        Value kernel, int64_t stride,
                                        int64_t padding, int64_t dilation,
                                        int64_t size) {
  Value coordinate = addIndex(b, mulIndex(b, out, stride),
                              mulIndex(b, kernel, dilation));
  coordinate = addIndex(b, coordinate, -padding);
  return {coordinate, inRange(b, coordinate, size)};
}

/// The output coordinate whose window reads input position `in` through
/// kernel position `kernel`, and whether there is one.
std::pair<Value, Value> outputCoordinate(ImplicitLocOpBuilder &b, Value in,
                                         Value kernel, int64_t stride,
                                         int64_t padding, int64_t dilation,
                                         int64_t size) {
  Value shifted = arith::SubIOp::create(b, addIndex(b, in, padding),
                                        mulIndex(b, kernel, dilation));
  Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, shifted,
                                      index(b, 0));
  Value out = shifted;
  if (stride != 1) {
    Value remainder = arith::RemSIOp::create(b, shifted, index(b, stride));
    valid = arith::AndIOp::create(
        b, valid,
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, remainder,
                              index(b, 0)));
    out = arith::DivSIOp::create(b, shifted, index(b, stride));
  }
  valid = arith::AndIOp::create(
      b, valid,
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, out, index(b, size)));
  return {out, valid};
}

Value multiplyAdd(ImplicitLocOpBuilder &b, Value acc, Value x, Value y) {
  return arith::AddFOp::create(b, acc, arith::MulFOp::create(b, x, y));
}

} // namespace

LogicalResult heavy::lowerConv2D(Conv2DOp op, RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  Value x = op.getInput(), w = op.getWeight();
  auto type = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> in = shapeOf(x);
  ArrayRef<int64_t> stride = op.getStride(), padding = op.getPadding(),
                    dilation = op.getDilation();
  // The result starts as the bias, so that adding it costs no kernel.
  Value init;
  if (Value bias = op.getBias()) {
    Value empty = tensor::EmptyOp::create(b, type.getShape(),
                                          type.getElementType());
    AffineMap rank4 = b.getMultiDimIdentityMap(4);
    init = linalg::GenericOp::create(
               b, type, bias, empty,
               {AffineMap::get(4, 0, {getAffineDimExpr(1, context)}, context),
                rank4},
               SmallVector<IteratorType>(4, IteratorType::parallel),
               [](OpBuilder &nested, Location loc, ValueRange a) {
                 linalg::YieldOp::create(nested, loc, a[0]);
               })
               .getResult(0);
  } else {
    init = filled(b, type.getShape(), type.getElementType(), 0);
  }
  // (n, o, oh, ow, c, kh, kw)
  rewriter.replaceOp(
      op, generic(b, w, init,
                  {dims(context, {1, 4, 5, 6}), dims(context, {0, 1, 2, 3})},
                  convolutionIterators(),
                  [&](ImplicitLocOpBuilder &in_, ValueRange a) -> Value {
                    auto [ih, validH] = inputCoordinate(
                        in_, loopIndex(in_, 2), loopIndex(in_, 5), stride[0],
                        padding[0], dilation[0], in[2]);
                    auto [iw, validW] = inputCoordinate(
                        in_, loopIndex(in_, 3), loopIndex(in_, 6), stride[1],
                        padding[1], dilation[1], in[3]);
                    Value valid = arith::AndIOp::create(in_, validH, validW);
                    Value value = readOr(
                        in_, x, {loopIndex(in_, 0), loopIndex(in_, 4), ih, iw},
                        valid, 0);
                    return multiplyAdd(in_, a[1], value, a[0]);
                  }));
  return success();
}

LogicalResult heavy::lowerConv2DBackwardInput(Conv2DBackwardInputOp op,
                                              RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  Value dy = op.getGrad(), w = op.getWeight();
  auto type = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> out = shapeOf(dy);
  ArrayRef<int64_t> stride = op.getStride(), padding = op.getPadding(),
                    dilation = op.getDilation();
  Value init = filled(b, type.getShape(), type.getElementType(), 0);
  // (n, c, h, w, o, kh, kw)
  rewriter.replaceOp(
      op, generic(b, w, init,
                  {dims(context, {4, 1, 5, 6}), dims(context, {0, 1, 2, 3})},
                  convolutionIterators(),
                  [&](ImplicitLocOpBuilder &in, ValueRange a) -> Value {
                    auto [oh, validH] = outputCoordinate(
                        in, loopIndex(in, 2), loopIndex(in, 5), stride[0],
                        padding[0], dilation[0], out[2]);
                    auto [ow, validW] = outputCoordinate(
                        in, loopIndex(in, 3), loopIndex(in, 6), stride[1],
                        padding[1], dilation[1], out[3]);
                    Value valid = arith::AndIOp::create(in, validH, validW);
                    Value grad = readOr(
                        in, dy, {loopIndex(in, 0), loopIndex(in, 4), oh, ow},
                        valid, 0);
                    return multiplyAdd(in, a[1], grad, a[0]);
                  }));
  return success();
}

LogicalResult heavy::lowerConv2DBackwardWeight(Conv2DBackwardWeightOp op,
                                               RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  Value dy = op.getGrad(), x = op.getInput();
  auto type = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> in = shapeOf(x);
  ArrayRef<int64_t> stride = op.getStride(), padding = op.getPadding(),
                    dilation = op.getDilation();
  Value init = filled(b, type.getShape(), type.getElementType(), 0);
  // (o, c, kh, kw, n, oh, ow)
  rewriter.replaceOp(
      op, generic(b, dy, init,
                  {dims(context, {4, 0, 5, 6}), dims(context, {0, 1, 2, 3})},
                  convolutionIterators(),
                  [&](ImplicitLocOpBuilder &in_, ValueRange a) -> Value {
                    auto [ih, validH] = inputCoordinate(
                        in_, loopIndex(in_, 5), loopIndex(in_, 2), stride[0],
                        padding[0], dilation[0], in[2]);
                    auto [iw, validW] = inputCoordinate(
                        in_, loopIndex(in_, 6), loopIndex(in_, 3), stride[1],
                        padding[1], dilation[1], in[3]);
                    Value valid = arith::AndIOp::create(in_, validH, validW);
                    Value value = readOr(
                        in_, x, {loopIndex(in_, 4), loopIndex(in_, 1), ih, iw},
                        valid, 0);
                    return multiplyAdd(in_, a[1], a[0], value);
                  }));
  return success();
}
