//===- Decompose.cpp - Composite kiln ops as primitive kiln ops -----------===//

#include "Decompose/TensorBuilder.h"
#include "GPU/Passes.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_KILNDECOMPOSE
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::decompose;

namespace {

/// The normalized dimensions of a layer norm: `axis` to the last.
SmallVector<int64_t> trailingAxes(int64_t axis, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t d = normalizeAxis(axis, rank); d < rank; ++d)
    axes.push_back(d);
  return axes;
}

/// The statistics of a layer norm: x - mean and 1 / sqrt(var + eps).
std::pair<Value, Value> normalize(TensorBuilder &t, Value x,
                                  ArrayRef<int64_t> axes, double epsilon) {
  Value centered = t.sub(x, t.mean(x, axes, true));
  Value variance = t.mean(t.mul(centered, centered), axes, true);
  Value rstd = t.div(t.scalar(1, x),
                     t.sqrt(t.add(variance, t.scalar(epsilon, x))));
  return {centered, rstd};
}

LogicalResult decompose(LayerNormOp op, RewriterBase &rewriter) {
  TensorBuilder t(rewriter, op.getLoc());
  Value x = op.getInput();
  auto axes = trailingAxes(op.getAxis(), shapeOf(x).size());
  auto [centered, rstd] =
      normalize(t, x, axes, op.getEpsilon().convertToDouble());
  Value y = t.mul(centered, rstd);
  if (op.getWeight())
    y = t.mul(y, op.getWeight());
  if (op.getBias())
    y = t.add(y, op.getBias());
  rewriter.replaceOp(op, y);
  return success();
}

LogicalResult decompose(LayerNormBackwardOp op, RewriterBase &rewriter) {
  // dx = rstd * (g' - mean(g') - xhat * mean(g' * xhat)), g' = g * w.
  TensorBuilder t(rewriter, op.getLoc());
  Value x = op.getInput(), g = op.getGrad();
  int64_t rank = shapeOf(x).size();
  auto axes = trailingAxes(op.getAxis(), rank);
  auto [centered, rstd] =
      normalize(t, x, axes, op.getEpsilon().convertToDouble());
  Value xhat = t.mul(centered, rstd);
  Value scaled = op.getWeight() ? t.mul(g, op.getWeight()) : g;
  Value dx = t.mul(
      rstd, t.sub(t.sub(scaled, t.mean(scaled, axes, true)),
                  t.mul(xhat, t.mean(t.mul(scaled, xhat), axes, true))));
  SmallVector<Value> results = {dx};
  if (op.getWeight()) {
    SmallVector<int64_t> leading;
    for (int64_t d = 0; d < axes.front(); ++d)
      leading.push_back(d);
    results.push_back(t.reduceSum(t.mul(g, xhat), leading, false));
    results.push_back(t.reduceSum(g, leading, false));
  }
  rewriter.replaceOp(op, results);
  return success();
}

LogicalResult decompose(LinearOp op, RewriterBase &rewriter) {
  // All leading dimensions as the rows of one matrix: one product.
  TensorBuilder t(rewriter, op.getLoc());
  Value x = op.getInput(), w = op.getWeight();
  ArrayRef<int64_t> shape = shapeOf(x);
  int64_t in = shape.back(), out = shapeOf(w)[0];
  int64_t rows = 1;
  for (int64_t size : shape.drop_back())
    rows *= size;
  Value y = t.matmul(t.reshape(x, {rows, in}), w, false, true);
  if (op.getBias())
    y = t.add(y, op.getBias());
  SmallVector<int64_t> resultShape(shape.drop_back());
  resultShape.push_back(out);
  rewriter.replaceOp(op, t.reshape(y, resultShape));
  return success();
}

/// The attention weights softmax(q k^T * scale (+ mask)).
Value attentionWeights(TensorBuilder &t, Value query, Value key, bool causal,
                       std::optional<APFloat> scale, double &factor) {
  ArrayRef<int64_t> q = shapeOf(query), k = shapeOf(key);
  factor = scale ? scale->convertToDouble()
                 : 1 / std::sqrt(static_cast<double>(q.back()));
  Value scores = t.mul(t.matmul(query, key, false, true),
                       t.scalar(factor, query));
  if (causal) {
    int64_t length = q[q.size() - 2], source = k[k.size() - 2];
    Type element = cast<RankedTensorType>(query.getType()).getElementType();
    auto type = RankedTensorType::get({length, source}, element);
    SmallVector<APFloat> mask;
    for (int64_t l = 0; l < length; ++l)
      for (int64_t s = 0; s < source; ++s) {
        APFloat value = s <= l ? APFloat(0.0f)
                               : APFloat::getInf(APFloat::IEEEsingle(), true);
        bool lost;
        value.convert(cast<FloatType>(element).getFloatSemantics(),
                      APFloat::rmNearestTiesToEven, &lost);
        mask.push_back(value);
      }
    scores = t.add(scores, ConstantOp::create(t.builder(),
                                              DenseElementsAttr::get(type, mask)));
  }
  return t.softmax(scores, -1, false);
}

