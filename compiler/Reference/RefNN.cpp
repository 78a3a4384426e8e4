//===- RefNN.cpp - Reference semantics of layers and losses ---------------===//
//
// linear, layer_norm, dropout, attention and cross_entropy, each followed by
// its gradient op. The gradients are the textbook formulas, written out from
// the same intermediate values the forward computes.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include "kiln/Random.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// The rows that layer_norm normalizes: the input seen as [rows, width],
/// where width counts the elements of the dimensions from `axis` on.
struct Rows {
  Rows(ArrayRef<int64_t> shape, int64_t axis) {
    width = product(shape.drop_front(normalizeAxis(axis, shape.size())));
    count = width ? product(shape) / width : 0;
  }
  int64_t count, width;
};

/// The mean and 1 / sqrt(biased variance + epsilon) of row `r` of `x`.
std::pair<double, double> rowMoments(const Tensor &x, const Rows &rows,
                                     int64_t r, double epsilon) {
  const double *row = x.reals.data() + r * rows.width;
  double mean = 0, variance = 0;
  for (int64_t j = 0; j < rows.width; ++j)
    mean += row[j];
  mean /= rows.width;
  for (int64_t j = 0; j < rows.width; ++j)
    variance += (row[j] - mean) * (row[j] - mean);
  variance /= rows.width;
  return {mean, 1 / std::sqrt(variance + epsilon)};
}

/// The sizes of attention over query [B..., L, E], key [B..., S, E] and
/// value [B..., S, EV], with the batch dimensions B... counted together, and
/// its dropout.
struct AttentionSizes {
  template <typename Op> AttentionSizes(Op op, const Frame &frame) {
    std::vector<int64_t> query = shapeOf(op.getQuery());
    size_t rank = query.size();
    batch = product(ArrayRef<int64_t>(query).drop_back(2));
    length = query[rank - 2];
    embed = query[rank - 1];
    sources = shapeOf(op.getKey())[rank - 2];
    valueEmbed = shapeOf(op.getValue())[rank - 1];
    causal = op.getCausal();
    scale = op.getScale() ? op.getScale()->convertToDouble()
                          : 1 / std::sqrt(static_cast<double>(embed));
    dropout = op.getDropout().convertToDouble();
    seed = op.getSeed();
    if (op.getCounter())
      counter = static_cast<uint64_t>(frame[op.getCounter()].integers[0]);
  }
  int64_t batch, length, embed, sources, valueEmbed;
  bool causal;
  double scale, dropout;
  uint64_t seed, counter = 0;
};

/// The attention weights softmax(q k^T * scale) of batch `b`, [L, S] row by
/// row; masked positions (s > l when causal) get weight 0.
std::vector<double> attentionWeights(const Tensor &query, const Tensor &key,
                                     const AttentionSizes &n, int64_t b) {
  const double *q = query.reals.data() + b * n.length * n.embed;
  const double *k = key.reals.data() + b * n.sources * n.embed;
  std::vector<double> weights(n.length * n.sources);
  for (int64_t l = 0; l < n.length; ++l) {
    double *row = weights.data() + l * n.sources;
    double max = -std::numeric_limits<double>::infinity();
    for (int64_t s = 0; s < n.sources; ++s) {
      double score = 0;
      for (int64_t e = 0; e < n.embed; ++e)
        score += q[l * n.embed + e] * k[s * n.embed + e];
      row[s] = n.causal && s > l ? -std::numeric_limits<double>::infinity()
                                 : score * n.scale;
      max = std::max(max, row[s]);
    }
    double sum = 0;
    for (int64_t s = 0; s < n.sources; ++s)
      sum += row[s] = std::exp(row[s] - max);
    for (int64_t s = 0; s < n.sources; ++s)
      row[s] /= sum;
  }
  return weights;
}

