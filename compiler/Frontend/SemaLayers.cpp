//===- SemaLayers.cpp - Layers: declarations, parameters and calls --------===//
//
// A layer's parameters are made at its first call, when the input fixes
// their shapes; they are named and shaped as PyTorch names and shapes the
// same layer, and initialized from the same distributions.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

namespace {

using Kind = LayerInstance::Kind;

struct LayerKind {
  const char *name;
  Kind kind;
  std::vector<ParamSpec> params;
};

const std::vector<LayerKind> &layerKinds() {
  static const std::vector<LayerKind> kinds = {
      {"conv2d",
       Kind::Conv2D,
       {{"out", true},
        {"kernel", true},
        {"stride", false},
        {"padding", false},
        {"dilation", false},
        {"bias", false},
        {"init", false}}},
      {"conv1d",
       Kind::Conv1D,
       {{"out", true},
        {"kernel", true},
        {"stride", false},
        {"padding", false},
        {"dilation", false},
        {"bias", false},
        {"init", false}}},
      {"conv_transpose2d",
       Kind::ConvTranspose2D,
       {{"out", true},
        {"kernel", true},
        {"stride", false},
        {"padding", false},
        {"dilation", false},
        {"bias", false},
        {"init", false},
        {"output_padding", false}}},
      {"linear", Kind::Linear, {{"out", true}, {"bias", false}, {"init", false}}},
      {"embedding",
       Kind::Embedding,
       {{"num", true}, {"dim", true}, {"init", false}}},
      {"layer_norm", Kind::LayerNorm, {{"eps", false}, {"affine", false}}},
      {"batch_norm",
       Kind::BatchNorm,
       {{"eps", false}, {"momentum", false}, {"affine", false}}},
      {"lstm", Kind::LSTM, {{"hidden", true}, {"layers", false}, {"init", false}}},
      {"gru", Kind::GRU, {{"hidden", true}, {"layers", false}, {"init", false}}},
      {"multihead_attention",
       Kind::MultiheadAttention,
       {{"heads", true}, {"bias", false}, {"init", false}, {"dropout", false}}},
  };
  return kinds;
}

/// The initializations a layer's `init` may name, as torch.nn.init's
/// functions with their default arguments (kaiming_*: a = 0, fan_in, the
/// gain of leaky_relu, sqrt(2); xavier_*: gain 1).
const char *const kInitNames[] = {"kaiming_normal", "kaiming_uniform",
                                  "xavier_normal",  "xavier_uniform",
                                  "normal",         "uniform",
                                  "zeros",          "ones"};

/// Reads the configuration of a built-in layer from its bound arguments.
bool configure(Elaborator &e, LayerInstance &layer, const Arguments &args) {
  auto what = [&](const char *name) {
    return "argument '" + std::string(name) + "' of " + args.callee.str();
  };
  auto positive = [&](size_t i, const char *name, int64_t &field) {
    if (!args.has(i))
      return true;
    std::optional<int64_t> value = e.asPositive(args[i], args.locOf(i), what(name));
    if (value)
      field = *value;
    return value.has_value();
  };
  auto flag = [&](size_t i, const char *name, bool &field) {
    if (!args.has(i))
      return true;
    std::optional<bool> value = e.asBool(args[i], args.locOf(i), what(name));
    if (value)
      field = *value;
    return value.has_value();
  };
  auto pair = [&](size_t i, const char *name, std::array<int64_t, 2> &field,
                  int64_t minimum) {
    if (!args.has(i))
      return true;
    auto value = e.asPair(args[i], args.locOf(i), what(name));
    if (!value)
      return false;
    if ((*value)[0] < minimum || (*value)[1] < minimum) {
      e.error(args.locOf(i), what(name) + (minimum ? " must be positive"
                                                   : " must not be negative"));
      return false;
    }
    field = *value;
    return true;
  };
  auto initName = [&](size_t i) {
    if (!args.has(i))
      return true;
    std::optional<std::string> value =
        e.asString(args[i], args.locOf(i), what("init"));
    if (!value)
      return false;
    if (llvm::is_contained(kInitNames, *value)) {
      layer.init = *value;
      return true;
    }
    std::string names;
    for (const char *name : kInitNames)
      names += (names.empty() ? "" : ", ") + std::string(name);
    e.error(args.locOf(i), "unknown initialization \"" + *value + "\"",
            "the initializations are " + names +
                "; leave out init for PyTorch's default");
    return false;
  };
  switch (layer.kind) {
  case Kind::Conv1D: {
    // One spatial dimension: the convolution is conv2d's over [N, C, 1, L].
    auto size = [&](size_t i, const char *name, int64_t &field,
                    int64_t minimum) {
      if (!args.has(i))
        return true;
      std::optional<int64_t> value =
          e.asInteger(args[i], args.locOf(i), what(name));
      if (value && *value < minimum) {
        e.error(args.locOf(i), what(name) + (minimum ? " must be positive"
                                                     : " must not be negative"));
        return false;
      }
      if (value)
        field = *value;
      return value.has_value();
    };
    layer.kernel[0] = 1;
    return initName(6) && positive(0, "out", layer.out) &&
           size(1, "kernel", layer.kernel[1], 1) &&
           size(2, "stride", layer.stride[1], 1) &&
           size(3, "padding", layer.padding[1], 0) &&
           size(4, "dilation", layer.dilation[1], 1) &&
           flag(5, "bias", layer.bias);
  }
  case Kind::ConvTranspose2D:
    if (!pair(7, "output_padding", layer.outputPadding, 0))
      return false;
    [[fallthrough]];
  case Kind::Conv2D:
    return initName(6) && positive(0, "out", layer.out) &&
           pair(1, "kernel", layer.kernel, 1) &&
           pair(2, "stride", layer.stride, 1) &&
           pair(3, "padding", layer.padding, 0) &&
           pair(4, "dilation", layer.dilation, 1) &&
           flag(5, "bias", layer.bias);
  case Kind::Linear:
    return initName(2) && positive(0, "out", layer.out) &&
           flag(1, "bias", layer.bias);
  case Kind::Embedding:
    return initName(2) && positive(0, "num", layer.num) &&
           positive(1, "dim", layer.dim);
  case Kind::LayerNorm:
  case Kind::BatchNorm: {
    auto number = [&](size_t i, const char *name, double &field, double max) {
      if (!args.has(i))
        return true;
      std::optional<double> value =
          e.asNumber(args[i], args.locOf(i), what(name));
      if (value && (*value < 0 || *value > max)) {
        e.error(args.locOf(i),
                what(name) + (max < 2 ? " must be in [0, 1]"
                                      : " must not be negative"));
        return false;
      }
      if (value)
        field = *value;
      return value.has_value();
    };
    if (layer.kind == Kind::LayerNorm)
      return number(0, "eps", layer.eps, HUGE_VAL) &&
             flag(1, "affine", layer.affine);
    return number(0, "eps", layer.eps, HUGE_VAL) &&
           number(1, "momentum", layer.momentum, 1) &&
           flag(2, "affine", layer.affine);
  }
  case Kind::LSTM:
  case Kind::GRU:
    return initName(2) && positive(0, "hidden", layer.hidden) &&
           positive(1, "layers", layer.layers);
  case Kind::MultiheadAttention: {
    if (args.has(3)) {
      std::optional<double> value =
          e.asNumber(args[3], args.locOf(3), what("dropout"));
      if (!value)
        return false;
      if (auto problem = rules::dropoutProbability(*value, "dropout")) {
        e.error(args.locOf(3), args.callee + ": " + problem->message);
        return false;
      }
      layer.dropout = *value;
    }
    return initName(2) && positive(0, "heads", layer.heads) &&
           flag(1, "bias", layer.bias);
  }
  case Kind::Block:
  case Kind::Repeat:
    break;
  }
  return true;
}

} // namespace

