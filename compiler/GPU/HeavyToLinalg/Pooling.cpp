//===- Pooling.cpp - 2-D pooling and its gradients as linalg --------------===//
//
// Windows are small, so each result element walks its window (or, for the
// gradients, the windows that cover it) in straight-line code in the body
// of an elementwise linalg.generic over the result: one thread per element
// on the GPU, no scatter, no atomics.
//
//===----------------------------------------------------------------------===//

#include "HeavyToLinalg/Heavy.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::heavy;

namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

/// The geometry of a pooling: input [N, C, H, W], output [N, C, OH, OW].
struct Pooling {
  ArrayRef<int64_t> input, output, kernel, stride, padding;

  /// The input coordinate of tap `k` of window `out` along dimension `d`
  /// (0: rows, 1: columns).
  Value tap(ImplicitLocOpBuilder &b, Value out, int64_t k, int d) const {
    return addIndex(b, mulIndex(b, out, stride[d]), k - padding[d]);
  }
};

/// An elementwise linalg.generic over a fresh tensor of `type` whose body
/// computes each element from the loop indices (n, c, y, x).
Value overResult(ImplicitLocOpBuilder &b, RankedTensorType type,
                 function_ref<Value(ImplicitLocOpBuilder &, ValueRange)> body) {
  Value empty =
      tensor::EmptyOp::create(b, type.getShape(), type.getElementType());
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  return generic(b, {}, empty, {b.getMultiDimIdentityMap(4)}, iterators,
                 [&](ImplicitLocOpBuilder &in, ValueRange) -> Value {
                   SmallVector<Value> indices;
                   for (unsigned d = 0; d < 4; ++d)
                     indices.push_back(linalg::IndexOp::create(in, d));
                   return body(in, indices);
                 });
}

/// a > b, where NaN is greater than any number (as the reference's rule).
Value isGreater(ImplicitLocOpBuilder &b, Value x, Value y) {
  Value greater = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, y);
  Value xNaN = arith::CmpFOp::create(b, arith::CmpFPredicate::UNO, x, x);
  Value yNumber = arith::CmpFOp::create(b, arith::CmpFPredicate::ORD, y, y);
  return arith::OrIOp::create(b, greater,
                              arith::AndIOp::create(b, xNaN, yNumber));
}

/// The first maximum of window (oy, ox) of plane (n, c) of `input`: its
/// value and input coordinates.
struct WindowMax {
  Value value, row, column;
};

WindowMax windowMax(ImplicitLocOpBuilder &b, const Pooling &p, Value input,
                    Value n, Value c, Value oy, Value ox) {
  Value best = arith::ConstantOp::create(
      b, b.getFloatAttr(cast<RankedTensorType>(input.getType()).getElementType(),
                        kMinusInfinity));
  Value bestRow = index(b, -1), bestColumn = index(b, -1);
  Value found = arith::ConstantOp::create(b, b.getBoolAttr(false));
  for (int64_t i = 0; i < p.kernel[0]; ++i) {
    Value row = p.tap(b, oy, i, 0);
    Value rowValid = inRange(b, row, p.input[2]);
    for (int64_t j = 0; j < p.kernel[1]; ++j) {
      Value column = p.tap(b, ox, j, 1);
      Value valid =
          arith::AndIOp::create(b, rowValid, inRange(b, column, p.input[3]));
      Value value = readOr(b, input, {n, c, row, column}, valid, kMinusInfinity);
      Value notFound = arith::XOrIOp::create(
          b, found, arith::ConstantOp::create(b, b.getBoolAttr(true)));
      Value take = arith::AndIOp::create(
          b, valid,
          arith::OrIOp::create(b, notFound, isGreater(b, value, best)));
      best = arith::SelectOp::create(b, take, value, best);
      bestRow = arith::SelectOp::create(b, take, row, bestRow);
      bestColumn = arith::SelectOp::create(b, take, column, bestColumn);
      found = arith::OrIOp::create(b, found, valid);
    }
  }
  return {best, bestRow, bestColumn};
}

/// What avg_pool2d divides window (oy, ox) by: the kernel's size, or the
/// number of its taps inside the input.
Value divisor(ImplicitLocOpBuilder &b, const Pooling &p, Value oy, Value ox,
              bool countIncludePad, Type element) {
  if (countIncludePad)
    return arith::ConstantOp::create(
        b, b.getFloatAttr(element, static_cast<double>(p.kernel[0] * p.kernel[1])));
  auto extent = [&](Value out, int d, int64_t size) {
    Value first = p.tap(b, out, 0, d);
    Value end = addIndex(b, first, p.kernel[d]);
    Value low = arith::MaxSIOp::create(b, first, index(b, 0));
    Value high = arith::MinSIOp::create(b, end, index(b, size));
    return arith::SubIOp::create(b, high, low);
  };
  Value count = arith::MulIOp::create(b, extent(oy, 0, p.input[2]),
                                      extent(ox, 1, p.input[3]));
  Value integer = arith::IndexCastOp::create(b, b.getI64Type(), count);
  return arith::SIToFPOp::create(b, element, integer);
}

