//===- BuildTrainStep.cpp - The training and evaluation steps -------------===//
//
// Builds, from the model function and the module's `kiln.recipe`:
//
//   @train_step(params, optimizer state, buffers, step, total_steps, inputs)
//       -> (new params, new state, new buffers, loss, correct, lr)
//   @eval_step(params, buffers, inputs) -> (loss, correct, predictions)
//
// The training step is one function: forward, loss, backward (kiln-autodiff),
// the learning rate of the schedule at `step`, gradient clipping and the
// optimizer update, with torch.optim's semantics. With the recipe's
// `accumulate = k`, its inputs hold k micro-batches of the model's batch
// size: one forward and backward pass per micro-batch (each a copy of the
// gradient function), the mean of their gradients and losses, then one
// clipping and one update, as PyTorch's k backward passes of loss / k before
// optimizer.step().
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnNames.h"
#include "Kiln/Transforms/Autodiff.h"
#include "Kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace kiln {
#define GEN_PASS_DEF_KILNBUILDTRAINSTEP
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The optimizer state that one parameter needs, by name suffix.
SmallVector<StringRef> stateNames(StringRef optimizer, double momentum) {
  if (optimizer == "sgd")
    return momentum != 0 ? SmallVector<StringRef>{"momentum_buffer"}
                         : SmallVector<StringRef>{};
  return {"exp_avg", "exp_avg_sq"};
}

double getF64(DictionaryAttr dict, StringRef name, double fallback = 0) {
  auto attr = dict.getAs<FloatAttr>(name);
  return attr ? attr.getValueAsDouble() : fallback;
}

bool getBool(DictionaryAttr dict, StringRef name) {
  auto attr = dict.getAs<BoolAttr>(name);
  return attr && attr.getValue();
}

int64_t getI64(DictionaryAttr dict, StringRef name, int64_t fallback = 0) {
  auto attr = dict.getAs<IntegerAttr>(name);
  return attr ? attr.getInt() : fallback;
}

/// Index of the result named `kiln.output = name`, if any.
std::optional<unsigned> findResult(func::FuncOp func, StringRef name) {
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (auto attr = func.getResultAttrOfType<StringAttr>(i, "kiln.output"))
      if (attr.getValue() == name)
        return i;
  return std::nullopt;
}

/// Arguments and results of a function being built, with their attributes.
struct Signature {
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> attrs;
  SmallVector<Location> locs;

  void add(Type type, DictionaryAttr attr, Location loc) {
    types.push_back(type);
    attrs.push_back(attr);
    locs.push_back(loc);
  }
};

class TrainStepBuilder {
public:
  TrainStepBuilder(func::FuncOp model, DictionaryAttr recipe)
      : model(model), recipe(recipe), builder(model) {
    builder.setInsertionPointAfter(model);
  }

  LogicalResult buildTrainStep();
  LogicalResult buildEvalStep();

private:
  DictionaryAttr named(StringRef attr, StringRef value) {
    return builder.getDictionaryAttr(
        builder.getNamedAttr(attr, builder.getStringAttr(value)));
  }
  DictionaryAttr unit(StringRef attr) {
    return builder.getDictionaryAttr(
        builder.getNamedAttr(attr, builder.getUnitAttr()));
  }
  func::FuncOp createFunction(StringRef name, const Signature &args,
                              const Signature &results);
  /// The correct predictions of all micro-batches, counted at once from
  /// their counts.
  FailureOr<Value> countOverMicroBatches(Location loc, ArrayRef<Value> counts);
  /// Updates one parameter; appends the new parameter and state.
  void update(Location loc, Value param, Value grad, ArrayRef<Value> state,
              Value lr, Value step, SmallVectorImpl<Value> &newParams,
              SmallVectorImpl<Value> &newState);

  func::FuncOp model;
  DictionaryAttr recipe;
  OpBuilder builder;
};

func::FuncOp TrainStepBuilder::createFunction(StringRef name,
                                              const Signature &args,
                                              const Signature &results) {
  auto func = func::FuncOp::create(builder, model.getLoc(), name,
                                   builder.getFunctionType(args.types,
                                                           results.types));
  func.setAllArgAttrs(args.attrs);
  func.setAllResultAttrs(results.attrs);
  OpBuilder::InsertionGuard guard(builder);
  builder.createBlock(&func.getBody(), {}, args.types, args.locs);
  return func;
}

