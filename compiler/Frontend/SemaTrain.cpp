//===- SemaTrain.cpp - The train section: data, loss, optimizer, schedule -===//

#include "Frontend/DataSources.h"
#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

namespace {
constexpr const char *kSettings[] = {
    "data",   "transforms", "drop_last",       "batch_size", "accumulate",
    "epochs", "loss",       "optimizer",       "schedule",   "clip_grad_norm",
    "metric", "seed",       "sync_batch_norm", "precision"};

/// "the settings are data, transforms, ... and sync_batch_norm".
std::string settingList() {
  std::string list = "the settings are ";
  for (auto [i, name] : llvm::enumerate(kSettings))
    list += std::string(i == 0                          ? ""
                        : i + 1 == std::size(kSettings) ? " and "
                                                        : ", ") +
            name;
  return list;
}
/// The training step holds one copy of the forward and backward pass per
/// micro-batch, and compile time grows faster than their number: 64 copies
/// of examples/mlp.kiln compile in 25 s and 0.9 GB, 128 in 105 s and 3.3 GB,
/// 256 in 12 minutes and 13 GB (lowering one long function to LLVM, then
/// optimizing it).
constexpr int64_t kMaxAccumulate = 64;

const Setting *findSetting(const TrainDecl &train, llvm::StringRef name) {
  for (const Setting &setting : train.settings)
    if (setting.name.name == name)
      return &setting;
  return nullptr;
}
} // namespace

std::optional<int64_t> Elaborator::findBatchSize() {
  std::optional<int64_t> global;
  SMLoc loc;
  if (options.batchSize) {
    if (*options.batchSize <= 0) {
      diags.error(SMLoc(), "--batch-size must be positive");
      return std::nullopt;
    }
    global = options.batchSize;
  } else {
    if (module.trains.empty())
      return std::nullopt;
    const Setting *setting = findSetting(module.trains.front(), "batch_size");
    if (!setting)
      return std::nullopt;
    Scope scope;
    std::optional<Value> value = eval(*setting->value, scope);
    if (!value)
      return std::nullopt;
    loc = setting->value->getLoc();
    global = asPositive(*value, loc, "batch_size");
    if (!global)
      return std::nullopt;
  }
  // batch_size is the global batch; each rank compiles its share.
  if (*global % options.ranks != 0)
    return error(loc,
                 Twine(options.batchSize ? "--batch-size " : "batch_size ") +
                     Twine(*global) + " does not divide over " +
                     Twine(options.ranks) + " ranks (kilnc --ranks " +
                     Twine(options.ranks) + ")",
                 "each rank takes an equal share of the batch: choose a "
                 "batch_size that is a multiple of the ranks, or other ranks");
  return *global / options.ranks;
}

std::optional<int64_t> Elaborator::findBatchNormRanks() {
  const Setting *setting =
      module.trains.empty()
          ? nullptr
          : findSetting(module.trains.front(), "sync_batch_norm");
  if (!setting)
    return 1;
  Scope scope;
  std::optional<Value> value = eval(*setting->value, scope);
  std::optional<bool> sync =
      value ? asBool(*value, setting->value->getLoc(), "sync_batch_norm")
            : std::nullopt;
  if (!sync)
    return std::nullopt;
  return *sync ? options.ranks : 1;
}

