//===- RefMath.cpp - Reference semantics of math, softmax and reductions --===//
//
// Elementwise functions (with broadcasting) and their gradients, softmax and
// log-softmax with theirs, reductions, argmax and matmul.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// `fn` applied to each element of the op's input.
template <typename Op, typename Fn>
LogicalResult unary(Op op, Frame &frame, Fn fn) {
  Tensor result = frame[op.getInput()];
  for (double &x : result.reals)
    x = fn(x);
  frame.set(op.getResult(), std::move(result));
  return success();
}

/// `fn` applied elementwise to the op's operands, broadcast against each
/// other.
template <typename Op, typename Fn>
LogicalResult binary(Op op, Frame &frame, Fn fn) {
  const Tensor &lhs = frame[op.getLhs()], &rhs = frame[op.getRhs()];
  Shape shape = broadcastShapes(lhs.shape, rhs.shape);
  Tensor result = zeros(shape);
  for (int64_t j = 0, e = product(shape); j < e; ++j) {
    Shape index = unflatten(j, shape);
    result.reals[j] = fn(lhs.reals[broadcastSource(index, lhs.shape)],
                         rhs.reals[broadcastSource(index, rhs.shape)]);
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

/// The smaller (`min`) or larger of a and b; NaN if either is, as PyTorch.
double minOrMax(double a, double b, bool min) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  return min ? std::min(a, b) : std::max(a, b);
}

/// `x` rounded to the nearest bfloat16, ties to even, from its exact value
/// (a double, so once, where the compiled f32 code rounds the float).
double roundToBFloat16(double x) {
  if (!std::isfinite(x) || x == 0)
    return x;
  // 8 significant bits; below the smallest normal (2^-126), denormals'
  // fixed spacing of 2^-133.
  int exponent;
  std::frexp(x, &exponent);
  double spacing = std::ldexp(1.0, std::max(exponent - 8, -133));
  double rounded = std::nearbyint(x / spacing) * spacing;
  // Rounding up to 2^128 is past the largest bfloat16.
  if (std::fabs(rounded) >= std::ldexp(1.0, 128))
    return std::copysign(std::numeric_limits<double>::infinity(), x);
  return rounded;
}

/// `fn(grad, x)` for each element of the gradient op's `grad` and `input`,
/// which have one shape.
template <typename Op, typename Fn>
LogicalResult unaryBackward(Op op, Frame &frame, Fn fn) {
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  Tensor result = zeros(input.shape);
  for (int64_t j = 0, e = input.numElements(); j < e; ++j)
    result.reals[j] = fn(grad.reals[j], input.reals[j]);
  frame.set(op.getResult(), std::move(result));
  return success();
}

/// Softmax (or log-softmax) of each line of `input` along `axis`.
Tensor softmax(const Tensor &input, int64_t axis, bool log) {
  AxisView view(input.shape, normalizeAxis(axis, input.shape.size()));
  Tensor result = input;
  for (int64_t o = 0; o < view.outer; ++o) {
    for (int64_t i = 0; i < view.inner; ++i) {
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t a = 0; a < view.size; ++a)
        max = std::max(max, input.reals[view.at(o, a, i)]);
      double sum = 0;
      for (int64_t a = 0; a < view.size; ++a)
        sum += std::exp(input.reals[view.at(o, a, i)] - max);
      for (int64_t a = 0; a < view.size; ++a) {
        double shifted = input.reals[view.at(o, a, i)] - max;
        result.reals[view.at(o, a, i)] =
            log ? shifted - std::log(sum) : std::exp(shifted) / sum;
      }
    }
  }
  return result;
}