/// Calls fn(oy, ox, valid) for every window that may cover input position
/// (y, x): tap (i, j) of window ((y + pad - i) / stride, ...) when that
/// divides exactly and lies in the output.
void forEachCoveringWindow(
    ImplicitLocOpBuilder &b, const Pooling &p, Value y, Value x,
    function_ref<void(Value, Value, Value)> fn) {
  auto window = [&](Value in, int64_t k, int d) -> std::pair<Value, Value> {
    Value shifted = addIndex(b, in, p.padding[d] - k);
    Value valid = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, shifted,
                                        index(b, 0));
    Value out = shifted;
    if (p.stride[d] != 1) {
      Value remainder = arith::RemSIOp::create(b, shifted, index(b, p.stride[d]));
      valid = arith::AndIOp::create(
          b, valid,
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, remainder,
                                index(b, 0)));
      out = arith::DivSIOp::create(b, shifted, index(b, p.stride[d]));
    }
    valid = arith::AndIOp::create(b, valid, inRange(b, out, p.output[2 + d]));
    // Clamped, so that the window's own reads stay inside the tensors.
    Value low = arith::MaxSIOp::create(b, out, index(b, 0));
    out = arith::MinSIOp::create(b, low, index(b, p.output[2 + d] - 1));
    return {out, valid};
  };
  for (int64_t i = 0; i < p.kernel[0]; ++i) {
    auto [oy, validY] = window(y, i, 0);
    for (int64_t j = 0; j < p.kernel[1]; ++j) {
      auto [ox, validX] = window(x, j, 1);
      fn(oy, ox, arith::AndIOp::create(b, validY, validX));
    }
  }
}

} // namespace

LogicalResult heavy::lowerMaxPool2D(MaxPool2DOp op, RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value input = op.getInput();
  Pooling p{shapeOf(input), type.getShape(), op.getKernel(),
            op.getEffectiveStride(), op.getPadding()};
  rewriter.replaceOp(op, overResult(b, type,
                                    [&](ImplicitLocOpBuilder &in, ValueRange i) {
                                      return windowMax(in, p, input, i[0], i[1],
                                                       i[2], i[3])
                                          .value;
                                    }));
  return success();
}

LogicalResult heavy::lowerAvgPool2D(AvgPool2DOp op, RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value input = op.getInput();
  Pooling p{shapeOf(input), type.getShape(), op.getKernel(),
            op.getEffectiveStride(), op.getPadding()};
  bool includePad = op.getCountIncludePad();
  rewriter.replaceOp(
      op, overResult(b, type, [&](ImplicitLocOpBuilder &in, ValueRange i) {
        Value sum = arith::ConstantOp::create(
            in, in.getFloatAttr(type.getElementType(), 0));
        for (int64_t ky = 0; ky < p.kernel[0]; ++ky) {
          Value row = p.tap(in, i[2], ky, 0);
          for (int64_t kx = 0; kx < p.kernel[1]; ++kx) {
            Value column = p.tap(in, i[3], kx, 1);
            Value valid = arith::AndIOp::create(
                in, inRange(in, row, p.input[2]), inRange(in, column, p.input[3]));
            sum = arith::AddFOp::create(
                in, sum, readOr(in, input, {i[0], i[1], row, column}, valid, 0));
          }
        }
        return arith::DivFOp::create(
            in, sum,
            divisor(in, p, i[2], i[3], includePad, type.getElementType()));
      }));
  return success();
}

LogicalResult heavy::lowerMaxPool2DBackward(MaxPool2DBackwardOp op,
                                            RewriterBase &rewriter) {
  // Input position (y, x) gets the gradient of every window whose first
  // maximum it is.
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value input = op.getInput(), grad = op.getGrad();
  ArrayRef<int64_t> kernel = op.getKernel();
  Pooling p{shapeOf(input), shapeOf(grad), kernel,
            op.getStride().value_or(kernel), op.getPadding()};
  rewriter.replaceOp(
      op, overResult(b, type, [&](ImplicitLocOpBuilder &in, ValueRange i) {
        Value sum = arith::ConstantOp::create(
            in, in.getFloatAttr(type.getElementType(), 0));
        forEachCoveringWindow(in, p, i[2], i[3], [&](Value oy, Value ox,
                                                     Value valid) {
          WindowMax max = windowMax(in, p, input, i[0], i[1], oy, ox);
          Value here = arith::AndIOp::create(
              in,
              arith::CmpIOp::create(in, arith::CmpIPredicate::eq, max.row, i[2]),
              arith::CmpIOp::create(in, arith::CmpIPredicate::eq, max.column,
                                    i[3]));
          Value take = arith::AndIOp::create(in, valid, here);
          sum = arith::AddFOp::create(
              in, sum, readOr(in, grad, {i[0], i[1], oy, ox}, take, 0));
        });
        return sum;
      }));
  return success();
}

LogicalResult heavy::lowerAvgPool2DBackward(AvgPool2DBackwardOp op,
                                            RewriterBase &rewriter) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto type = cast<RankedTensorType>(op.getType());
  Value grad = op.getGrad();
  ArrayRef<int64_t> kernel = op.getKernel();
  Pooling p{type.getShape(), shapeOf(grad), kernel,
            op.getStride().value_or(kernel), op.getPadding()};
  bool includePad = op.getCountIncludePad();
  rewriter.replaceOp(
      op, overResult(b, type, [&](ImplicitLocOpBuilder &in, ValueRange i) {
        Value sum = arith::ConstantOp::create(
            in, in.getFloatAttr(type.getElementType(), 0));
        forEachCoveringWindow(in, p, i[2], i[3], [&](Value oy, Value ox,
                                                     Value valid) {
          Value share = arith::DivFOp::create(
              in, readOr(in, grad, {i[0], i[1], oy, ox}, valid, 0),
              divisor(in, p, oy, ox, includePad, type.getElementType()));
          sum = arith::AddFOp::create(in, sum, share);
        });
        return sum;
      }));
  return success();
}