bool sema::isLayerKind(llvm::StringRef name) {
  return name == "repeat" ||
         llvm::any_of(layerKinds(),
                      [&](const LayerKind &kind) { return name == kind.name; });
}

Init sema::uniform(double bound) { return {Init::Kind::Uniform, -bound, bound}; }
Init sema::normal(double mean, double std) { return {Init::Kind::Normal, mean, std}; }
Init sema::zeros() { return {Init::Kind::Zeros, 0, 0}; }
Init sema::ones() { return {Init::Kind::Ones, 0, 0}; }

/// The initialization of a weight of `shape` ([out, in, kernel...]): the
/// layer's `init`, with torch.nn.init's fans, or `fallback`.
Init sema::weightInit(const LayerInstance &layer, const std::vector<int64_t> &shape,
                Init fallback) {
  if (layer.init.empty())
    return fallback;
  double receptive = 1;
  for (size_t d = 2; d < shape.size(); ++d)
    receptive *= shape[d];
  double fanIn = shape.size() > 1 ? shape[1] * receptive : shape[0];
  double fanOut = shape[0] * receptive;
  const std::string &kind = layer.init;
  if (kind == "kaiming_normal")
    return normal(0, std::sqrt(2.0) / std::sqrt(fanIn));
  if (kind == "kaiming_uniform")
    return uniform(std::sqrt(2.0) * std::sqrt(3.0 / fanIn));
  if (kind == "xavier_normal")
    return normal(0, std::sqrt(2.0 / (fanIn + fanOut)));
  if (kind == "xavier_uniform")
    return uniform(std::sqrt(6.0 / (fanIn + fanOut)));
  if (kind == "normal")
    return normal(0, 1);
  if (kind == "uniform")
    return {Init::Kind::Uniform, 0, 1};
  return kind == "ones" ? ones() : zeros();
}