namespace {

/// Evaluates `name(...)` settings such as `optimizer = sgd(lr: 0.1)`: the
/// callee must be one of `kinds`; returns its name and bound arguments.
struct OptionCall {
  std::string kind;
  Arguments args;
};

std::optional<OptionCall>
optionCall(Elaborator &e, const Setting &setting,
           const std::vector<std::pair<const char *, std::vector<ParamSpec>>> &kinds) {
  std::string names;
  for (auto [i, kind] : llvm::enumerate(kinds))
    names += std::string(i ? (i + 1 == kinds.size() ? " or " : ", ") : "") +
             kind.first + "(...)";
  const auto *call = llvm::dyn_cast<CallExpr>(setting.value.get());
  const auto *callee =
      call ? llvm::dyn_cast<NameExpr>(&call->getCallee()) : nullptr;
  if (!callee)
    return e.error(setting.value->getLoc(),
                   setting.name.name + " must be " + names);
  for (const auto &[kind, params] : kinds) {
    if (callee->getName() != kind)
      continue;
    Scope scope;
    std::optional<Arguments> args =
        e.bind(kind, call->getLoc(), params, *call, scope);
    if (!args)
      return std::nullopt;
    return OptionCall{kind, std::move(*args)};
  }
  return e.error(callee->getLoc(),
                 "unknown " + setting.name.name + " '" + callee->getName() + "'",
                 setting.name.name + " must be " + names);
}


/// The value of argument `i` of `args` as its parameter's type asks, with
/// the parameter's rule checked.
std::optional<RecipeValue> recipeValue(Elaborator &e, const Arguments &args,
                                       size_t i, const RecipeParam &param,
                                       const std::vector<InputInfo> &inputs,
                                       const Program &program) {
  const Value &value = args[i];
  SMLoc loc = args.locOf(i);
  // "csv's label", "images' size".
  std::string what = args.callee.str() +
                     (args.callee.ends_with("s") ? "' " : "'s ") + param.name;
  std::optional<RecipeValue> result;
  switch (param.type) {
  case RecipeArgType::Bool:
    if (std::optional<bool> b = e.asBool(value, loc, what))
      result = *b;
    break;
  case RecipeArgType::Integer:
    if (std::optional<int64_t> n = e.asInteger(value, loc, what))
      result = *n;
    break;
  case RecipeArgType::Real:
    if (std::optional<double> x = e.asNumber(value, loc, what))
      result = *x;
    break;
  case RecipeArgType::String:
    if (std::optional<std::string> text = e.asString(value, loc, what))
      result = *text;
    break;
  case RecipeArgType::Reals:
  case RecipeArgType::Strings: {
    bool reals = param.type == RecipeArgType::Reals;
    if (value.kind != Value::Kind::List)
      return e.error(loc, what + " must be a list of " +
                              (reals ? "numbers" : "strings") + ", got " +
                              e.describe(value));
    std::vector<double> numbers;
    std::vector<std::string> strings;
    for (const Value &element : value.elements) {
      if (reals && element.isNumber())
        numbers.push_back(element.number());
      else if (!reals && element.kind == Value::Kind::String)
        strings.push_back(element.string);
      else
        return e.error(loc, what + " must be a list of " +
                                (reals ? "numbers" : "strings") +
                                ", but it holds " + e.describe(element));
    }
    if (reals)
      result = std::move(numbers);
    else
      result = std::move(strings);
    break;
  }
  case RecipeArgType::Input: {
    auto input = value.kind == Value::Kind::Tensor
                     ? llvm::find_if(program.inputs,
                                     [&](const Input &in) {
                                       return in.value == value.tensor;
                                     })
                     : program.inputs.end();
    if (input == program.inputs.end()) {
      std::string names;
      for (const InputInfo &info : inputs)
        names += (names.empty() ? "" : ", ") + info.name;
      return e.error(loc, what + " must name one of the model's inputs",
                     "the inputs are " + names);
    }
    result = input->name;
    break;
  }
  }
  if (!result)
    return std::nullopt;

  auto number = [&]() -> std::optional<double> {
    if (const int64_t *n = std::get_if<int64_t>(&*result))
      return static_cast<double>(*n);
    if (const double *x = std::get_if<double>(&*result))
      return *x;
    return std::nullopt;
  };
  const std::string *text = std::get_if<std::string>(&*result);
  switch (param.rule) {
  case RecipeArgRule::Any:
    break;
  case RecipeArgRule::Positive:
    if (*number() <= 0)
      return e.error(loc, what + " must be positive");
    break;
  case RecipeArgRule::NonNegative:
    if (*number() < 0)
      return e.error(loc, what + " must not be negative");
    break;
  case RecipeArgRule::Fraction:
    if (*number() < 0 || *number() >= 1)
      return e.error(loc, what + " must be at least 0 and below 1");
    break;
  case RecipeArgRule::Probability:
    if (*number() < 0 || *number() > 1)
      return e.error(loc, what + " must be from 0 to 1");
    break;
  case RecipeArgRule::Path:
    if (text->empty())
      return e.error(loc, what + " must not be empty");
    break;
  case RecipeArgRule::Character:
    if (text->size() != 1)
      return e.error(loc, what + " must be one character, got \"" + *text +
                              "\"");
    break;
  case RecipeArgRule::Choice: {
    std::string chosen = text ? *text : formatRecipeValue(*result);
    llvm::SmallVector<llvm::StringRef> choices;
    llvm::StringRef(param.choices).split(choices, '|');
    if (!llvm::is_contained(choices, chosen)) {
      std::string allowed;
      for (auto [k, choice] : llvm::enumerate(choices))
        allowed += (k ? (k + 1 == choices.size() ? " or " : ", ") : "") +
                   (text ? "\"" + choice.str() + "\"" : choice.str());
      return e.error(loc, what + " must be " + allowed + ", got " +
                              formatRecipeValue(*result));
    }
    break;
  }
  }
  return result;
}

} // namespace

