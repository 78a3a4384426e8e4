//===- RefOptimizer.cpp - Reference semantics of the optimizer ops --------===//
//
// The update formulas are those of the ops' descriptions, which are
// torch.optim's step() functions written out element by element.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// The update number of an optimizer or schedule op, which counts from 1.
FailureOr<int64_t> stepOf(Operation *op, const Tensor &step) {
  int64_t value = step.integers[0];
  if (value < 1)
    return op->emitOpError("step counts updates from 1, got ") << value;
  return value;
}

/// One Adam or AdamW update; `decoupled` selects AdamW's weight decay.
template <typename Op>
LogicalResult adamStep(Op op, Frame &frame, bool decoupled) {
  FailureOr<int64_t> step = stepOf(op, frame[op.getStep()]);
  if (failed(step))
    return failure();
  Tensor param = frame[op.getParam()], expAvg = frame[op.getExpAvg()],
         expAvgSq = frame[op.getExpAvgSq()];
  const Tensor &grad = frame[op.getGrad()];
  double lr = frame[op.getLr()].reals[0];
  double beta1 = op.getBeta1().convertToDouble();
  double beta2 = op.getBeta2().convertToDouble();
  double epsilon = op.getEpsilon().convertToDouble();
  double weightDecay = op.getWeightDecay().convertToDouble();
  double correction1 = 1 - std::pow(beta1, *step);
  double correction2 = 1 - std::pow(beta2, *step);
  for (size_t j = 0; j < param.reals.size(); ++j) {
    double &p = param.reals[j], &m = expAvg.reals[j], &v = expAvgSq.reals[j];
    double g = grad.reals[j];
    if (decoupled)
      p *= 1 - lr * weightDecay;
    else
      g += weightDecay * p;
    m = beta1 * m + (1 - beta1) * g;
    v = beta2 * v + (1 - beta2) * g * g;
    double denom = std::sqrt(v) / std::sqrt(correction2) + epsilon;
    p -= lr / correction1 * m / denom;
  }
  frame.set(op.getNewParam(), std::move(param));
  frame.set(op.getNewExpAvg(), std::move(expAvg));
  frame.set(op.getNewExpAvgSq(), std::move(expAvgSq));
  return success();
}

} // namespace

static LogicalResult evaluateOp(SGDOp op, Frame &frame) {
  FailureOr<int64_t> step = stepOf(op, frame[op.getStep()]);
  if (failed(step))
    return failure();
  Tensor param = frame[op.getParam()];
  const Tensor &grad = frame[op.getGrad()];
  double lr = frame[op.getLr()].reals[0];
  double momentum = op.getMomentum().convertToDouble();
  double dampening = op.getDampening().convertToDouble();
  double weightDecay = op.getWeightDecay().convertToDouble();
  Tensor buffer =
      op.getMomentumBuffer() ? frame[op.getMomentumBuffer()] : Tensor();
  for (size_t j = 0; j < param.reals.size(); ++j) {
    double g = grad.reals[j] + weightDecay * param.reals[j];
    if (momentum != 0) {
      double &buf = buffer.reals[j];
      buf = *step == 1 ? g : momentum * buf + (1 - dampening) * g;
      g = op.getNesterov() ? g + momentum * buf : buf;
    }
    param.reals[j] -= lr * g;
  }
  frame.set(op.getNewParam(), std::move(param));
  if (Value newBuffer = op.getNewMomentumBuffer())
    frame.set(newBuffer, std::move(buffer));
  return success();
}

static LogicalResult evaluateOp(AdamOp op, Frame &frame) {
  return adamStep(op, frame, /*decoupled=*/false);
}

static LogicalResult evaluateOp(AdamWOp op, Frame &frame) {
  return adamStep(op, frame, /*decoupled=*/true);
}

static LogicalResult evaluateOp(LearningRateOp op, Frame &frame) {
  FailureOr<int64_t> step = stepOf(op, frame[op.getStep()]);
  if (failed(step))
    return failure();
  int64_t k = *step - 1, warmup = op.getWarmup(), every = op.getEvery();
  double lr = op.getLr().convertToDouble();
  double rate = lr;
  if (op.getSchedule() == "step") {
    rate = lr * std::pow(op.getGamma().convertToDouble(), k / every);
  } else if (op.getSchedule() == "cosine" && k >= warmup) {
    // Steps past total_steps keep the final rate, min_lr.
    int64_t t = k - warmup;
    int64_t total = frame[op.getTotalSteps()].integers[0] - warmup;
    double progress = total > 0 ? std::min<double>(t, total) / total : 1.0;
    double minLr = op.getMinLr().convertToDouble();
    rate = minLr + (lr - minLr) * (1 + std::cos(M_PI * progress)) / 2;
  }
  if (k < warmup)
    rate *= static_cast<double>(k + 1) / warmup;
  frame.set(op.getResult(), Tensor::real({}, {rate}));
  return success();
}

static LogicalResult evaluateOp(AccumulateOp op, Frame &frame) {
  Tensor sum = frame[op.getSum()];
  const Tensor &term = frame[op.getTerm()];
  for (size_t j = 0; j < sum.reals.size(); ++j)
    sum.reals[j] += term.reals[j];
  frame.set(op.getResult(), std::move(sum));
  return success();
}

static LogicalResult evaluateOp(ClipGradNormOp op, Frame &frame) {
  double squares = 0;
  for (Value grad : op.getGrads())
    for (double x : frame[grad].reals)
      squares += x * x;
  double scale = std::min(1.0, op.getMaxNorm().convertToDouble() /
                                   (std::sqrt(squares) + 1e-6));
  for (auto [grad, result] : llvm::zip(op.getGrads(), op.getResults())) {
    Tensor scaled = frame[grad];
    for (double &x : scaled.reals)
      x *= scale;
    frame.set(result, std::move(scaled));
  }
  return success();
}

/// The evaluator runs one process: the mean over one rank.
static LogicalResult evaluateOp(AllReduceOp op, Frame &frame) {
  for (auto [input, result] : llvm::zip(op.getInputs(), op.getResults()))
    frame.set(result, Tensor(frame[input]));
  return success();
}

void reference::registerOptimizerKernels(KernelTable &table) {
  table.add<SGDOp>(evaluateOp);
  table.add<AdamOp>(evaluateOp);
  table.add<AdamWOp>(evaluateOp);
  table.add<LearningRateOp>(evaluateOp);
  table.add<AccumulateOp>(evaluateOp);
  table.add<ClipGradNormOp>(evaluateOp);
  table.add<AllReduceOp>(evaluateOp);
}
