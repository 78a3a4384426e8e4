//===- BuildPredictStep.cpp - The forward of a trained model ---------------===//
//
// Builds, from the model function:
//
//   @predict_step(params, the inputs the forward reads) -> the model's outputs
//
// the forward in evaluation mode (dropout off), without the loss and the
// metric, so that a trained model runs on inputs that have no labels. It is
// what `trainer predict` and `trainer generate` run, and all that an
// inference library (kilnc --emit=lib) contains.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnNames.h"
#include "Kiln/Transforms/Autodiff.h"
#include "Kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/BitVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNBUILDPREDICTSTEP
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The results of the training recipe and the buffers' new values, which
/// are not the model's outputs.
bool isRecipeResult(func::FuncOp func, unsigned index) {
  if (func.getResultAttr(index, "kiln.buffer"))
    return true;
  auto name = func.getResultAttrOfType<StringAttr>(index, "kiln.output");
  return name && (name.getValue() == "loss" || name.getValue() == "correct");
}

/// The model: the one function that is neither a step nor a gradient.
func::FuncOp findModel(ModuleOp module) {
  func::FuncOp model;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func->hasAttr("kiln.gradient_of") || isStepFunction(func))
      continue;
    if (model)
      return nullptr;
    model = func;
  }
  return model;
}

LogicalResult buildPredictStep(func::FuncOp model) {
  SmallVector<unsigned> outputs;
  for (unsigned i = 0, e = model.getNumResults(); i < e; ++i)
    if (!isRecipeResult(model, i))
      outputs.push_back(i);
  if (outputs.empty())
    return model.emitError("kiln-build-predict-step: the model returns only "
                           "its loss and metric; return the forward's "
                           "outputs too");

  SmallVector<Type> argTypes, resultTypes;
  SmallVector<DictionaryAttr> argAttrs, resultAttrs;
  SmallVector<Location> argLocs;
  SmallVector<unsigned> kept;
  for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i) {
    if (model.getArgAttr(i, "kiln.step"))
      continue;
    kept.push_back(i);
    argTypes.push_back(model.getArgumentTypes()[i]);
    argAttrs.push_back(model.getArgAttrDict(i));
    argLocs.push_back(model.getArgument(i).getLoc());
  }
  for (unsigned i : outputs) {
    resultTypes.push_back(model.getResultTypes()[i]);
    resultAttrs.push_back(model.getResultAttrDict(i));
  }

  OpBuilder builder(model);
  builder.setInsertionPointAfter(model);
  auto predict = func::FuncOp::create(
      builder, model.getLoc(), "predict_step",
      builder.getFunctionType(argTypes, resultTypes));
  predict.setAllArgAttrs(argAttrs);
  predict.setAllResultAttrs(resultAttrs);
  Block *body = builder.createBlock(&predict.getBody(), {}, argTypes, argLocs);

  IRMapping mapping;
  for (auto [n, i] : llvm::enumerate(kept))
    mapping.map(model.getArgument(i), body->getArgument(n));
  for (Operation &op : model.getBody().front().without_terminator()) {
    if (auto modal = dyn_cast<TrainingModeOpInterface>(op))
      modal.buildEvaluationForm(builder, mapping);
    else
      builder.clone(op, mapping);
  }
  auto modelReturn =
      cast<func::ReturnOp>(model.getBody().front().getTerminator());
  SmallVector<Value> returned;
  for (unsigned i : outputs)
    returned.push_back(mapping.lookup(modelReturn.getOperand(i)));
  func::ReturnOp::create(builder, model.getLoc(), returned);

  // The loss and the metric are dead now; so are the inputs only they read
  // (the labels). Parameters stay, so that every step takes the same ones.
  IRRewriter rewriter(builder);
  (void)runRegionDCE(rewriter, predict.getBody());
  llvm::BitVector unused(predict.getNumArguments());
  for (BlockArgument arg : predict.getArguments())
    if (arg.use_empty() && predict.getArgAttr(arg.getArgNumber(), "kiln.input"))
      unused.set(arg.getArgNumber());
  return predict.eraseArguments(unused);
}

struct BuildPredictStepPass
    : kiln::impl::KilnBuildPredictStepBase<BuildPredictStepPass> {
  using KilnBuildPredictStepBase::KilnBuildPredictStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp model = findModel(module);
    // A module read back at a later stage (kilnc's train-step) has its
    // step: only the model may be left to erase.
    if (module.lookupSymbol<func::FuncOp>("predict_step")) {
      if (eraseModel && model)
        model.erase();
      return;
    }
    if (!model) {
      module.emitError("kiln-build-predict-step needs exactly one model "
                       "function besides the steps and gradients");
      return signalPassFailure();
    }
    if (failed(buildPredictStep(model)))
      return signalPassFailure();
    if (eraseModel)
      model.erase();
  }
};

} // namespace