void TrainStepBuilder::update(Location loc, Value param, Value grad,
                              ArrayRef<Value> state, Value lr, Value step,
                              SmallVectorImpl<Value> &newParams,
                              SmallVectorImpl<Value> &newState) {
  auto optimizer = recipe.getAs<DictionaryAttr>("optimizer");
  StringRef kind = optimizer.getAs<StringAttr>("kind").getValue();
  double decay = getF64(optimizer, "weight_decay");
  if (kind == "sgd") {
    auto sgd =
        SGDOp::create(builder, loc, param, grad, lr, step,
                      state.empty() ? Value() : state.front(),
                      builder.getF64FloatAttr(getF64(optimizer, "momentum")),
                      builder.getF64FloatAttr(getF64(optimizer, "dampening")),
                      builder.getF64FloatAttr(decay),
                      builder.getBoolAttr(getBool(optimizer, "nesterov")));
    newParams.push_back(sgd.getNewParam());
    if (Value buffer = sgd.getNewMomentumBuffer())
      newState.push_back(buffer);
    return;
  }
  FloatAttr beta1 = builder.getF64FloatAttr(getF64(optimizer, "beta1"));
  FloatAttr beta2 = builder.getF64FloatAttr(getF64(optimizer, "beta2"));
  FloatAttr eps = builder.getF64FloatAttr(getF64(optimizer, "eps"));
  FloatAttr decayAttr = builder.getF64FloatAttr(decay);
  auto collect = [&](auto op) {
    newParams.push_back(op.getNewParam());
    newState.push_back(op.getNewExpAvg());
    newState.push_back(op.getNewExpAvgSq());
  };
  if (kind == "adam")
    collect(AdamOp::create(builder, loc, param, grad, state[0], state[1], lr,
                           step, beta1, beta2, eps, decayAttr));
  else
    collect(AdamWOp::create(builder, loc, param, grad, state[0], state[1], lr,
                            step, beta1, beta2, eps, decayAttr));
}