/// The gradient of softmax, y * (g - sum(g * y)), or of log-softmax,
/// g - exp(y) * sum(g), from the forward's output y; sums along the axis.
template <typename Op>
LogicalResult softmaxBackward(Op op, Frame &frame, bool log) {
  const Tensor &grad = frame[op.getGrad()], &output = frame[op.getOutput()];
  AxisView view(output.shape, normalizeAxis(op.getAxis(), output.shape.size()));
  Tensor result = zeros(output.shape);
  for (int64_t o = 0; o < view.outer; ++o) {
    for (int64_t i = 0; i < view.inner; ++i) {
      double sum = 0;
      for (int64_t a = 0; a < view.size; ++a) {
        int64_t j = view.at(o, a, i);
        sum += log ? grad.reals[j] : grad.reals[j] * output.reals[j];
      }
      for (int64_t a = 0; a < view.size; ++a) {
        int64_t j = view.at(o, a, i);
        double g = grad.reals[j], y = output.reals[j];
        result.reals[j] = log ? g - std::exp(y) * sum : y * (g - sum);
      }
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

/// The groups of elements that a reduction over `axes` combines. Group g is
/// element g of the result, with or without keep_dims: the reduced axes,
/// given size 1, leave the row-major order of the others unchanged.
struct Groups {
  Groups(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes)
      : input(shape), kept(shape) {
    for (int64_t axis : axes) {
      int64_t d = normalizeAxis(axis, shape.size());
      size *= kept[d];
      kept[d] = 1;
    }
  }

  /// The group of input element j.
  int64_t of(int64_t j) const {
    Shape index = unflatten(j, input);
    for (size_t d = 0; d < index.size(); ++d)
      if (kept[d] == 1)
        index[d] = 0;
    return flatten(index, kept);
  }

  int64_t count() const { return product(kept); }

  Shape input, kept;
  /// The number of elements of each group.
  int64_t size = 1;
};

/// Folds the elements of each group of the op's input with `combine`,
/// starting from `initial`; `finish` then sees each group's total and its
/// number of elements.
template <typename Op, typename Combine, typename Finish>
LogicalResult reduce(Op op, Frame &frame, double initial, Combine combine,
                     Finish finish) {
  const Tensor &input = frame[op.getInput()];
  Groups groups(input.shape, op.getAxes());
  std::vector<double> totals(groups.count(), initial);
  for (int64_t j = 0, e = input.numElements(); j < e; ++j) {
    double &total = totals[groups.of(j)];
    total = combine(total, input.reals[j]);
  }
  for (double &total : totals)
    total = finish(total, groups.size);
  frame.set(op.getResult(),
            Tensor::real(shapeOf(op.getResult()), std::move(totals)));
  return success();
}

double maxOf(double total, double x) { return isGreater(x, total) ? x : total; }

double keepTotal(double total, int64_t) { return total; }

} // namespace

static LogicalResult evaluateOp(AddOp op, Frame &frame) {
  return binary(op, frame, [](double a, double b) { return a + b; });
}

static LogicalResult evaluateOp(SubOp op, Frame &frame) {
  return binary(op, frame, [](double a, double b) { return a - b; });
}

static LogicalResult evaluateOp(MulOp op, Frame &frame) {
  return binary(op, frame, [](double a, double b) { return a * b; });
}

static LogicalResult evaluateOp(DivOp op, Frame &frame) {
  return binary(op, frame, [](double a, double b) { return a / b; });
}

static LogicalResult evaluateOp(MinimumOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return minOrMax(a, b, true); });
}

static LogicalResult evaluateOp(MaximumOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return minOrMax(a, b, false); });
}

static LogicalResult evaluateOp(PowOp op, Frame &frame) {
  return binary(op, frame, [](double a, double b) { return std::pow(a, b); });
}

static LogicalResult evaluateOp(GreaterOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a > b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(LessOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a < b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(GreaterEqualOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a >= b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(LessEqualOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a <= b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(EqualOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a == b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(NotEqualOp op, Frame &frame) {
  return binary(op, frame,
                [](double a, double b) { return a != b ? 1.0 : 0.0; });
}

static LogicalResult evaluateOp(WhereOp op, Frame &frame) {
  const Tensor &condition = frame[op.getCondition()], &x = frame[op.getX()],
               &y = frame[op.getY()];
  Shape shape =
      broadcastShapes(broadcastShapes(condition.shape, x.shape), y.shape);
  Tensor result = zeros(shape);
  for (int64_t j = 0, e = product(shape); j < e; ++j) {
    Shape index = unflatten(j, shape);
    result.reals[j] =
        condition.reals[broadcastSource(index, condition.shape)] != 0
            ? x.reals[broadcastSource(index, x.shape)]
            : y.reals[broadcastSource(index, y.shape)];
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(NegOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return -x; });
}

static LogicalResult evaluateOp(ReluOp op, Frame &frame) {
  // NaN stays NaN, as in PyTorch.
  return unary(op, frame, [](double x) { return x < 0 ? 0.0 : x; });
}

static LogicalResult evaluateOp(ReluBackwardOp op, Frame &frame) {
  return unaryBackward(op, frame,
                       [](double g, double x) { return x > 0 ? g : 0.0; });
}

static LogicalResult evaluateOp(TanhOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return std::tanh(x); });
}

static LogicalResult evaluateOp(SigmoidOp op, Frame &frame) {
  return unary(op, frame, logistic);
}

static LogicalResult evaluateOp(SiluOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return x * logistic(x); });
}

static LogicalResult evaluateOp(ExpOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return std::exp(x); });
}

static LogicalResult evaluateOp(LogOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return std::log(x); });
}

static LogicalResult evaluateOp(SqrtOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return std::sqrt(x); });
}

static LogicalResult evaluateOp(AbsOp op, Frame &frame) {
  return unary(op, frame, [](double x) { return std::fabs(x); });
}

