//===- RefBatchNorm.cpp - Reference batch normalization --------------------===//
//
// Per channel (dimension 1), over the batch and every spatial position, in
// double precision, as torch.nn.BatchNorm1d/2d computes it.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// The elements of one channel of an [N, C, ...] tensor.
struct Channels {
  explicit Channels(ArrayRef<int64_t> shape)
      : batch(shape[0]), count(shape[1]), spatial(product(shape.drop_front(2))) {}

  /// The flat index of the `i`-th element of channel `c`.
  int64_t at(int64_t c, int64_t i) const {
    return ((i / spatial) * count + c) * spatial + i % spatial;
  }
  int64_t perChannel() const { return batch * spatial; }

  int64_t batch, count, spatial;
};

/// The mean and biased variance of channel `c`.
std::pair<double, double> moments(const Tensor &x, const Channels &ch,
                                  int64_t c) {
  double mean = 0, variance = 0;
  for (int64_t i = 0; i < ch.perChannel(); ++i)
    mean += x.reals[ch.at(c, i)];
  mean /= ch.perChannel();
  for (int64_t i = 0; i < ch.perChannel(); ++i) {
    double d = x.reals[ch.at(c, i)] - mean;
    variance += d * d;
  }
  return {mean, variance / ch.perChannel()};
}

} // namespace

static LogicalResult evaluateOp(BatchNormOp op, Frame &frame) {
  if (op.getTraining() &&
      failed(checkOneRank(op, op.getRanks(),
                          "the reference evaluator (one process)")))
    return failure();
  const Tensor &input = frame[op.getInput()];
  Channels ch(input.shape);
  double epsilon = op.getEpsilon().convertToDouble();
  double momentum = op.getMomentum().convertToDouble();
  Tensor result = zeros(input.shape);
  Tensor runningMean = frame[op.getRunningMean()];
  Tensor runningVar = frame[op.getRunningVar()];
  Tensor count = frame[op.getNumBatchesTracked()];
  for (int64_t c = 0; c < ch.count; ++c) {
    double mean = runningMean.reals[c], variance = runningVar.reals[c];
    if (op.getTraining()) {
      std::tie(mean, variance) = moments(input, ch, c);
      int64_t n = ch.perChannel();
      double unbiased = n > 1 ? variance * n / (n - 1) : variance;
      runningMean.reals[c] = (1 - momentum) * runningMean.reals[c] +
                             momentum * mean;
      runningVar.reals[c] = (1 - momentum) * runningVar.reals[c] +
                            momentum * unbiased;
    }
    double rstd = 1 / std::sqrt(variance + epsilon);
    double scale = op.getWeight() ? frame[op.getWeight()].reals[c] : 1;
    double shift = op.getBias() ? frame[op.getBias()].reals[c] : 0;
    for (int64_t i = 0; i < ch.perChannel(); ++i) {
      int64_t at = ch.at(c, i);
      result.reals[at] = (input.reals[at] - mean) * rstd * scale + shift;
    }
  }
  if (op.getTraining())
    count.integers[0] += 1;
  frame.set(op.getResult(), std::move(result));
  frame.set(op.getNewRunningMean(), std::move(runningMean));
  frame.set(op.getNewRunningVar(), std::move(runningVar));
  frame.set(op.getNewNumBatchesTracked(), std::move(count));
  return success();
}

static LogicalResult evaluateOp(BatchNormBackwardOp op, Frame &frame) {
  if (failed(checkOneRank(op, op.getRanks(),
                          "the reference evaluator (one process)")))
    return failure();
  const Tensor &grad = frame[op.getGrad()], &input = frame[op.getInput()];
  Channels ch(input.shape);
  double epsilon = op.getEpsilon().convertToDouble();
  Tensor inputGrad = zeros(input.shape), weightGrad = zeros({ch.count}),
         biasGrad = zeros({ch.count});
  int64_t n = ch.perChannel();
  for (int64_t c = 0; c < ch.count; ++c) {
    auto [mean, variance] = moments(input, ch, c);
    double rstd = 1 / std::sqrt(variance + epsilon);
    double scale = op.getWeight() ? frame[op.getWeight()].reals[c] : 1;
    // With xhat = (x - mean) * rstd and dxhat = grad * weight:
    // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
    double meanDxhat = 0, meanDxhatXhat = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t at = ch.at(c, i);
      double xhat = (input.reals[at] - mean) * rstd;
      meanDxhat += grad.reals[at] * scale / n;
      meanDxhatXhat += grad.reals[at] * scale * xhat / n;
      weightGrad.reals[c] += grad.reals[at] * xhat;
      biasGrad.reals[c] += grad.reals[at];
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t at = ch.at(c, i);
      double xhat = (input.reals[at] - mean) * rstd;
      inputGrad.reals[at] = rstd * (grad.reals[at] * scale - meanDxhat -
                                    xhat * meanDxhatXhat);
    }
  }
  frame.set(op.getInputGrad(), std::move(inputGrad));
  if (op.getWeight()) {
    frame.set(op.getParamGrads()[0], std::move(weightGrad));
    frame.set(op.getParamGrads()[1], std::move(biasGrad));
  }
  return success();
}

void reference::registerBatchNormKernels(KernelTable &table) {
  table.add<BatchNormOp>(evaluateOp);
  table.add<BatchNormBackwardOp>(evaluateOp);
}