/// Binds `expr`, a call of an entry of `table`, to that entry: every
/// argument typed and checked, defaults filled in, then the entry's check of
/// the call and the model's inputs. `what` names the setting in messages.
std::optional<RecipeCall>
Elaborator::bindRecipeCall(const std::vector<RecipeCallSpec> &table,
                           const Expr &expr, const char *what,
                           const std::vector<InputInfo> &inputs,
                           Scope &scope) {
  std::string names = listRecipeCalls(table);
  const auto *call = llvm::dyn_cast<CallExpr>(&expr);
  const auto *callee =
      call ? llvm::dyn_cast<NameExpr>(&call->getCallee()) : nullptr;
  if (!callee)
    return error(expr.getLoc(), Twine(what) + " must be " + names);
  const RecipeCallSpec *spec = findRecipeCall(table, callee->getName());
  if (!spec)
    return error(callee->getLoc(),
                 "unknown " + Twine(what) + " '" + callee->getName() + "'",
                 Twine(what) + " must be " + names);
  std::vector<ParamSpec> params;
  for (const RecipeParam &param : spec->params)
    params.push_back({param.name, !param.fallback});
  std::optional<Arguments> args =
      bind(spec->name, call->getLoc(), params, *call, scope);
  if (!args)
    return std::nullopt;
  RecipeCall bound;
  bound.spec = spec;
  for (auto [i, param] : llvm::enumerate(spec->params)) {
    bound.given.push_back(args->has(i));
    if (!args->has(i)) {
      bound.values.push_back(*param.fallback);
      continue;
    }
    std::optional<RecipeValue> value =
        recipeValue(*this, *args, i, param, inputs, program);
    if (!value)
      return std::nullopt;
    bound.values.push_back(std::move(*value));
  }
  std::optional<RecipeProblem> problem =
      spec->check(bound, inputs, *batchSize);
  if (!problem)
    return bound;
  SMLoc loc = call->getLoc();
  if (problem->input)
    loc = program.inputs[*problem->input].loc;
  else if (!problem->argument.empty())
    loc = args->locOf(spec->indexOf(problem->argument));
  if (problem->hint.empty())
    return error(loc, problem->message);
  return error(loc, problem->message, problem->hint);
}