LogicalResult TrainStepBuilder::buildTrainStep() {
  std::optional<unsigned> lossIndex = findLossResult(model);
  SmallVector<unsigned> params = parameterArguments(model);
  FailureOr<func::FuncOp> grad =
      findOrBuildGradientFunction(model, *lossIndex, params);
  if (failed(grad))
    return failure();

  auto optimizer = recipe.getAs<DictionaryAttr>("optimizer");
  StringRef kind = optimizer.getAs<StringAttr>("kind").getValue();
  SmallVector<StringRef> states =
      stateNames(kind, getF64(optimizer, "momentum"));
  int64_t microBatches = getI64(recipe, "accumulate", 1);
  if (microBatches < 1)
    return model.emitError("kiln.recipe's accumulate must be positive, got ")
           << microBatches;

  // Arguments: parameters, their state, step, total_steps, inputs.
  Signature args, results;
  Type i64Scalar = RankedTensorType::get({}, builder.getI64Type());
  for (unsigned i : params)
    args.add(model.getArgumentTypes()[i], model.getArgAttrDict(i),
             model.getArgument(i).getLoc());
  for (unsigned i : params)
    for (StringRef state : states)
      args.add(model.getArgumentTypes()[i],
               named("kiln.state", getArgumentName(model, i) + "." + state.str()),
               model.getArgument(i).getLoc());
  SmallVector<unsigned> buffers;
  for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i)
    if (model.getArgAttr(i, "kiln.buffer")) {
      buffers.push_back(i);
      args.add(model.getArgumentTypes()[i], model.getArgAttrDict(i),
               model.getArgument(i).getLoc());
    }
  unsigned bufferArg = args.types.size() - buffers.size();
  unsigned stepArg = args.types.size();
  args.add(i64Scalar, unit("kiln.step"), model.getLoc());
  args.add(i64Scalar, unit("kiln.total_steps"), model.getLoc());
  // With accumulation an input holds the micro-batches one after another.
  SmallVector<unsigned> inputs;
  for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i)
    if (model.getArgAttr(i, "kiln.input")) {
      inputs.push_back(i);
      auto type = cast<RankedTensorType>(model.getArgumentTypes()[i]);
      if (microBatches > 1) {
        if (type.getRank() == 0 || type.isDynamicDim(0))
          return emitError(model.getArgument(i).getLoc(),
                           "accumulating micro-batches needs inputs with a "
                           "static batch dimension first, got ")
                 << type;
        SmallVector<int64_t> shape(type.getShape());
        shape[0] *= microBatches;
        type = type.clone(shape);
      }
      args.add(type, model.getArgAttrDict(i), model.getArgument(i).getLoc());
    }

  // Results: new parameters, new state, loss, correct.
  for (unsigned i : params)
    results.add(model.getArgumentTypes()[i],
                named("kiln.param", getArgumentName(model, i)), model.getLoc());
  for (unsigned i : params)
    for (StringRef state : states)
      results.add(model.getArgumentTypes()[i],
                  named("kiln.state",
                        getArgumentName(model, i) + "." + state.str()),
                  model.getLoc());
  SmallVector<unsigned> bufferResults;
  for (unsigned i = 0, e = model.getNumResults(); i < e; ++i)
    if (auto name = model.getResultAttrOfType<StringAttr>(i, "kiln.buffer")) {
      bufferResults.push_back(i);
      results.add(model.getResultTypes()[i], named("kiln.buffer", name.getValue()),
                  model.getLoc());
    }
  results.add(model.getResultTypes()[*lossIndex], named("kiln.output", "loss"),
              model.getLoc());
  std::optional<unsigned> correctIndex = findResult(model, "correct");
  if (correctIndex)
    results.add(model.getResultTypes()[*correctIndex],
                named("kiln.output", "correct"), model.getLoc());
  results.add(RankedTensorType::get({}, builder.getF32Type()),
              named("kiln.output", "lr"), model.getLoc());

  func::FuncOp step = createFunction("train_step", args, results);
  Block &body = step.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&body);
  auto gradReturn =
      cast<func::ReturnOp>(grad->getBody().front().getTerminator());

  // The result that updates each buffer argument, by name: micro-batch j
  // starts from the running statistics that micro-batch j - 1 left, as k
  // forward calls in PyTorch do.
  SmallVector<std::optional<unsigned>> bufferUpdates;
  for (unsigned i : buffers) {
    std::string name = getArgumentName(model, i);
    bufferUpdates.push_back(std::nullopt);
    for (auto [n, r] : llvm::enumerate(bufferResults))
      if (model.getResultAttrOfType<StringAttr>(r, "kiln.buffer").getValue() ==
          name)
        bufferUpdates.back() = n;
  }

  // One forward and backward pass per micro-batch, each a copy of the
  // gradient function. The sums grow as each pass ends (kiln.accumulate,
  // which stays there through fusion), so that the memory plan keeps one
  // micro-batch's gradients alive beside them, not k.
  Location loc = model.getLoc();
  SmallVector<Value> grads, newBuffers, counts;
  Value loss;
  for (int64_t j = 0; j < microBatches; ++j) {
    IRMapping mapping;
    for (auto [n, i] : llvm::enumerate(params))
      mapping.map(grad->getArgument(i), body.getArgument(n));
    for (auto [n, i] : llvm::enumerate(buffers)) {
      Value start = body.getArgument(bufferArg + n);
      if (j > 0 && bufferUpdates[n])
        start = newBuffers[*bufferUpdates[n]];
      mapping.map(grad->getArgument(i), start);
    }
    for (auto [n, i] : llvm::enumerate(inputs)) {
      Value input = body.getArgument(stepArg + 2 + n);
      if (microBatches > 1) {
        // Rows [j * B, (j + 1) * B) of the k * B examples.
        auto type = cast<RankedTensorType>(model.getArgumentTypes()[i]);
        SmallVector<int64_t> offsets(type.getRank(), 0);
        offsets[0] = j * type.getDimSize(0);
        input = SliceOp::create(builder, model.getArgument(i).getLoc(), input,
                                offsets, type.getShape(),
                                SmallVector<int64_t>(type.getRank(), 1));
      }
      mapping.map(grad->getArgument(i), input);
    }
    // Dropout draws from the step counter.
    for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i)
      if (model.getArgAttr(i, "kiln.step"))
        mapping.map(grad->getArgument(i), body.getArgument(stepArg));

    for (Operation &op : grad->getBody().front().without_terminator()) {
      Operation *copy = builder.clone(op, mapping);
      // Each micro-batch draws masks of its own at the same step: its sites
      // are the model's, moved past every site number (the node index that
      // Sema gives). A forward op that draws (dropout, attention with
      // dropout) and its adjoint stay paired.
      auto random = dyn_cast<RandomOpInterface>(copy);
      if (random && random.getCounter() && j > 0)
        random.setSeed(random.getSeed() + (static_cast<uint64_t>(j) << 32));
    }
    auto mapped = [&](unsigned result) {
      return mapping.lookup(gradReturn.getOperand(result));
    };
    auto accumulate = [&](Value sum, Value term) {
      return j == 0 ? term
                    : AccumulateOp::create(builder, loc, sum, term).getResult();
    };
    grads.resize(params.size());
    for (unsigned n = 0; n < params.size(); ++n)
      grads[n] = accumulate(grads[n], mapped(model.getNumResults() + n));
    loss = accumulate(loss, mapped(*lossIndex));
    newBuffers.clear();
    for (unsigned i : bufferResults)
      newBuffers.push_back(mapped(i));
    if (correctIndex)
      counts.push_back(mapped(*correctIndex));
  }

  Value correct = counts.empty() ? Value() : counts.front();
  if (microBatches > 1) {
    // The means: with losses that are means over a batch, the gradient and
    // loss of the k * B examples.
    auto f32Scalar = RankedTensorType::get({}, builder.getF32Type());
    Value scale = ConstantOp::create(
        builder, loc,
        DenseElementsAttr::get(f32Scalar,
                               builder.getF32FloatAttr(1.0 / microBatches)));
    for (Value &grad : grads)
      grad = MulOp::create(builder, loc, grad, scale);
    loss = MulOp::create(builder, loc, loss, scale);
    if (correct) {
      FailureOr<Value> count = countOverMicroBatches(loc, counts);
      if (failed(count))
        return failure();
      correct = *count;
    }
  }

  auto schedule = recipe.getAs<DictionaryAttr>("schedule");
  Value lr = LearningRateOp::create(
      builder, loc, body.getArgument(stepArg), body.getArgument(stepArg + 1),
      schedule.getAs<StringAttr>("kind"),
      builder.getF64FloatAttr(getF64(optimizer, "lr")),
      builder.getI64IntegerAttr(getI64(schedule, "warmup")),
      builder.getI64IntegerAttr(getI64(schedule, "every", 1)),
      builder.getF64FloatAttr(getF64(schedule, "gamma", 0.1)),
      builder.getF64FloatAttr(getF64(schedule, "min_lr")));
  if (auto clip = recipe.getAs<FloatAttr>("clip_grad_norm")) {
    auto clipped = ClipGradNormOp::create(builder, loc, grads, clip);
    grads.assign(clipped.getResults().begin(), clipped.getResults().end());
  }

  SmallVector<Value> newParams, newState;
  for (auto [n, grad] : llvm::enumerate(grads)) {
    ArrayRef<BlockArgument> state = body.getArguments().slice(
        params.size() + n * states.size(), states.size());
    update(model.getArgument(params[n]).getLoc(), body.getArgument(n), grad,
           SmallVector<Value>(state.begin(), state.end()), lr,
           body.getArgument(stepArg), newParams, newState);
  }
  SmallVector<Value> returned = newParams;
  llvm::append_range(returned, newState);
  llvm::append_range(returned, newBuffers);
  returned.push_back(loss);
  if (correct)
    returned.push_back(correct);
  returned.push_back(lr);
  func::ReturnOp::create(builder, loc, returned);
  grad->erase();
  return success();
}