static LogicalResult evaluateOp(ReducePrecisionOp op, Frame &frame) {
  return unary(op, frame, roundToBFloat16);
}

static LogicalResult evaluateOp(LeakyReluOp op, Frame &frame) {
  double slope = op.getNegativeSlope().convertToDouble();
  return unary(op, frame, [&](double x) { return x > 0 ? x : slope * x; });
}

static LogicalResult evaluateOp(EluOp op, Frame &frame) {
  double alpha = op.getAlpha().convertToDouble();
  return unary(op, frame,
               [&](double x) { return x > 0 ? x : alpha * std::expm1(x); });
}

static LogicalResult evaluateOp(SoftplusOp op, Frame &frame) {
  double beta = op.getBeta().convertToDouble();
  double threshold = op.getThreshold().convertToDouble();
  return unary(op, frame, [&](double x) {
    return beta * x > threshold ? x : std::log1p(std::exp(beta * x)) / beta;
  });
}

static LogicalResult evaluateOp(ClampOp op, Frame &frame) {
  std::optional<APFloat> min = op.getMin(), max = op.getMax();
  // std::max and std::min keep a NaN first argument, as PyTorch keeps NaN.
  return unary(op, frame, [&](double x) {
    if (min)
      x = std::max(x, min->convertToDouble());
    if (max)
      x = std::min(x, max->convertToDouble());
    return x;
  });
}

static LogicalResult evaluateOp(GeluOp op, Frame &frame) {
  if (op.getApproximate() == GeluApproximation::tanh)
    return unary(op, frame, [](double x) {
      double inner = std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x);
      return 0.5 * x * (1 + std::tanh(inner));
    });
  return unary(op, frame, [](double x) {
    return x * 0.5 * (1 + std::erf(x / std::sqrt(2.0)));
  });
}

static LogicalResult evaluateOp(GeluBackwardOp op, Frame &frame) {
  if (op.getApproximate() == GeluApproximation::tanh)
    return unaryBackward(op, frame, [](double g, double x) {
      double c = std::sqrt(2 / M_PI);
      double t = std::tanh(c * (x + 0.044715 * x * x * x));
      double dInner = c * (1 + 3 * 0.044715 * x * x);
      return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dInner);
    });
  // d/dx x Phi(x) = Phi(x) + x phi(x).
  return unaryBackward(op, frame, [](double g, double x) {
    double cdf = 0.5 * (1 + std::erf(x / std::sqrt(2.0)));
    double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
    return g * (cdf + x * pdf);
  });
}

static LogicalResult evaluateOp(SoftmaxOp op, Frame &frame) {
  frame.set(op.getResult(),
            softmax(frame[op.getInput()], op.getAxis(), /*log=*/false));
  return success();
}

static LogicalResult evaluateOp(SoftmaxBackwardOp op, Frame &frame) {
  return softmaxBackward(op, frame, /*log=*/false);
}

static LogicalResult evaluateOp(LogSoftmaxOp op, Frame &frame) {
  frame.set(op.getResult(),
            softmax(frame[op.getInput()], op.getAxis(), /*log=*/true));
  return success();
}

static LogicalResult evaluateOp(LogSoftmaxBackwardOp op, Frame &frame) {
  return softmaxBackward(op, frame, /*log=*/true);
}

static LogicalResult evaluateOp(ReduceSumOp op, Frame &frame) {
  return reduce(
      op, frame, 0.0, [](double total, double x) { return total + x; },
      keepTotal);
}

static LogicalResult evaluateOp(ReduceMeanOp op, Frame &frame) {
  return reduce(
      op, frame, 0.0, [](double total, double x) { return total + x; },
      [](double total, int64_t count) { return total / count; });
}

static LogicalResult evaluateOp(ReduceMaxOp op, Frame &frame) {
  return reduce(op, frame, -std::numeric_limits<double>::infinity(), maxOf,
                keepTotal);
}

