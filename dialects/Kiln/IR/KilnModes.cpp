//===- KilnModes.cpp - What ops compute when a model evaluates ------------===//
//
// The evaluation forms of the ops whose training behaviour differs (see
// TrainingModeOpInterface): the evaluation and prediction steps build these.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;

void DropoutOp::buildEvaluationForm(OpBuilder &, IRMapping &mapping) {
  mapping.map(getResult(), mapping.lookup(getInput()));
}

void BatchNormOp::buildEvaluationForm(OpBuilder &builder, IRMapping &mapping) {
  cast<BatchNormOp>(builder.clone(*getOperation(), mapping)).setTraining(false);
}