std::optional<std::unique_ptr<LayerInstance>>
Elaborator::declareLayer(const Expr &value, std::string path, SMLoc loc,
                         Scope &scope) {
  const auto *call = llvm::dyn_cast<CallExpr>(&value);
  const auto *callee =
      call ? llvm::dyn_cast<NameExpr>(&call->getCallee()) : nullptr;
  if (!callee)
    return error(value.getLoc(), "a layer is made by calling a layer kind",
                 "write for example `layer fc = linear(out: 10)`, a block "
                 "`Block(...)`, or `repeat(n, Block(...))`");
  llvm::StringRef name = callee->getName();

  // Nested repeats multiply: a bound keeps a typo from exhausting memory.
  if (nextOrdinal == kMaxLayers)
    return error(loc, "the model has more than " + llvm::Twine(kMaxLayers) +
                          " layers",
                 "check the counts of repeat(...)");
  auto layer = std::make_unique<LayerInstance>();
  layer->path = path;
  layer->loc = loc;
  layer->ordinal = nextOrdinal++;

  for (const LayerKind &kind : layerKinds()) {
    if (name != kind.name)
      continue;
    layer->kind = kind.kind;
    std::optional<Arguments> args =
        bind(kind.name, call->getLoc(), kind.params, *call, scope);
    if (!args || !configure(*this, *layer, *args))
      return std::nullopt;
    return layer;
  }

  if (name == "repeat") {
    layer->kind = Kind::Repeat;
    const std::vector<Argument> &arguments = call->getArguments();
    if (arguments.size() != 2 || arguments[0].name || arguments[1].name)
      return error(call->getLoc(), "repeat takes a count and a block",
                   "write `repeat(2, Block(...))`");
    std::optional<Value> count = eval(*arguments[0].value, scope);
    if (!count)
      return std::nullopt;
    std::optional<int64_t> n =
        asPositive(*count, arguments[0].value->getLoc(), "repeat's count");
    if (!n)
      return std::nullopt;
    if (*n > kMaxLayers)
      return error(arguments[0].value->getLoc(),
                   "repeat's count " + llvm::Twine(*n) + " is more than " +
                       llvm::Twine(kMaxLayers) + " layers",
                   "a model has at most " + llvm::Twine(kMaxLayers) +
                       " layers");
    const Expr &inner = *arguments[1].value;
    const auto *innerCall = llvm::dyn_cast<CallExpr>(&inner);
    const auto *blockName =
        innerCall ? llvm::dyn_cast<NameExpr>(&innerCall->getCallee()) : nullptr;
    if (!blockName || llvm::none_of(module.blocks, [&](const BlockDecl &b) {
          return b.name.name == blockName->getName();
        }))
      return error(inner.getLoc(), "repeat's second argument must be a block",
                   "write `repeat(2, Block(...))` with a block defined in "
                   "this file");
    for (int64_t i = 0; i < *n; ++i) {
      auto child =
          declareLayer(inner, path + "." + std::to_string(i), loc, scope);
      if (!child)
        return std::nullopt;
      layer->children.push_back(std::move(*child));
    }
    return layer;
  }

  auto block = llvm::find_if(module.blocks, [&](const BlockDecl &b) {
    return b.name.name == name;
  });
  if (block == module.blocks.end()) {
    if (lookupBuiltin(name))
      return error(callee->getLoc(),
                   "'" + name + "' is a function, not a kind of layer",
                   "layers have parameters; call " + name +
                       "(...) in the forward instead");
    std::string kinds;
    for (const LayerKind &kind : layerKinds())
      kinds += (kinds.empty() ? "" : &kind == &layerKinds().back() ? " and " : ", ") +
               std::string(kind.name);
    return error(callee->getLoc(), "unknown kind of layer '" + name + "'",
                 "the kinds are " + kinds +
                     "; blocks defined in the file and repeat(n, Block(...)) "
                     "make layers too");
  }
  layer->kind = Kind::Block;
  layer->block = &*block;
  std::vector<ParamSpec> params;
  for (const Identifier &param : block->params)
    params.push_back(ParamSpec{param.name.c_str(), true});
  std::optional<Arguments> args =
      bind(name, call->getLoc(), params, *call, scope);
  if (!args)
    return std::nullopt;
  for (auto [i, param] : llvm::enumerate(block->params))
    layer->blockArgs[param.name] = (*args)[i];
  if (!block->forward)
    return error(block->name.loc, "block '" + name + "' has no forward",
                 "add `forward(x) { ... return y }`");
  Scope inner;
  inner.owner = layer.get();
  for (const LayerDecl &decl : block->layers) {
    std::string childName = decl.getName();
    if (layer->childByName.count(childName))
      return error(decl.path.front().loc,
                   "layer '" + childName + "' is declared twice");
    auto child = declareLayer(*decl.value, path + "." + childName, decl.loc,
                              inner);
    if (!child)
      return std::nullopt;
    layer->childByName[childName] = child->get();
    layer->children.push_back(std::move(*child));
  }
  return layer;
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

bool sema::checkInputSize(Elaborator &e, LayerInstance &layer, int64_t size,
                          SMLoc loc, const char *what) {
  if (!layer.called) {
    layer.called = true;
    layer.inputSize = size;
    return true;
  }
  if (layer.inputSize == size)
    return true;
  e.error(loc, "layer '" + layer.path + "' was made for " +
                   Twine(layer.inputSize) + " " + what +
                   " by its first call, but this call gives " + Twine(size),
          "a layer's parameters are shared by its calls; declare another "
          "layer for inputs of another size");
  return false;
}

namespace {

std::string calledWith(const LayerInstance &layer) {
  return "the input of layer '" + layer.path + "'";
}

} // namespace

std::optional<Value> Elaborator::callLayer(LayerInstance &layer,
                                           const CallExpr &call, Scope &scope) {
  SMLoc loc = call.getLoc();
  auto single = [&](const char *what) -> std::optional<ValueId> {
    std::optional<Arguments> args =
        bind(layer.path, loc, {{"x", true}}, call, scope);
    if (!args)
      return std::nullopt;
    return asTensor((*args)[0], args->locOf(0), what);
  };

  switch (layer.kind) {
  case Kind::Conv1D:
  case Kind::Conv2D:
  case Kind::ConvTranspose2D: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    return callConvolution(layer, *x, loc);
  }

  case Kind::Linear: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    TensorType type = typeOf(*x);
    if (type.element != ElementType::F32 || type.rank() < 1)
      return error(loc, "layer '" + layer.path +
                            "' takes f32[..., features], got " + type.str());
    int64_t in = type.shape.back();
    if (!checkInputSize(*this, layer, in, loc, "input features"))
      return std::nullopt;
    if (layer.params.empty()) {
      double bound = 1 / std::sqrt(static_cast<double>(in));
      newParam(layer, "weight", {layer.out, in},
               weightInit(layer, {layer.out, in}, uniform(bound)));
      if (layer.bias)
        newParam(layer, "bias", {layer.out}, uniform(bound));
    }
    std::vector<ValueId> operands = {*x};
    operands.insert(operands.end(), layer.params.begin(), layer.params.end());
    return Value::ofEmitted(emitChecked(OpKind::Linear, operands, {},
                              rules::linear(type, typeOf(layer.params[0]),
                                            layer.bias ? &typeOf(layer.params[1])
                                                       : nullptr),
                              loc, "layer '" + layer.path + "'"));
  }

  case Kind::Embedding: {
    std::optional<ValueId> ids = single(calledWith(layer).c_str());
    if (!ids)
      return std::nullopt;
    TensorType type = typeOf(*ids);
    if (type.element != ElementType::I64)
      return error(loc, "layer '" + layer.path + "' looks up i64 ids, got " +
                            type.str());
    layer.called = true;
    if (layer.params.empty())
      newParam(layer, "weight", {layer.num, layer.dim},
               weightInit(layer, {layer.num, layer.dim}, normal(0, 1)));
    return Value::ofEmitted(emitChecked(OpKind::Embedding, {*ids, layer.params[0]}, {},
                              rules::embedding(type, typeOf(layer.params[0])),
                              loc, "layer '" + layer.path + "'"));
  }

  case Kind::LayerNorm: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    TensorType type = typeOf(*x);
    if (type.element != ElementType::F32 || type.rank() < 1)
      return error(loc, "layer '" + layer.path +
                            "' normalizes f32[..., features], got " + type.str());
    int64_t d = type.shape.back();
    if (!checkInputSize(*this, layer, d, loc, "features"))
      return std::nullopt;
    if (layer.params.empty() && layer.affine) {
      newParam(layer, "weight", {d}, ones());
      newParam(layer, "bias", {d}, zeros());
    }
    std::vector<ValueId> operands = {*x};
    operands.insert(operands.end(), layer.params.begin(), layer.params.end());
    int32_t affine = layer.affine ? 1 : 0;
    const TensorType *weight = affine ? &typeOf(layer.params[0]) : nullptr;
    const TensorType *bias = affine ? &typeOf(layer.params[1]) : nullptr;
    return Value::ofEmitted(emitChecked(
        OpKind::LayerNorm, operands,
        {{"epsilon", layer.eps},
         {"operandSegmentSizes", std::vector<int32_t>{1, affine, affine}}},
        rules::layerNorm(type, weight, bias, -1, layer.eps), loc,
        "layer '" + layer.path + "'"));
  }

  case Kind::BatchNorm: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    TensorType type = typeOf(*x);
    if (type.element != ElementType::F32 || type.rank() < 2)
      return error(loc, "layer '" + layer.path +
                            "' normalizes f32[batch, channels, ...], got " +
                            type.str());
    int64_t c = type.shape[1];
    if (!checkInputSize(*this, layer, c, loc, "channels"))
      return std::nullopt;
    if (layer.params.empty() && layer.buffers.empty()) {
      if (layer.affine) {
        newParam(layer, "weight", {c}, ones());
        newParam(layer, "bias", {c}, zeros());
      }
      newBuffer(layer, "running_mean", {ElementType::F32, {c}}, zeros());
      newBuffer(layer, "running_var", {ElementType::F32, {c}}, ones());
      newBuffer(layer, "num_batches_tracked", {ElementType::I64, {}}, zeros());
    }
    std::vector<ValueId> operands = {*x};
    std::vector<TensorType> state;
    for (size_t index : layer.buffers) {
      operands.push_back(program.buffers[index].update);
      state.push_back(typeOf(program.buffers[index].update));
    }
    operands.insert(operands.end(), layer.params.begin(), layer.params.end());
    int32_t affine = layer.affine ? 1 : 0;
    const TensorType *weight = affine ? &typeOf(layer.params[0]) : nullptr;
    const TensorType *bias = affine ? &typeOf(layer.params[1]) : nullptr;
    std::vector<std::pair<std::string, AttrValue>> attrs = {
        {"epsilon", layer.eps},
        {"momentum", layer.momentum},
        {"operandSegmentSizes",
         std::vector<int32_t>{1, 1, 1, 1, affine, affine}}};
    // sync_batch_norm: the statistics are over every rank's batch.
    if (batchNormRanks > 1)
      attrs.emplace_back("ranks", batchNormRanks);
    std::optional<std::vector<ValueId>> results =
        emitChecked(OpKind::BatchNorm, operands, std::move(attrs),
                    rules::batchNorm(type, weight, bias, state[0], state[1],
                                     state[2], layer.eps, layer.momentum),
                    loc, "layer '" + layer.path + "'");
    if (!results)
      return std::nullopt;
    // A second call sees the statistics the first one updated, as in PyTorch.
    for (auto [i, index] : llvm::enumerate(layer.buffers))
      program.buffers[index].update = (*results)[i + 1];
    return Value::ofTensor((*results)[0]);
  }

  case Kind::LSTM:
  case Kind::GRU: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    return callRecurrent(layer, *x, loc);
  }

  case Kind::MultiheadAttention:
    break;

  case Kind::Block: {
    const ForwardDecl &forward = *layer.block->forward;
    std::vector<ParamSpec> params;
    for (const Identifier &param : forward.params)
      params.push_back(ParamSpec{param.name.c_str(), true});
    std::optional<Arguments> args = bind(layer.path, loc, params, call, scope);
    if (!args)
      return std::nullopt;
    Scope inner;
    inner.owner = &layer;
    for (auto [i, param] : llvm::enumerate(forward.params))
      inner.locals[param.name] = (*args)[i];
    std::optional<std::vector<Value>> results =
        run(forward.body, inner, forward.loc);
    if (!results) {
      diags.note(loc, "in the call of layer '" + layer.path + "' here");
      return std::nullopt;
    }
    layer.called = true;
    if (results->size() == 1)
      return std::move(results->front());
    return Value::ofTuple(std::move(*results));
  }

  case Kind::Repeat: {
    std::optional<ValueId> x = single(calledWith(layer).c_str());
    if (!x)
      return std::nullopt;
    Value value = Value::ofTensor(*x);
    layer.called = true;
    for (auto &child : layer.children) {
      const ForwardDecl &forward = *child->block->forward;
      if (forward.params.size() != 1)
        return error(forward.loc, "a repeated block's forward must take "
                                  "exactly one input");
      Scope inner;
      inner.owner = child.get();
      inner.locals[forward.params[0].name] = value;
      std::optional<std::vector<Value>> results =
          run(forward.body, inner, forward.loc);
      if (!results) {
        diags.note(loc, "in the call of layer '" + child->path + "' here");
        return std::nullopt;
      }
      if (results->size() != 1)
        return error(forward.body.back().loc,
                     "a repeated block's forward must return one value");
      child->called = true;
      value = std::move(results->front());
    }
    return value;
  }
  }

  // Multi-head attention, as torch.nn.MultiheadAttention computes it.
  std::optional<Arguments> args = bind(
      layer.path, loc, {{"q", true}, {"k", false}, {"v", false}, {"causal", false}},
      call, scope);
  if (!args)
    return std::nullopt;
  std::optional<ValueId> q = asFloatTensor((*args)[0], args->locOf(0),
                                           "the query of layer '" + layer.path + "'");
  if (!q)
    return std::nullopt;
  TensorType tq = typeOf(*q);
  if (tq.rank() != 3)
    return error(args->locOf(0), "layer '" + layer.path +
                                     "' attends over f32[batch, length, "
                                     "features], got " + tq.str());
  int64_t d = tq.shape[2], heads = layer.heads;
  if (d % heads)
    return error(loc, "layer '" + layer.path + "' splits " + Twine(d) +
                          " features into " + Twine(heads) +
                          " heads, which does not divide evenly");
  if (!checkInputSize(*this, layer, d, loc, "features"))
    return std::nullopt;
  std::optional<ValueId> k = q, v;
  if (args->has(1) &&
      !(k = asFloatTensor((*args)[1], args->locOf(1), "the key of layer '" + layer.path + "'")))
    return std::nullopt;
  v = k;
  if (args->has(2) &&
      !(v = asFloatTensor((*args)[2], args->locOf(2), "the value of layer '" + layer.path + "'")))
    return std::nullopt;
  TensorType tk = typeOf(*k), tv = typeOf(*v);
  if (tk.rank() != 3 || tk.shape != tv.shape || tk.shape[0] != tq.shape[0] ||
      tk.shape[2] != d)
    return error(loc, "layer '" + layer.path + "' needs keys and values f32[" +
                          Twine(tq.shape[0]) + ", length, " + Twine(d) +
                          "], got " + tk.str() + " and " + tv.str());
  bool causal = false;
  if (args->has(3)) {
    std::optional<bool> value = asBool((*args)[3], args->locOf(3), "causal");
    if (!value)
      return std::nullopt;
    causal = *value;
  }
  if (layer.params.empty()) {
    newParam(layer, "in_proj_weight", {3 * d, d},
             weightInit(layer, {3 * d, d},
                        uniform(std::sqrt(6.0 / static_cast<double>(4 * d)))));
    if (layer.bias)
      newParam(layer, "in_proj_bias", {3 * d}, zeros());
    newParam(layer, "out_proj.weight", {d, d},
             weightInit(layer, {d, d},
                        uniform(1 / std::sqrt(static_cast<double>(d)))));
    if (layer.bias)
      newParam(layer, "out_proj.bias", {d}, zeros());
  }
  ValueId inWeight = layer.params[0];
  std::optional<ValueId> inBias, outBias;
  ValueId outWeight = layer.params[layer.bias ? 2 : 1];
  if (layer.bias)
    inBias = layer.params[1], outBias = layer.params[3];

  auto rows = [&](ValueId tensor, int64_t index) {
    const TensorType &type = typeOf(tensor);
    std::vector<int64_t> offsets(type.rank(), 0), sizes = type.shape,
                                                  strides(type.rank(), 1);
    offsets.back() = index * d;
    sizes.back() = d;
    return emit1(OpKind::Slice, {tensor},
                 {{"offsets", offsets}, {"sizes", sizes}, {"strides", strides}},
                 TensorType{ElementType::F32, sizes}, loc);
  };
  auto weightRows = [&](int64_t index) {
    std::vector<int64_t> offsets = {index * d, 0}, sizes = {d, d};
    return emit1(OpKind::Slice, {inWeight},
                 {{"offsets", offsets}, {"sizes", sizes},
                  {"strides", std::vector<int64_t>{1, 1}}},
                 TensorType{ElementType::F32, sizes}, loc);
  };
  auto project = [&](ValueId x, ValueId weight, std::optional<ValueId> bias,
                     int64_t out) {
    std::vector<ValueId> operands = {x, weight};
    if (bias)
      operands.push_back(*bias);
    Checked<TensorType> result = rules::linear(
        typeOf(x), typeOf(weight), bias ? &typeOf(*bias) : nullptr);
    assert(result && "the projections are made to fit");
    return emit1(OpKind::Linear, operands, {}, *result, loc);
  };
  ValueId qp, kp, vp;
  if (!args->has(1) && !args->has(2)) {
    ValueId qkv = project(*q, inWeight, inBias, 3 * d);
    qp = rows(qkv, 0), kp = rows(qkv, 1), vp = rows(qkv, 2);
  } else {
    auto biasRows = [&](int64_t index) -> std::optional<ValueId> {
      if (!inBias)
        return std::nullopt;
      return rows(*inBias, index);
    };
    qp = project(*q, weightRows(0), biasRows(0), d);
    kp = project(*k, weightRows(1), biasRows(1), d);
    vp = project(*v, weightRows(2), biasRows(2), d);
  }
  auto splitHeads = [&](ValueId x) {
    std::vector<int64_t> shape = typeOf(x).shape;
    ValueId split = reshape(x, {shape[0], shape[1], heads, d / heads}, loc);
    return transpose(split, {0, 2, 1, 3}, loc);
  };
  ValueId qh = splitHeads(qp), kh = splitHeads(kp), vh = splitHeads(vp);
  // Dropout on the attention probabilities, as nn.MultiheadAttention's.
  std::optional<ValueId> attended = attention(
      qh, kh, vh, causal, layer.dropout, loc, "layer '" + layer.path + "'");
  assert(attended && "the heads are split alike");
  ValueId merged =
      reshape(transpose(*attended, {0, 2, 1, 3}, loc), tq.shape, loc);
  return Value::ofTensor(project(merged, outWeight, outBias, d));
}