static LogicalResult evaluateOp(ReduceMaxBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  Groups groups(input.shape, op.getAxes());
  std::vector<double> maxima(groups.count(),
                             -std::numeric_limits<double>::infinity());
  std::vector<int64_t> ties(groups.count(), 0);
  for (int64_t j = 0, e = input.numElements(); j < e; ++j)
    maxima[groups.of(j)] = maxOf(maxima[groups.of(j)], input.reals[j]);
  for (int64_t j = 0, e = input.numElements(); j < e; ++j)
    ties[groups.of(j)] += input.reals[j] == maxima[groups.of(j)];
  Tensor result = zeros(input.shape);
  for (int64_t j = 0, e = input.numElements(); j < e; ++j) {
    int64_t g = groups.of(j);
    if (input.reals[j] == maxima[g])
      result.reals[j] = grad.reals[g] / ties[g];
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(ArgmaxOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  AxisView view(input.shape, normalizeAxis(op.getAxis(), input.shape.size()));
  std::vector<int64_t> indices;
  for (int64_t o = 0; o < view.outer; ++o) {
    for (int64_t i = 0; i < view.inner; ++i) {
      int64_t best = 0;
      for (int64_t a = 1; a < view.size; ++a)
        if (isGreater(input.reals[view.at(o, a, i)],
                      input.reals[view.at(o, best, i)]))
          best = a;
      indices.push_back(best);
    }
  }
  frame.set(op.getResult(),
            Tensor::integer(shapeOf(op.getResult()), std::move(indices)));
  return success();
}

static LogicalResult evaluateOp(MatmulOp op, Frame &frame) {
  const Tensor &lhs = frame[op.getLhs()], &rhs = frame[op.getRhs()];
  bool transposeLhs = op.getTransposeLhs(), transposeRhs = op.getTransposeRhs();
  size_t lhsRank = lhs.shape.size(), rhsRank = rhs.shape.size();
  int64_t lhsRows = lhs.shape[lhsRank - 2], lhsCols = lhs.shape[lhsRank - 1];
  int64_t rhsRows = rhs.shape[rhsRank - 2], rhsCols = rhs.shape[rhsRank - 1];
  int64_t m = transposeLhs ? lhsCols : lhsRows;
  int64_t k = transposeLhs ? lhsRows : lhsCols;
  int64_t n = transposeRhs ? rhsRows : rhsCols;
  ArrayRef<int64_t> lhsBatch = ArrayRef<int64_t>(lhs.shape).drop_back(2);
  ArrayRef<int64_t> rhsBatch = ArrayRef<int64_t>(rhs.shape).drop_back(2);
  Shape batch = broadcastShapes(lhsBatch, rhsBatch);
  Shape shape = batch;
  shape.append({m, n});
  Tensor result = zeros(shape);
  for (int64_t b = 0, e = product(batch); b < e; ++b) {
    Shape index = unflatten(b, batch);
    const double *x =
        lhs.reals.data() + broadcastSource(index, lhsBatch) * lhsRows * lhsCols;
    const double *y =
        rhs.reals.data() + broadcastSource(index, rhsBatch) * rhsRows * rhsCols;
    double *z = result.reals.data() + b * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += (transposeLhs ? x[p * lhsCols + i] : x[i * lhsCols + p]) *
                 (transposeRhs ? y[j * rhsCols + p] : y[p * rhsCols + j]);
        z[i * n + j] = sum;
      }
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

void reference::registerMathKernels(KernelTable &table) {
  table.add<AddOp>(evaluateOp);
  table.add<SubOp>(evaluateOp);
  table.add<MulOp>(evaluateOp);
  table.add<DivOp>(evaluateOp);
  table.add<MinimumOp>(evaluateOp);
  table.add<MaximumOp>(evaluateOp);
  table.add<PowOp>(evaluateOp);
  table.add<GreaterOp>(evaluateOp);
  table.add<LessOp>(evaluateOp);
  table.add<GreaterEqualOp>(evaluateOp);
  table.add<LessEqualOp>(evaluateOp);
  table.add<EqualOp>(evaluateOp);
  table.add<NotEqualOp>(evaluateOp);
  table.add<WhereOp>(evaluateOp);
  table.add<NegOp>(evaluateOp);
  table.add<ReluOp>(evaluateOp);
  table.add<ReluBackwardOp>(evaluateOp);
  table.add<TanhOp>(evaluateOp);
  table.add<SigmoidOp>(evaluateOp);
  table.add<SiluOp>(evaluateOp);
  table.add<ExpOp>(evaluateOp);
  table.add<LogOp>(evaluateOp);
  table.add<SqrtOp>(evaluateOp);
  table.add<AbsOp>(evaluateOp);
  table.add<ReducePrecisionOp>(evaluateOp);
  table.add<LeakyReluOp>(evaluateOp);
  table.add<EluOp>(evaluateOp);
  table.add<SoftplusOp>(evaluateOp);
  table.add<ClampOp>(evaluateOp);
  table.add<GeluOp>(evaluateOp);
  table.add<GeluBackwardOp>(evaluateOp);
  table.add<SoftmaxOp>(evaluateOp);
  table.add<SoftmaxBackwardOp>(evaluateOp);
  table.add<LogSoftmaxOp>(evaluateOp);
  table.add<LogSoftmaxBackwardOp>(evaluateOp);
  table.add<ReduceSumOp>(evaluateOp);
  table.add<ReduceMeanOp>(evaluateOp);
  table.add<ReduceMaxOp>(evaluateOp);
  table.add<ReduceMaxBackwardOp>(evaluateOp);
  table.add<ArgmaxOp>(evaluateOp);
  table.add<MatmulOp>(evaluateOp);
}
