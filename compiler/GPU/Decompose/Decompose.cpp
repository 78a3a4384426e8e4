//===- Decompose.cpp - Composite kiln ops as primitive kiln ops -----------===//
//
// Each composite op's rewrite is attached to the op as linalg's
// AggregatedOpInterface (registerDecompositionModels, at the end); the pass
// applies it to every kiln op that has one.
//
//===----------------------------------------------------------------------===//

#include "Decompose/TensorBuilder.h"
#include "GPU/Passes.h"

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
  Value rstd =
      t.div(t.scalar(1, x), t.sqrt(t.add(variance, t.scalar(epsilon, x))));
  return {centered, rstd};
}

Decomposition decomposeLayerNorm(LayerNormOp op, TensorBuilder &t) {
  Value x = op.getInput();
  auto axes = trailingAxes(op.getAxis(), shapeOf(x).size());
  auto [centered, rstd] =
      normalize(t, x, axes, op.getEpsilon().convertToDouble());
  Value y = t.mul(centered, rstd);
  if (op.getWeight())
    y = t.mul(y, op.getWeight());
  if (op.getBias())
    y = t.add(y, op.getBias());
  return SmallVector<Value>{y};
}

Decomposition decomposeLayerNormBackward(LayerNormBackwardOp op,
                                         TensorBuilder &t) {
  // dx = rstd * (g' - mean(g') - xhat * mean(g' * xhat)), g' = g * w.
  Value x = op.getInput(), g = op.getGrad();
  int64_t rank = shapeOf(x).size();
  auto axes = trailingAxes(op.getAxis(), rank);
  auto [centered, rstd] =
      normalize(t, x, axes, op.getEpsilon().convertToDouble());
  Value xhat = t.mul(centered, rstd);
  Value scaled = op.getWeight() ? t.mul(g, op.getWeight()) : g;
  Value dx =
      t.mul(rstd, t.sub(t.sub(scaled, t.mean(scaled, axes, true)),
                        t.mul(xhat, t.mean(t.mul(scaled, xhat), axes, true))));
  SmallVector<Value> results = {dx};
  if (op.getWeight()) {
    SmallVector<int64_t> leading;
    for (int64_t d = 0; d < axes.front(); ++d)
      leading.push_back(d);
    results.push_back(t.reduceSum(t.mul(g, xhat), leading, false));
    results.push_back(t.reduceSum(g, leading, false));
  }
  return results;
}

Decomposition decomposeLinear(LinearOp op, TensorBuilder &t) {
  // All leading dimensions as the rows of one matrix: one product.
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
  return SmallVector<Value>{t.reshape(y, resultShape)};
}

/// The attention weights softmax(q k^T * scale (+ mask)).
Value attentionWeights(TensorBuilder &t, Value query, Value key, bool causal,
                       std::optional<APFloat> scale, double &factor) {
  ArrayRef<int64_t> q = shapeOf(query), k = shapeOf(key);
  factor = scale ? scale->convertToDouble()
                 : 1 / std::sqrt(static_cast<double>(q.back()));
  Value scores =
      t.mul(t.matmul(query, key, false, true), t.scalar(factor, query));
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
    scores =
        t.add(scores, ConstantOp::create(t.builder(),
                                         DenseElementsAttr::get(type, mask)));
  }
  return t.softmax(scores, -1, false);
}

/// `x` [B..., L, S] dropped out as the attention `op` drops its weights:
/// kiln.dropout with its seed, counter and probability (`x` itself when it
/// has no dropout).
template <typename Op> Value dropWeights(TensorBuilder &t, Value x, Op op) {
  if (!op.getCounter())
    return x;
  return DropoutOp::create(t.builder(), x, op.getCounter(), op.getDropoutAttr(),
                           op.getSeedAttr());
}

Decomposition decomposeAttention(AttentionOp op, TensorBuilder &t) {
  double factor;
  Value weights = attentionWeights(t, op.getQuery(), op.getKey(),
                                   op.getCausal(), op.getScale(), factor);
  return SmallVector<Value>{
      t.matmul(dropWeights(t, weights, op), op.getValue(), false, false)};
}