FailureOr<Value>
TrainStepBuilder::countOverMicroBatches(Location loc, ArrayRef<Value> counts) {
  // kiln has no integer addition: the count is taken once, over the
  // micro-batches' predictions and labels joined, and replaces theirs.
  SmallVector<Value> predictions, labels;
  for (Value count : counts) {
    auto countOp = count.getDefiningOp<CountEqualOp>();
    if (!countOp)
      return model.emitError("accumulating micro-batches needs the result "
                             "kiln.output = \"correct\" from kiln.count_equal");
    predictions.push_back(countOp.getLhs());
    labels.push_back(countOp.getRhs());
  }
  Value joinedPredictions = ConcatOp::create(builder, loc, predictions, 0);
  Value joinedLabels = ConcatOp::create(builder, loc, labels, 0);
  Value total =
      CountEqualOp::create(builder, loc, joinedPredictions, joinedLabels);
  for (Value count : counts)
    if (count.use_empty())
      count.getDefiningOp()->erase();
  return total;
}

LogicalResult TrainStepBuilder::buildEvalStep() {
  // The model in evaluation mode: dropout off; the loss and, with a metric,
  // the number of correct predictions and the prediction of each example (so
  // that a partial last batch can be scored).
  Signature args, results;
  SmallVector<unsigned> kept;
  for (unsigned i = 0, e = model.getNumArguments(); i < e; ++i)
    if (!model.getArgAttr(i, "kiln.step")) {
      kept.push_back(i);
      args.add(model.getArgumentTypes()[i], model.getArgAttrDict(i),
               model.getArgument(i).getLoc());
    }
  auto modelReturn =
      cast<func::ReturnOp>(model.getBody().front().getTerminator());
  SmallVector<Value> outputs = {modelReturn.getOperand(*findLossResult(model))};
  results.add(outputs.back().getType(), named("kiln.output", "loss"),
              model.getLoc());
  if (std::optional<unsigned> correct = findResult(model, "correct")) {
    Value count = modelReturn.getOperand(*correct);
    outputs.push_back(count);
    results.add(count.getType(), named("kiln.output", "correct"),
                model.getLoc());
    if (auto countOp = count.getDefiningOp<CountEqualOp>()) {
      outputs.push_back(countOp.getLhs());
      results.add(countOp.getLhs().getType(),
                  named("kiln.output", "predictions"), model.getLoc());
    }
  }

  func::FuncOp eval = createFunction("eval_step", args, results);
  Block &body = eval.getBody().front();
  IRMapping mapping;
  for (auto [n, i] : llvm::enumerate(kept))
    mapping.map(model.getArgument(i), body.getArgument(n));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&body);
  for (Operation &op : model.getBody().front().without_terminator()) {
    if (auto modal = dyn_cast<TrainingModeOpInterface>(op))
      modal.buildEvaluationForm(builder, mapping);
    else
      builder.clone(op, mapping);
  }
  SmallVector<Value> returned;
  for (Value output : outputs)
    returned.push_back(mapping.lookup(output));
  func::ReturnOp::create(builder, model.getLoc(), returned);
  return success();
}

struct BuildTrainStepPass
    : kiln::impl::KilnBuildTrainStepBase<BuildTrainStepPass> {
  using KilnBuildTrainStepBase::KilnBuildTrainStepBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto recipe = module->getAttrOfType<DictionaryAttr>("kiln.recipe");
    if (!recipe) {
      module.emitError("kiln-build-train-step needs the module attribute "
                       "kiln.recipe; a Kiln file's train section gives it");
      return signalPassFailure();
    }
    func::FuncOp model;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func->hasAttr("kiln.gradient_of") && !isStepFunction(func) &&
          findLossResult(func))
        model = func;
    // A module read back at a later stage (kilnc's train-step) has its
    // steps: only the model may be left to erase.
    if (module.lookupSymbol<func::FuncOp>("train_step")) {
      if (eraseModel && model)
        model.erase();
      return;
    }
    if (!model) {
      module.emitError("kiln-build-train-step found no function with a "
                       "result named kiln.output = \"loss\"");
      return signalPassFailure();
    }
    TrainStepBuilder builder(model, recipe);
    if (failed(builder.buildEvalStep()) || failed(builder.buildTrainStep()))
      return signalPassFailure();
    if (eraseModel)
      model.erase();
  }
};

} // namespace