/// The factors that dropout multiplies the weights of batch `b` by: 0 for a
/// dropped weight and 1 / (1 - p) for a kept one, drawn as kiln.dropout
/// draws them over the whole [B..., L, S] tensor of weights.
std::vector<double> dropoutFactors(const AttentionSizes &n, int64_t b) {
  std::vector<double> factors(n.length * n.sources, 1.0);
  if (n.dropout == 0)
    return factors;
  auto first = static_cast<uint64_t>(b * n.length * n.sources);
  for (size_t i = 0; i < factors.size(); ++i)
    factors[i] = kiln_uniform(n.seed, n.counter, first + i) >= n.dropout
                     ? 1 / (1 - n.dropout)
                     : 0.0;
  return factors;
}

/// log(sum_c exp(logits[n, c])) for one row of [N, C] logits, with the
/// maximum subtracted first so that large logits do not overflow.
double logSumExp(const Tensor &logits, int64_t n) {
  int64_t classes = logits.shape[1];
  const double *row = logits.reals.data() + n * classes;
  double max = *std::max_element(row, row + classes);
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c)
    sum += std::exp(row[c] - max);
  return max + std::log(sum);
}

} // namespace

static LogicalResult evaluateOp(LinearOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()], &weight = frame[op.getWeight()];
  int64_t out = weight.shape[0], in = weight.shape[1];
  int64_t rows = in ? input.numElements() / in : 0;
  Tensor result = zeros(shapeOf(op.getResult()));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double sum = op.getBias() ? frame[op.getBias()].reals[o] : 0;
      for (int64_t i = 0; i < in; ++i)
        sum += input.reals[r * in + i] * weight.reals[o * in + i];
      result.reals[r * out + o] = sum;
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(LayerNormOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  Rows rows(input.shape, op.getAxis());
  double epsilon = op.getEpsilon().convertToDouble();
  Tensor result = zeros(input.shape);
  for (int64_t r = 0; r < rows.count; ++r) {
    auto [mean, rstd] = rowMoments(input, rows, r, epsilon);
    for (int64_t j = 0; j < rows.width; ++j) {
      double y = (input.reals[r * rows.width + j] - mean) * rstd;
      if (op.getWeight())
        y *= frame[op.getWeight()].reals[j];
      if (op.getBias())
        y += frame[op.getBias()].reals[j];
      result.reals[r * rows.width + j] = y;
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(LayerNormBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  Rows rows(input.shape, op.getAxis());
  double epsilon = op.getEpsilon().convertToDouble();
  Tensor inputGrad = zeros(input.shape), weightGrad = zeros({rows.width}),
         biasGrad = zeros({rows.width});
  for (int64_t r = 0; r < rows.count; ++r) {
    auto [mean, rstd] = rowMoments(input, rows, r, epsilon);
    // With xhat = (x - mean) * rstd and dxhat = grad * weight:
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    std::vector<double> xhat(rows.width), dxhat(rows.width);
    double meanDxhat = 0, meanDxhatXhat = 0;
    for (int64_t j = 0; j < rows.width; ++j) {
      int64_t at = r * rows.width + j;
      xhat[j] = (input.reals[at] - mean) * rstd;
      dxhat[j] = grad.reals[at] *
                 (op.getWeight() ? frame[op.getWeight()].reals[j] : 1.0);
      meanDxhat += dxhat[j] / rows.width;
      meanDxhatXhat += dxhat[j] * xhat[j] / rows.width;
      weightGrad.reals[j] += grad.reals[at] * xhat[j];
      biasGrad.reals[j] += grad.reals[at];
    }
    for (int64_t j = 0; j < rows.width; ++j)
      inputGrad.reals[r * rows.width + j] =
          rstd * (dxhat[j] - meanDxhat - xhat[j] * meanDxhatXhat);
  }
  frame.set(op.getInputGrad(), std::move(inputGrad));
  if (op.getWeight()) {
    weightGrad.shape = biasGrad.shape = frame[op.getWeight()].shape;
    frame.set(op.getParamGrads()[0], std::move(weightGrad));
    frame.set(op.getParamGrads()[1], std::move(biasGrad));
  }
  return success();
}

static LogicalResult evaluateOp(DropoutOp op, Frame &frame) {
  Tensor result = frame[op.getInput()];
  double p = op.getP().convertToDouble();
  auto seed = static_cast<uint64_t>(op.getSeed());
  auto counter = static_cast<uint64_t>(frame[op.getCounter()].integers[0]);
  for (size_t i = 0; i < result.reals.size(); ++i)
    result.reals[i] =
        kiln_uniform(seed, counter, i) >= p ? result.reals[i] / (1 - p) : 0.0;
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(AttentionOp op, Frame &frame) {
  const Tensor &query = frame[op.getQuery()], &key = frame[op.getKey()],
               &value = frame[op.getValue()];
  AttentionSizes n(op, frame);
  Tensor result = zeros(shapeOf(op.getResult()));
  for (int64_t b = 0; b < n.batch; ++b) {
    std::vector<double> weights = attentionWeights(query, key, n, b);
    std::vector<double> factors = dropoutFactors(n, b);
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] *= factors[i];
    const double *v = value.reals.data() + b * n.sources * n.valueEmbed;
    double *o = result.reals.data() + b * n.length * n.valueEmbed;
    for (int64_t l = 0; l < n.length; ++l)
      for (int64_t e = 0; e < n.valueEmbed; ++e)
        for (int64_t s = 0; s < n.sources; ++s)
          o[l * n.valueEmbed + e] +=
              weights[l * n.sources + s] * v[s * n.valueEmbed + e];
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(AttentionBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()], &query = frame[op.getQuery()],
               &key = frame[op.getKey()], &value = frame[op.getValue()];
  AttentionSizes n(op, frame);
  Tensor queryGrad = zeros(query.shape), keyGrad = zeros(key.shape),
         valueGrad = zeros(value.shape);
  for (int64_t b = 0; b < n.batch; ++b) {
    // With P the weights, D the dropout factors and O = (D * P) V:
    // dV = (D * P)^T dO, dP = D * (dO V^T),
    // dS = P * (dP - rowsum(P * dP)), dQ = scale dS K, dK = scale dS^T Q.
    std::vector<double> p = attentionWeights(query, key, n, b);
    std::vector<double> factors = dropoutFactors(n, b);
    const double *q = query.reals.data() + b * n.length * n.embed;
    const double *k = key.reals.data() + b * n.sources * n.embed;
    const double *v = value.reals.data() + b * n.sources * n.valueEmbed;
    const double *dO = grad.reals.data() + b * n.length * n.valueEmbed;
    double *dQ = queryGrad.reals.data() + b * n.length * n.embed;
    double *dK = keyGrad.reals.data() + b * n.sources * n.embed;
    double *dV = valueGrad.reals.data() + b * n.sources * n.valueEmbed;
    for (int64_t l = 0; l < n.length; ++l) {
      std::vector<double> dP(n.sources, 0.0);
      double rowSum = 0;
      for (int64_t s = 0; s < n.sources; ++s) {
        double weight = p[l * n.sources + s];
        double factor = factors[l * n.sources + s];
        for (int64_t e = 0; e < n.valueEmbed; ++e) {
          dV[s * n.valueEmbed + e] +=
              factor * weight * dO[l * n.valueEmbed + e];
          dP[s] += dO[l * n.valueEmbed + e] * v[s * n.valueEmbed + e];
        }
        dP[s] *= factor;
        rowSum += weight * dP[s];
      }
      for (int64_t s = 0; s < n.sources; ++s) {
        double dS = p[l * n.sources + s] * (dP[s] - rowSum);
        for (int64_t e = 0; e < n.embed; ++e) {
          dQ[l * n.embed + e] += n.scale * dS * k[s * n.embed + e];
          dK[s * n.embed + e] += n.scale * dS * q[l * n.embed + e];
        }
      }
    }
  }
  frame.set(op.getQueryGrad(), std::move(queryGrad));
  frame.set(op.getKeyGrad(), std::move(keyGrad));
  frame.set(op.getValueGrad(), std::move(valueGrad));
  return success();
}

namespace {

/// What cross_entropy and its gradient share: the labels checked (each a
/// class of the logits or the ignored value) and the rows that count.
struct Labels {
  const Tensor &labels;
  int64_t ignored;
  /// The number of rows whose label is not ignored.
  int64_t counted = 0;

  bool keeps(int64_t n) const { return labels.integers[n] != ignored; }
};

} // namespace

template <typename Op>
static FailureOr<Labels> checkLabels(Op op, const Tensor &labels,
                                     int64_t classes) {
  Labels result{labels, static_cast<int64_t>(op.getIgnoreIndex())};
  for (int64_t n = 0, e = labels.numElements(); n < e; ++n) {
    int64_t label = labels.integers[n];
    if (label == result.ignored)
      continue;
    if (label < 0 || label >= classes)
      return op.emitOpError("label ")
             << label << " at position [" << n << "] is outside [0, " << classes
             << "), the classes of the logits, and is not the "
             << "ignore_index " << result.ignored;
    ++result.counted;
  }
  return result;
}

static LogicalResult evaluateOp(CrossEntropyOp op, Frame &frame) {
  const Tensor &logits = frame[op.getLogits()];
  int64_t rows = logits.shape[0], classes = logits.shape[1];
  FailureOr<Labels> labels = checkLabels(op, frame[op.getLabels()], classes);
  if (failed(labels))
    return failure();
  double smoothing = op.getLabelSmoothing().convertToDouble();
  double total = 0;
  for (int64_t n = 0; n < rows; ++n) {
    if (!labels->keeps(n))
      continue;
    const double *row = logits.reals.data() + n * classes;
    double mean = 0;
    for (int64_t c = 0; c < classes; ++c)
      mean += row[c] / classes;
    total += logSumExp(logits, n) -
             (1 - smoothing) * row[labels->labels.integers[n]] -
             smoothing * mean;
  }
  // 0 / 0 when every label is ignored: NaN, as PyTorch's mean.
  frame.set(op.getResult(),
            Tensor::real({}, {total / static_cast<double>(labels->counted)}));
  return success();
}

static LogicalResult evaluateOp(CrossEntropyBackwardOp op, Frame &frame) {
  const Tensor &logits = frame[op.getLogits()];
  int64_t rows = logits.shape[0], classes = logits.shape[1];
  FailureOr<Labels> labels = checkLabels(op, frame[op.getLabels()], classes);
  if (failed(labels))
    return failure();
  double smoothing = op.getLabelSmoothing().convertToDouble();
  double scale = frame[op.getGrad()].reals[0] / labels->counted;
  Tensor result = zeros(logits.shape);
  for (int64_t n = 0; n < rows; ++n) {
    if (!labels->keeps(n))
      continue;
    double lse = logSumExp(logits, n);
    for (int64_t c = 0; c < classes; ++c) {
      double probability = std::exp(logits.reals[n * classes + c] - lse);
      double target = (1 - smoothing) * (c == labels->labels.integers[n]) +
                      smoothing / classes;
      result.reals[n * classes + c] = scale * (probability - target);
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

void reference::registerNNKernels(KernelTable &table) {
  table.add<LinearOp>(evaluateOp);
  table.add<LayerNormOp>(evaluateOp);
  table.add<LayerNormBackwardOp>(evaluateOp);
  table.add<DropoutOp>(evaluateOp);
  table.add<AttentionOp>(evaluateOp);
  table.add<AttentionBackwardOp>(evaluateOp);
  table.add<CrossEntropyOp>(evaluateOp);
  table.add<CrossEntropyBackwardOp>(evaluateOp);
}
