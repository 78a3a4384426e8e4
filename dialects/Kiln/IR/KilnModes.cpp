//===- KilnModes.cpp - What ops compute when a model evaluates ------------===//
//
// The evaluation forms of the ops whose training behaviour differs (see
// TrainingModeOpInterface): the evaluation and prediction steps build these.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/GradientBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace kiln;
using kiln::detail::GradientBuilder;

void DropoutOp::buildEvaluationForm(OpBuilder &, IRMapping &mapping) {
  mapping.map(getResult(), mapping.lookup(getInput()));
}

void AttentionOp::buildEvaluationForm(OpBuilder &builder, IRMapping &mapping) {
  // The same attention without dropout, which then draws nothing.
  auto copy = cast<AttentionOp>(builder.clone(*getOperation(), mapping));
  copy.getCounterMutable().clear();
  copy.setDropout(llvm::APFloat(0.0));
  copy.setSeed(0);
}

void BatchNormOp::buildEvaluationForm(OpBuilder &builder, IRMapping &mapping) {
  cast<BatchNormOp>(builder.clone(*getOperation(), mapping)).setTraining(false);
}

std::tuple<Value, Value, Value>
BatchNormOp::buildRunningStatistics(OpBuilder &builder, Value mean,
                                    Value variance) {
  GradientBuilder t(builder, getLoc());
  ArrayRef<int64_t> shape = detail::shapeOf(getInput());
  // Synchronized, the statistics are over every rank's batch.
  int64_t perChannel = static_cast<int64_t>(getRanks());
  for (auto [d, size] : llvm::enumerate(shape))
    perChannel *= d == 1 ? 1 : size;
  // The unbiased variance is n / (n - 1) times the biased one.
  double correction =
      perChannel > 1 ? double(perChannel) / double(perChannel - 1) : 1.0;
  double momentum = getMomentum().convertToDouble();
  auto update = [&](Value running, Value batch, double scale) {
    Value observed = t.mul(t.reshape(batch, {shape[1]}),
                           t.scalar(momentum * scale, running));
    return t.add(t.mul(running, t.scalar(1 - momentum, running)), observed);
  };
  // Integer arithmetic is not a kiln op: the batch count is arith's, on a
  // scalar tensor, which the linalg lowering makes a generic.
  auto scalar = RankedTensorType::get({}, builder.getI64Type());
  Value one = ConstantOp::create(
      builder, getLoc(),
      DenseElementsAttr::get(scalar, builder.getI64IntegerAttr(1)));
  Value count =
      arith::AddIOp::create(builder, getLoc(), getNumBatchesTracked(), one);
  return {update(getRunningMean(), mean, 1),
          update(getRunningVar(), variance, correction), count};
}

LogicalResult kiln::checkOneRank(Operation *op, uint64_t ranks,
                                 StringRef runner) {
  if (ranks == 1)
    return success();
  return op->emitOpError() << "synchronizes its statistics over " << ranks
                           << " ranks, which " << runner << " cannot";
}
