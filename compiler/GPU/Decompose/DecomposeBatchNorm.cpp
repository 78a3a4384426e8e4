//===- DecomposeBatchNorm.cpp - Batch normalization as primitive ops ------===//
//
// The statistics of each channel (dimension 1) are means over every other
// dimension, kept as [1, C, 1, ...] so that they broadcast against the input;
// the per-channel weight, bias and running statistics are reshaped likewise.
//
//===----------------------------------------------------------------------===//

#include "Decompose/TensorBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

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
  n.rstd = t.div(t.scalar(1, x), t.sqrt(t.add(n.variance, t.scalar(epsilon, x))));
  return n;
}

} // namespace

LogicalResult decompose::decomposeBatchNorm(BatchNormOp op,
                                            RewriterBase &rewriter) {
  TensorBuilder t(rewriter, op.getLoc());
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
    // PyTorch's update: the unbiased variance, n / (n - 1) times the biased.
    int64_t perChannel = 1;
    for (auto [d, size] : llvm::enumerate(shape))
      perChannel *= d == 1 ? 1 : size;
    double correction =
        perChannel > 1 ? double(perChannel) / double(perChannel - 1) : 1.0;
    double momentum = op.getMomentum().convertToDouble();
    int64_t channels[] = {shape[1]};
    auto update = [&](Value running, Value batch, double scale) {
      Value observed = t.mul(t.reshape(batch, channels),
                             t.scalar(momentum * scale, running));
      return t.add(t.mul(running, t.scalar(1 - momentum, running)), observed);
    };
    runningMean = update(runningMean, n.mean, 1);
    runningVar = update(runningVar, n.variance, correction);
    // Integer arithmetic is not a kiln op: the batch count is arith's, on a
    // scalar tensor, which the linalg lowering makes a generic.
    auto scalar = RankedTensorType::get({}, rewriter.getI64Type());
    Value one = ConstantOp::create(
        rewriter, op.getLoc(),
        DenseElementsAttr::get(scalar, rewriter.getI64IntegerAttr(1)));
    count = arith::AddIOp::create(rewriter, op.getLoc(), count, one);
  } else {
    centered = t.sub(x, asChannels(t, runningMean, shape));
    rstd = t.div(t.scalar(1, x),
                 t.sqrt(t.add(asChannels(t, runningVar, shape),
                              t.scalar(epsilon, x))));
  }
  Value y = t.mul(centered, rstd);
  if (op.getWeight())
    y = t.mul(y, asChannels(t, op.getWeight(), shape));
  if (op.getBias())
    y = t.add(y, asChannels(t, op.getBias(), shape));
  rewriter.replaceOp(op, {y, runningMean, runningVar, count});
  return success();
}

LogicalResult decompose::decomposeBatchNormBackward(BatchNormBackwardOp op,
                                                    RewriterBase &rewriter) {
  // dx = rstd * (g' - mean(g') - xhat * mean(g' * xhat)), g' = g * w, the
  // means over each channel's elements.
  TensorBuilder t(rewriter, op.getLoc());
  Value x = op.getInput(), g = op.getGrad();
  ArrayRef<int64_t> shape = shapeOf(x);
  SmallVector<int64_t> axes = reducedAxes(shape.size());
  Normalized n = normalize(t, x, op.getEpsilon().convertToDouble());
  Value xhat = t.mul(n.centered, n.rstd);
  Value scaled =
      op.getWeight() ? t.mul(g, asChannels(t, op.getWeight(), shape)) : g;
  Value dx = t.mul(
      n.rstd, t.sub(t.sub(scaled, t.mean(scaled, axes, true)),
                    t.mul(xhat, t.mean(t.mul(scaled, xhat), axes, true))));
  SmallVector<Value> results = {dx};
  if (op.getWeight()) {
    results.push_back(t.reduceSum(t.mul(g, xhat), axes, false));
    results.push_back(t.reduceSum(g, axes, false));
  }
  rewriter.replaceOp(op, results);
  return success();
}