Decomposition decomposeAttentionBackward(AttentionBackwardOp op,
                                         TensorBuilder &t) {
  // With dropout D (linear, its own adjoint): O = D(P) V, so
  // dV = D(P)^T dO and the gradient of P is D(dO V^T).
  Value q = op.getQuery(), k = op.getKey(), v = op.getValue(), g = op.getGrad();
  double factor;
  Value p = attentionWeights(t, q, k, op.getCausal(), op.getScale(), factor);
  Value dv = t.matmul(dropWeights(t, p, op), g, true, false);
  Value dp = dropWeights(t, t.matmul(g, v, false, true), op);
  Value ds = t.mul(t.softmaxBackward(dp, p, -1), t.scalar(factor, q));
  Value dq = t.matmul(ds, k, false, false);
  Value dk = t.matmul(ds, q, true, false);
  return SmallVector<Value>{dq, dk, dv};
}

Decomposition decomposeSoftmax(SoftmaxOp op, TensorBuilder &t) {
  return SmallVector<Value>{
      t.softmax(op.getInput(), op.getAxis(), /*log=*/false)};
}

Decomposition decomposeLogSoftmax(LogSoftmaxOp op, TensorBuilder &t) {
  return SmallVector<Value>{
      t.softmax(op.getInput(), op.getAxis(), /*log=*/true)};
}

Decomposition decomposeSoftmaxBackward(SoftmaxBackwardOp op, TensorBuilder &t) {
  return SmallVector<Value>{
      t.softmaxBackward(op.getGrad(), op.getOutput(), op.getAxis())};
}

Decomposition decomposeLogSoftmaxBackward(LogSoftmaxBackwardOp op,
                                          TensorBuilder &t) {
  // g - exp(y) * sum(g).
  Value g = op.getGrad(), y = op.getOutput();
  int64_t axes[] = {normalizeAxis(op.getAxis(), shapeOf(y).size())};
  return SmallVector<Value>{
      t.sub(g, t.mul(t.exp(y), t.reduceSum(g, axes, true)))};
}

struct DecomposePass : kiln::impl::KilnDecomposeBase<DecomposePass> {
  using KilnDecomposeBase::KilnDecomposeBase;

  void runOnOperation() override {
    // linalg's own composite ops implement the interface too; they are not
    // this pass's to rewrite.
    Dialect *kiln = getContext().getLoadedDialect<KilnDialect>();
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation().walk([&](linalg::AggregatedOpInterface op) {
      if (op->getDialect() == kiln &&
          !(keepRuntimeKernels && op->hasTrait<RuntimeKernel>()))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      // Each decomposition that fails says why, at the op.
      if (failed(values))
        return signalPassFailure();
      rewriter.replaceOp(op, *values);
    }
  }
};

} // namespace

void kiln::registerDecompositionModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    attachDecomposition<LayerNormOp, decomposeLayerNorm>(*context);
    attachDecomposition<LayerNormBackwardOp, decomposeLayerNormBackward>(
        *context);
    attachDecomposition<LinearOp, decomposeLinear>(*context);
    attachDecomposition<AttentionOp, decomposeAttention>(*context);
    attachDecomposition<AttentionBackwardOp, decomposeAttentionBackward>(
        *context);
    attachDecomposition<SoftmaxOp, decomposeSoftmax>(*context);
    attachDecomposition<LogSoftmaxOp, decomposeLogSoftmax>(*context);
    attachDecomposition<SoftmaxBackwardOp, decomposeSoftmaxBackward>(*context);
    attachDecomposition<LogSoftmaxBackwardOp, decomposeLogSoftmaxBackward>(
        *context);
    attachBatchNormDecompositions(*context);
    attachLSTMDecompositions(*context);
    attachGRUDecompositions(*context);
  });
}