bool Elaborator::elaborateTrain(const TrainDecl &train, Scope &modelScope) {
  llvm::StringMap<SMLoc> seen;
  for (const Setting &setting : train.settings) {
    if (!llvm::is_contained(kSettings, setting.name.name)) {
      return reject(setting.name.loc,
                    "unknown setting '" + setting.name.name + "'",
                    settingList());
    }
    auto [it, inserted] = seen.try_emplace(setting.name.name, setting.name.loc);
    if (!inserted) {
      reject(setting.name.loc,
             "setting '" + setting.name.name + "' is given twice");
      diags.note(it->second, "the first one is here");
      return false;
    }
  }
  for (const char *required : {"data", "batch_size", "loss", "optimizer"})
    if (!seen.count(required)) {
      return reject(train.loc,
                    Twine("the train section needs '") + required + "'",
                    settingList());
    }

  Recipe recipe;
  recipe.batchSize = *batchSize;
  recipe.ranks = options.ranks;
  Scope constScope;
  auto number = [&](const char *name) -> std::optional<Value> {
    const Setting *setting = findSetting(train, name);
    if (!setting)
      return std::nullopt;
    return eval(*setting->value, constScope);
  };
  auto locOf = [&](const char *name) {
    return findSetting(train, name)->value->getLoc();
  };
  if (std::optional<Value> epochs = number("epochs")) {
    std::optional<int64_t> value = asPositive(*epochs, locOf("epochs"), "epochs");
    if (!value)
      return false;
    recipe.epochs = *value;
  }
  if (std::optional<Value> accumulate = number("accumulate")) {
    std::optional<int64_t> value =
        asPositive(*accumulate, locOf("accumulate"), "accumulate");
    if (!value)
      return false;
    if (*value > kMaxAccumulate)
      return reject(locOf("accumulate"),
                    "accumulate must be at most " + Twine(kMaxAccumulate) +
                        ", got " + Twine(*value),
                    "the training step holds a copy of the model for each "
                    "micro-batch, which compile time pays for; raise "
                    "batch_size and lower accumulate");
    recipe.accumulate = *value;
  }
  if (std::optional<Value> seed = number("seed")) {
    std::optional<int64_t> value = asInteger(*seed, locOf("seed"), "seed");
    if (!value)
      return false;
    if (*value < 0)
      return reject(locOf("seed"), "seed must not be negative");
    recipe.seed = *value;
  }
  if (std::optional<Value> clip = number("clip_grad_norm")) {
    std::optional<double> value =
        asNumber(*clip, locOf("clip_grad_norm"), "clip_grad_norm");
    if (!value)
      return false;
    if (*value <= 0)
      return reject(locOf("clip_grad_norm"), "clip_grad_norm must be positive",
                   "leave it out to train without clipping");
    recipe.clipGradNorm = *value;
  }
  if (options.precision) {
    recipe.precision = *options.precision;
  } else if (const Setting *setting = findSetting(train, "precision")) {
    const auto *name = llvm::dyn_cast<NameExpr>(setting->value.get());
    std::optional<Precision> precision =
        name ? parsePrecision(name->getName()) : std::nullopt;
    if (!precision)
      return reject(setting->value->getLoc(), "precision must be f32 or bf16",
                    "bf16 runs convolutions, matrix products, recurrent "
                    "layers and attention on bfloat16 values with float32 "
                    "accumulation, as torch.autocast; f32 (the default) runs "
                    "everything in float32");
    recipe.precision = *precision;
  }
  if (diags.hadError())
    return false;

  // Real numbers of the recipe: positive, or at least not negative.
  auto real = [&](const Arguments &args, size_t i, double fallback,
                  const char *name, bool positive) -> std::optional<double> {
    if (!args.has(i))
      return fallback;
    std::optional<double> value = asNumber(
        args[i], args.locOf(i), "argument '" + Twine(name) + "' of " + args.callee);
    if (!value)
      return std::nullopt;
    if (positive ? *value <= 0 : *value < 0)
      return error(args.locOf(i),
                   args.callee + "'s " + name +
                       (positive ? " must be positive" : " must not be negative"));
    return value;
  };
  auto integer = [&](const Arguments &args, size_t i, int64_t fallback,
                     const char *name) -> std::optional<int64_t> {
    if (!args.has(i))
      return fallback;
    return asPositive(args[i], args.locOf(i),
                      "argument '" + Twine(name) + "' of " + args.callee);
  };

  // Data, and the transforms of its images.
  std::vector<InputInfo> inputs;
  for (const Input &input : program.inputs)
    inputs.push_back({input.name, typeOf(input.value)});
  for (const Input &input : program.inputs) {
    const TensorType &type = typeOf(input.value);
    if (type.shape.empty() || type.shape[0] != *batchSize)
      return reject(input.loc, "input '" + input.name +
                                   "' must have the batch size (" +
                                   Twine(*batchSize) +
                                   ") as its first dimension, got " + type.str(),
                    "write its shape as [batch, ...]");
  }
  const Setting &dataSetting = *findSetting(train, "data");
  std::optional<RecipeCall> data = bindRecipeCall(
      dataSources(), *dataSetting.value, "data", inputs, constScope);
  if (!data)
    return false;
  recipe.data = std::move(*data);
  if (const Setting *setting = findSetting(train, "transforms")) {
    const auto *list = llvm::dyn_cast<ListExpr>(setting->value.get());
    if (!list)
      return reject(setting->value->getLoc(),
                    "transforms must be a list: [" +
                        listRecipeCalls(kiln::transforms()) + "]");
    for (const ExprPtr &element : list->getElements()) {
      std::optional<RecipeCall> transform = bindRecipeCall(
          kiln::transforms(), *element, "transform", inputs, modelScope);
      if (!transform)
        return false;
      recipe.transforms.push_back(std::move(*transform));
    }
  }
  if (const Setting *setting = findSetting(train, "drop_last")) {
    std::optional<Value> value = eval(*setting->value, constScope);
    std::optional<bool> dropLast =
        value ? asBool(*value, setting->value->getLoc(), "drop_last")
              : std::nullopt;
    if (!dropLast)
      return false;
    recipe.dropLast = *dropLast;
  }

  // Optimizer.
  std::vector<ParamSpec> adamParams = {{"lr", false},    {"beta1", false},
                                       {"beta2", false}, {"eps", false},
                                       {"weight_decay", false}};
  auto optimizer = optionCall(*this, *findSetting(train, "optimizer"),
                              {{"sgd",
                                {{"lr", true},
                                 {"momentum", false},
                                 {"dampening", false},
                                 {"weight_decay", false},
                                 {"nesterov", false}}},
                               {"adam", adamParams},
                               {"adamw", adamParams}});
  if (!optimizer)
    return false;
  Recipe::Optimizer &o = recipe.optimizer;
  const Arguments &oargs = optimizer->args;
  o.kind = optimizer->kind;
  auto lr = real(oargs, 0, 1e-3, "lr", true);
  if (!lr)
    return false;
  o.lr = *lr;
  if (o.kind == "sgd") {
    auto momentum = real(oargs, 1, 0, "momentum", false);
    auto dampening = momentum ? real(oargs, 2, 0, "dampening", false) : std::nullopt;
    auto decay = dampening ? real(oargs, 3, 0, "weight_decay", false) : std::nullopt;
    if (!decay)
      return false;
    o.momentum = *momentum, o.dampening = *dampening, o.weightDecay = *decay;
    if (oargs.has(4)) {
      auto nesterov = asBool(oargs[4], oargs.locOf(4), "sgd's nesterov");
      if (!nesterov)
        return false;
      o.nesterov = *nesterov;
      if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
        return reject(oargs.locOf(4), "nesterov momentum needs a positive "
                                     "momentum and no dampening");
    }
  } else {
    auto beta1 = real(oargs, 1, 0.9, "beta1", false);
    auto beta2 = beta1 ? real(oargs, 2, 0.999, "beta2", false) : std::nullopt;
    auto eps = beta2 ? real(oargs, 3, 1e-8, "eps", false) : std::nullopt;
    auto decay = eps ? real(oargs, 4, o.kind == "adamw" ? 1e-2 : 0,
                            "weight_decay", false)
                     : std::nullopt;
    if (!decay)
      return false;
    if (*beta1 >= 1 || *beta2 >= 1)
      return reject(oargs.loc, o.kind + "'s betas must be below 1");
    o.beta1 = *beta1, o.beta2 = *beta2, o.eps = *eps, o.weightDecay = *decay;
  }

  // Schedule.
  if (const Setting *setting = findSetting(train, "schedule")) {
    auto schedule = optionCall(
        *this, *setting,
        {{"constant", {{"warmup", false}}},
         {"step", {{"every", true}, {"gamma", false}, {"warmup", false}}},
         {"cosine", {{"warmup", false}, {"min_lr", false}}}});
    if (!schedule)
      return false;
    Recipe::Schedule &s = recipe.schedule;
    const Arguments &sargs = schedule->args;
    s.kind = schedule->kind;
    size_t warmupIndex = s.kind == "constant" ? 0 : s.kind == "step" ? 2 : 0;
    if (sargs.has(warmupIndex)) {
      auto warmup = asInteger(sargs[warmupIndex], sargs.locOf(warmupIndex),
                              s.kind + "'s warmup");
      if (!warmup)
        return false;
      if (*warmup < 0)
        return reject(sargs.locOf(warmupIndex), "warmup must not be negative");
      s.warmup = *warmup;
    }
    if (s.kind == "step") {
      auto every = integer(sargs, 0, 1, "every");
      auto gamma = every ? real(sargs, 1, 0.1, "gamma", true) : std::nullopt;
      if (!gamma)
        return false;
      s.every = *every, s.gamma = *gamma;
    } else if (s.kind == "cosine") {
      auto minLr = real(sargs, 1, 0, "min_lr", false);
      if (!minLr)
        return false;
      s.minLr = *minLr;
    }
  }

  // The loss, and the metric, over the model's inputs and outputs.
  const Setting &lossSetting = *findSetting(train, "loss");
  std::optional<Value> loss = eval(*lossSetting.value, modelScope);
  if (!loss)
    return false;
  std::optional<ValueId> lossTensor =
      asTensor(*loss, lossSetting.value->getLoc(), "the loss");
  if (!lossTensor)
    return false;
  if (typeOf(*lossTensor) != TensorType{ElementType::F32, {}})
    return reject(lossSetting.value->getLoc(),
                 "the loss must be an f32 scalar, got " +
                     typeOf(*lossTensor).str(),
                 "cross_entropy averages over the batch; reduce other losses "
                 "with mean(...)");
  std::vector<Output> outputs = {{"loss", *lossTensor}};

  if (const Setting *setting = findSetting(train, "metric")) {
    const auto *call = llvm::dyn_cast<CallExpr>(setting->value.get());
    const auto *callee =
        call ? llvm::dyn_cast<NameExpr>(&call->getCallee()) : nullptr;
    if (!callee || callee->getName() != "accuracy")
      return reject(setting->value->getLoc(),
                   "metric must be accuracy(logits, labels)");
    std::optional<Arguments> args =
        bind("accuracy", call->getLoc(), {{"logits", true}, {"labels", true}},
             *call, modelScope);
    if (!args)
      return false;
    auto logits = asFloatTensor((*args)[0], args->locOf(0), "accuracy's logits");
    if (!logits)
      return false;
    auto labels = asTensor((*args)[1], args->locOf(1), "accuracy's labels");
    if (!labels)
      return false;
    // Over every position: logits [batch, ..., classes] score labels
    // [batch, ...], as a sequence model's tokens. Copies: emitting the
    // argmax below may move the table of value types.
    const TensorType tl = typeOf(*logits), ty = typeOf(*labels);
    TensorType expected{ElementType::I64,
                        {tl.shape.begin(), tl.shape.end() - (tl.rank() ? 1 : 0)}};
    if (tl.rank() < 2 || ty != expected)
      return reject(call->getLoc(),
                    "accuracy takes logits [batch, ..., classes] and i64 "
                    "labels [batch, ...] of the same leading sizes, got " +
                        tl.str() + " and " + ty.str());
    int64_t classAxis = tl.rank() - 1;
    ValueId predicted =
        emit1(OpKind::Argmax, {*logits}, {{"axis", classAxis}},
              *rules::argmax(tl, classAxis, false), call->getLoc());
    ValueId correct =
        emit1(OpKind::CountEqual, {predicted, *labels}, {},
              *rules::countEqual(typeOf(predicted), ty), call->getLoc());
    recipe.metric = "accuracy";
    outputs.push_back({"correct", correct});
  }

  outputs.insert(outputs.end(), program.outputs.begin(), program.outputs.end());
  program.outputs = std::move(outputs);
  program.recipe = std::move(recipe);
  return true;
}
