//===- SemaTrain.cpp - The train section: data, loss, optimizer, schedule -===//

#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

namespace {
constexpr const char *kSettings[] = {
    "data",           "batch_size", "epochs", "loss", "optimizer", "schedule",
    "clip_grad_norm", "metric",     "seed"};
constexpr const char *kSettingList =
    "data, batch_size, epochs, loss, optimizer, schedule, clip_grad_norm, "
    "metric and seed";

const Setting *findSetting(const TrainDecl &train, llvm::StringRef name) {
  for (const Setting &setting : train.settings)
    if (setting.name.name == name)
      return &setting;
  return nullptr;
}
} // namespace

std::optional<int64_t> Elaborator::findBatchSize() {
  if (options.batchSize) {
    if (*options.batchSize <= 0) {
      diags.error(SMLoc(), "--batch-size must be positive");
      return std::nullopt;
    }
    return options.batchSize;
  }
  if (module.trains.empty())
    return std::nullopt;
  const Setting *setting = findSetting(module.trains.front(), "batch_size");
  if (!setting)
    return std::nullopt;
  Scope scope;
  std::optional<Value> value = eval(*setting->value, scope);
  if (!value)
    return std::nullopt;
  return asPositive(*value, setting->value->getLoc(), "batch_size");
}

namespace {

/// Evaluates `name(...)` settings such as `optimizer = sgd(lr: 0.1)`: the
/// callee must be one of `kinds`; returns its name and bound arguments.
struct RecipeCall {
  std::string kind;
  Arguments args;
};

std::optional<RecipeCall>
recipeCall(Elaborator &e, const Setting &setting,
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
    return RecipeCall{kind, std::move(*args)};
  }
  return e.error(callee->getLoc(),
                 "unknown " + setting.name.name + " '" + callee->getName() + "'",
                 setting.name.name + " must be " + names);
}

} // namespace

bool Elaborator::elaborateTrain(const TrainDecl &train, Scope &modelScope) {
  llvm::StringMap<SMLoc> seen;
  for (const Setting &setting : train.settings) {
    if (!llvm::is_contained(kSettings, setting.name.name)) {
      return reject(setting.name.loc,
                    "unknown setting '" + setting.name.name + "'",
                    Twine("the settings are ") + kSettingList);
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
                    Twine("the settings are ") + kSettingList);
    }

  Recipe recipe;
  recipe.batchSize = *batchSize;
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

  // Data.
  auto data = recipeCall(
      *this, *findSetting(train, "data"),
      {{"fashion_mnist", {{"dir", false}, {"scale", false}}},
       {"wordlang",
        {{"dict", false}, {"train", false}, {"test", false}, {"length", false}}},
       {"synthetic",
        {{"train", false}, {"test", false}, {"classes", false}, {"seed", false}}}});
  if (!data)
    return false;
  Recipe::Data &d = recipe.data;
  d.kind = data->kind;
  const Arguments &dargs = data->args;
  std::vector<TensorType> fields;
  int64_t b = *batchSize;
  if (d.kind == "fashion_mnist") {
    d.path = "/usr/share/datasets/fashion-mnist";
    if (dargs.has(0)) {
      auto dir = asString(dargs[0], dargs.locOf(0), "fashion_mnist's dir");
      if (!dir)
        return false;
      d.path = *dir;
    }
    auto scale = real(dargs, 1, 1.0, "scale", true);
    if (!scale)
      return false;
    d.scale = *scale;
    fields = {{ElementType::F32, {b, 1, 28, 28}}, {ElementType::I64, {b}}};
  } else if (d.kind == "wordlang") {
    d.path = "/usr/share/dict";
    if (dargs.has(0)) {
      auto dict = asString(dargs[0], dargs.locOf(0), "wordlang's dict");
      if (!dict)
        return false;
      d.path = *dict;
    }
    auto trainCount = integer(dargs, 1, 4000, "train");
    auto testCount = trainCount ? integer(dargs, 2, 500, "test") : std::nullopt;
    auto length = testCount ? integer(dargs, 3, 16, "length") : std::nullopt;
    if (!length)
      return false;
    d.train = *trainCount, d.test = *testCount, d.length = *length;
    fields = {{ElementType::I64, {b, d.length}}, {ElementType::I64, {b}}};
  } else {
    auto trainCount = integer(dargs, 0, 6400, "train");
    auto testCount = trainCount ? integer(dargs, 1, 640, "test") : std::nullopt;
    auto classes = testCount ? integer(dargs, 2, 10, "classes") : std::nullopt;
    if (!classes)
      return false;
    d.train = *trainCount, d.test = *testCount, d.classes = *classes;
    if (dargs.has(3)) {
      auto seed = asInteger(dargs[3], dargs.locOf(3), "synthetic's seed");
      if (!seed)
        return false;
      d.seed = *seed;
    }
  }

  // The inputs take the source's fields in order.
  SMLoc dataLoc = locOf("data");
  for (const Input &input : program.inputs) {
    const TensorType &type = typeOf(input.value);
    if (type.shape.empty() || type.shape[0] != b)
      return reject(input.loc, "input '" + input.name +
                                   "' must have the batch size (" + Twine(b) +
                                   ") as its first dimension, got " + type.str(),
                    "write its shape as [batch, ...]");
  }
  if (!fields.empty()) {
    if (fields.size() != program.inputs.size())
      return reject(dataLoc, d.kind + " gives " + Twine(fields.size()) +
                                " fields, but the model has " +
                                Twine(program.inputs.size()) + " inputs");
    for (auto [input, field] : llvm::zip(program.inputs, fields))
      if (typeOf(input.value) != field)
        return reject(input.loc, "input '" + input.name + "' is " +
                                    typeOf(input.value).str() + ", but " +
                                    d.kind + " gives " + field.str());
  }

  // Optimizer.
  std::vector<ParamSpec> adamParams = {{"lr", false},    {"beta1", false},
                                       {"beta2", false}, {"eps", false},
                                       {"weight_decay", false}};
  auto optimizer = recipeCall(*this, *findSetting(train, "optimizer"),
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
    auto schedule = recipeCall(
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
    const TensorType &tl = typeOf(*logits), &ty = typeOf(*labels);
    if (tl.rank() != 2 || ty != TensorType{ElementType::I64, {tl.shape[0]}})
      return reject(call->getLoc(),
                   "accuracy takes logits [batch, classes] and i64 labels "
                   "[batch], got " +
                       tl.str() + " and " + ty.str());
    ValueId predicted = emit1("argmax", {*logits}, {{"axis", int64_t(1)}},
                              {ElementType::I64, {tl.shape[0]}}, call->getLoc());
    ValueId correct = emit1("count_equal", {predicted, *labels}, {},
                            {ElementType::I64, {}}, call->getLoc());
    recipe.metric = "accuracy";
    outputs.push_back({"correct", correct});
  }

  outputs.insert(outputs.end(), program.outputs.begin(), program.outputs.end());
  program.outputs = std::move(outputs);
  program.recipe = std::move(recipe);
  return true;
}
