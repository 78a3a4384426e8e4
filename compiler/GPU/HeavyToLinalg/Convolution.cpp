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

using Coordinate = std::pair<Value, Value> (*)(ImplicitLocOpBuilder &, Value,
                                               Value, int64_t, int64_t,
                                               int64_t, int64_t);

/// Where a convolution's loop nest reads the tensor that it reads with index
/// arithmetic: the loops of its batch and channel dimensions, and for rows
/// and columns a position loop and a kernel loop that `coordinate` combines.
struct Tap {
  Coordinate coordinate;
  unsigned batch, channel, row, kernelRow, column, kernelColumn;
};

/// `source` at the tap's position, or 0 where that falls outside `size`
/// (the source's height and width) or, for strided gradients, between rows.
Value readTap(ImplicitLocOpBuilder &b, Value source, const Tap &tap,
              ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
              ArrayRef<int64_t> dilation, ArrayRef<int64_t> size) {
  auto [row, validRow] =
      tap.coordinate(b, loopIndex(b, tap.row), loopIndex(b, tap.kernelRow),
                     stride[0], padding[0], dilation[0], size[0]);
  auto [column, validColumn] = tap.coordinate(
      b, loopIndex(b, tap.column), loopIndex(b, tap.kernelColumn), stride[1],
      padding[1], dilation[1], size[1]);
  Value valid = arith::AndIOp::create(b, validRow, validColumn);
  return readOr(b, source,
                {loopIndex(b, tap.batch), loopIndex(b, tap.channel), row, column},
                valid, 0);
}

/// The generic of a convolution or of one of its gradients: `init` plus the
/// sum, over the three reduced loops, of `operand` (read through its map,
/// the loops `operandDims`) times the tap of `source`.
Value convolutionGeneric(ImplicitLocOpBuilder &b, Value operand,
                         ArrayRef<unsigned> operandDims, Value init,
                         Value source, const Tap &tap, ArrayRef<int64_t> stride,
                         ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation) {
  MLIRContext *context = b.getContext();
  ArrayRef<int64_t> size = shapeOf(source).drop_front(2);
  return generic(b, operand, init,
                 {dims(context, operandDims), dims(context, {0, 1, 2, 3})},
                 convolutionIterators(),
                 [&](ImplicitLocOpBuilder &body, ValueRange a) -> Value {
                   Value value = readTap(body, source, tap, stride, padding,
                                         dilation, size);
                   return arith::AddFOp::create(
                       body, a[1], arith::MulFOp::create(body, value, a[0]));
                 });
}

} // namespace

LogicalResult heavy::lowerConv2D(Conv2DOp op, RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(op.getType());
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
      op, convolutionGeneric(b, op.getWeight(), {1, 4, 5, 6}, init,
                             op.getInput(),
                             Tap{inputCoordinate, 0, 4, 2, 5, 3, 6},
                             op.getStride(), op.getPadding(), op.getDilation()));
  return success();
}

LogicalResult heavy::lowerConv2DBackwardInput(Conv2DBackwardInputOp op,
                                              RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value init = filled(b, type.getShape(), type.getElementType(), 0);
  // (n, c, h, w, o, kh, kw)
  rewriter.replaceOp(
      op, convolutionGeneric(b, op.getWeight(), {4, 1, 5, 6}, init,
                             op.getGrad(),
                             Tap{outputCoordinate, 0, 4, 2, 5, 3, 6},
                             op.getStride(), op.getPadding(), op.getDilation()));
  return success();
}

LogicalResult heavy::lowerConv2DBackwardWeight(Conv2DBackwardWeightOp op,
                                               RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value init = filled(b, type.getShape(), type.getElementType(), 0);
  // (o, c, kh, kw, n, oh, ow)
  rewriter.replaceOp(
      op, convolutionGeneric(b, op.getGrad(), {4, 0, 5, 6}, init,
                             op.getInput(),
                             Tap{inputCoordinate, 4, 1, 5, 2, 6, 3},
                             op.getStride(), op.getPadding(), op.getDilation()));
  return success();
}