LogicalResult decompose(AttentionOp op, RewriterBase &rewriter) {
  TensorBuilder t(rewriter, op.getLoc());
  double factor;
  Value weights = attentionWeights(t, op.getQuery(), op.getKey(),
                                   op.getCausal(), op.getScale(), factor);
  rewriter.replaceOp(op, t.matmul(weights, op.getValue(), false, false));
  return success();
}

LogicalResult decompose(AttentionBackwardOp op, RewriterBase &rewriter) {
  TensorBuilder t(rewriter, op.getLoc());
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue(),
        g = op.getGrad();
  double factor;
  Value p = attentionWeights(t, q, k, op.getCausal(), op.getScale(), factor);
  Value dv = t.matmul(p, g, true, false);
  Value dp = t.matmul(g, v, false, true);
  Value ds = t.mul(t.softmaxBackward(dp, p, -1), t.scalar(factor, q));
  Value dq = t.matmul(ds, k, false, false);
  Value dk = t.matmul(ds, q, true, false);
  rewriter.replaceOp(op, {dq, dk, dv});
  return success();
}

template <typename Op>
LogicalResult decomposeSoftmax(Op op, RewriterBase &rewriter, bool log) {
  TensorBuilder t(rewriter, op.getLoc());
  rewriter.replaceOp(op, t.softmax(op.getInput(), op.getAxis(), log));
  return success();
}

LogicalResult decompose(SoftmaxBackwardOp op, RewriterBase &rewriter) {
  TensorBuilder t(rewriter, op.getLoc());
  rewriter.replaceOp(
      op, t.softmaxBackward(op.getGrad(), op.getOutput(), op.getAxis()));
  return success();
}

LogicalResult decompose(LogSoftmaxBackwardOp op, RewriterBase &rewriter) {
  // g - exp(y) * sum(g).
  TensorBuilder t(rewriter, op.getLoc());
  Value g = op.getGrad(), y = op.getOutput();
  int64_t axes[] = {normalizeAxis(op.getAxis(), shapeOf(y).size())};
  rewriter.replaceOp(op, t.sub(g, t.mul(t.exp(y), t.reduceSum(g, axes, true))));
  return success();
}

struct DecomposePass : kiln::impl::KilnDecomposeBase<DecomposePass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<LayerNormOp, LayerNormBackwardOp, LinearOp, AttentionOp,
              AttentionBackwardOp, SoftmaxOp, LogSoftmaxOp, SoftmaxBackwardOp,
              LogSoftmaxBackwardOp, LSTMOp, LSTMBackwardOp, GRUOp,
              GRUBackwardOp, BatchNormOp, BatchNormBackwardOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](SoftmaxOp softmax) {
                return decomposeSoftmax(softmax, rewriter, false);
              })
              .Case([&](LogSoftmaxOp softmax) {
                return decomposeSoftmax(softmax, rewriter, true);
              })
              .Case([&](LSTMOp lstm) { return decomposeLSTM(lstm, rewriter); })
              .Case([&](BatchNormOp norm) {
                return decomposeBatchNorm(norm, rewriter);
              })
              .Case([&](BatchNormBackwardOp norm) {
                return decomposeBatchNormBackward(norm, rewriter);
              })
              .Case([&](LSTMBackwardOp lstm) {
                return decomposeLSTMBackward(lstm, rewriter);
              })
              .Case([&](GRUOp gru) { return decomposeGRU(gru, rewriter); })
              .Case([&](GRUBackwardOp gru) {
                return decomposeGRUBackward(gru, rewriter);
              })
              .Case<LayerNormOp, LayerNormBackwardOp, LinearOp, AttentionOp,
                    AttentionBackwardOp, SoftmaxBackwardOp,
                    LogSoftmaxBackwardOp>(
                  [&](auto op) { return decompose(op, rewriter); });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
