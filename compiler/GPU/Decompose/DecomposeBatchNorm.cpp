//===- DecomposeBatchNorm.cpp - Batch normalization as primitive ops ------===//
//
// The statistics of each channel (dimension 1) are means over every other
// dimension, kept as [1, C, 1, ...] so that they broadcast against the input;
// the per-channel weight, bias and running statistics are reshaped likewise.
//
//===----------------------------------------------------------------------===//

#include "Decompose/TensorBuilder.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::decompose;

namespace {

/// Every dimension of a rank-`rank` tensor but the channel's.
SmallVector<int64_t> reducedAxes(int64_t rank) {
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  return axes;
}

/// `perChannel` [C] as [1, C, 1, ...] for an input of shape `shape`.
Value asChannels(TensorBuilder &t, Value perChannel, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> channels(shape.size(), 1);
  channels[1] = shape[1];
  return t.reshape(perChannel, channels);
}

/// x - mean and 1 / sqrt(var + eps), with the batch's statistics.
struct Normalized {
  Value mean, variance, centered, rstd;
};

Normalized normalize(TensorBuilder &t, Value x, double epsilon) {
  SmallVector<int64_t> axes = reducedAxes(shapeOf(x).size());
  Normalized n;
  n.mean = t.mean(x, axes, true);
  n.centered = t.sub(x, n.mean);
  n.variance = t.mean(t.mul(n.centered, n.centered), axes, true);
  n.rstd =
      t.div(t.scalar(1, x), t.sqrt(t.add(n.variance, t.scalar(epsilon, x))));
  return n;
}

Decomposition decomposeBatchNorm(BatchNormOp op, TensorBuilder &t) {
  if (op.getTraining() &&
      failed(checkOneRank(op, op.getRanks(),
                          "the GPU target (one process, no NCCL yet)")))
    return failure();
  Value x = op.getInput();
  ArrayRef<int64_t> shape = shapeOf(x);
  double epsilon = op.getEpsilon().convertToDouble();
  Value runningMean = op.getRunningMean(), runningVar = op.getRunningVar();
  Value count = op.getNumBatchesTracked();
  Value centered, rstd;
  if (op.getTraining()) {
    Normalized n = normalize(t, x, epsilon);
    centered = n.centered;
    rstd = n.rstd;
    std::tie(runningMean, runningVar, count) =
        op.buildRunningStatistics(t.builder(), n.mean, n.variance);
  } else {
    centered = t.sub(x, asChannels(t, runningMean, shape));
    rstd = t.div(t.scalar(1, x), t.sqrt(t.add(asChannels(t, runningVar, shape),
                                              t.scalar(epsilon, x))));
  }
  Value y = t.mul(centered, rstd);
  if (op.getWeight())
    y = t.mul(y, asChannels(t, op.getWeight(), shape));
  if (op.getBias())
    y = t.add(y, asChannels(t, op.getBias(), shape));
  return SmallVector<Value>{y, runningMean, runningVar, count};
}

Decomposition decomposeBatchNormBackward(BatchNormBackwardOp op,
                                         TensorBuilder &t) {
  if (failed(checkOneRank(op, op.getRanks(),
                          "the GPU target (one process, no NCCL yet)")))
    return failure();
  // dx = rstd * (g' - mean(g') - xhat * mean(g' * xhat)), g' = g * w, the
  // means over each channel's elements.
  Value x = op.getInput(), g = op.getGrad();
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> axes = reducedAxes(shape.size());
  Normalized n = normalize(t, x, op.getEpsilon().convertToDouble());
  Value xhat = t.mul(n.centered, n.rstd);
  Value scaled =
      op.getWeight() ? t.mul(g, asChannels(t, op.getWeight(), shape)) : g;
  Value dx = t.mul(n.rstd,
                   t.sub(t.sub(scaled, t.mean(scaled, axes, true)),
                         t.mul(xhat, t.mean(t.mul(scaled, xhat), axes, true))));
  SmallVector<Value> results = {dx};
  if (op.getWeight()) {
    results.push_back(t.reduceSum(t.mul(g, xhat), axes, false));
    results.push_back(t.reduceSum(g, axes, false));
  }
  return results;
}

} // namespace

void kiln::decompose::attachBatchNormDecompositions(MLIRContext &context) {
  attachDecomposition<BatchNormOp, decomposeBatchNorm>(context);
  attachDecomposition<BatchNormBackwardOp, decomposeBatchNormBackward>(context);
}
