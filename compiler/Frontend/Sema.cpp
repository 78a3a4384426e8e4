//===- Sema.cpp - Checks a Kiln file and elaborates it into a Program -----===//
//
// The driver, errors, conversions of compile-time values and name lookup.
// Statements, expressions and calls live in SemaExpressions.cpp, built-in
// functions in SemaBuiltins.cpp, layers in SemaLayers.cpp, the train section
// in SemaTrain.cpp.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstdio>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

/// The most elements a tensor may have: 2^40 (4 TiB of f32), far beyond
/// what a training step can hold, and small enough that no product of sizes
/// overflows.
constexpr int64_t kMaxElements = int64_t(1) << 40;
constexpr const char *kTooLargeHint =
    "a tensor holds at most 2^40 elements; check the sizes of the inputs and "
    "the layers";

/// Whether `type` holds more than kMaxElements, computed without overflow.
static bool exceedsMaxElements(const TensorType &type) {
  int64_t count = 1;
  for (int64_t size : type.shape) {
    if (size != 0 && count > kMaxElements / size)
      return true;
    count *= size;
  }
  return false;
}

std::optional<Program> kiln::analyze(const Module &module,
                                     DiagnosticEngine &diags,
                                     const SemaOptions &options) {
  return Elaborator(module, diags, options).run();
}

//===----------------------------------------------------------------------===//
// Errors and program building
//===----------------------------------------------------------------------===//

std::nullopt_t Elaborator::error(SMLoc loc, const Twine &message) {
  diags.error(loc, message);
  return std::nullopt;
}

std::nullopt_t Elaborator::error(SMLoc loc, const Twine &message,
                                 const Twine &hint) {
  diags.error(loc, message, hint);
  return std::nullopt;
}

ValueId Elaborator::newValue(TensorType type) {
  program.valueTypes.push_back(std::move(type));
  return static_cast<ValueId>(program.valueTypes.size() - 1);
}

std::vector<ValueId>
Elaborator::emit(OpKind op, std::vector<ValueId> operands,
                 std::vector<std::pair<std::string, AttrValue>> attrs,
                 std::vector<TensorType> results, SMLoc loc) {
  // Reported once, as the element limit below.
  if (program.nodes.size() == options.maxOperations && !diags.hadError())
    error(loc,
          "the forward pass reaches " + Twine(options.maxOperations + 1) +
              " operations here, more than kilnc compiles in reasonable "
              "time and memory",
          "use fewer or smaller layers, or lower the counts of repeat(...); "
          "a forward pass has at most " +
              Twine(options.maxOperations) + " operations");
  Node node{op, std::move(operands), std::move(attrs), {}, loc};
  for (TensorType &type : results) {
    // Reported once; eval() stops at the next expression.
    if (exceedsMaxElements(type) && !diags.hadError())
      error(loc, "this makes a tensor of type " + type.str() +
                     ", more than 2^40 elements",
            kTooLargeHint);
    node.results.push_back(newValue(std::move(type)));
  }
  program.nodes.push_back(std::move(node));
  return program.nodes.back().results;
}

std::optional<std::vector<ValueId>> Elaborator::emitChecked(
    OpKind op, std::vector<ValueId> operands,
    std::vector<std::pair<std::string, AttrValue>> attrs,
    const Checked<std::vector<TensorType>> &results, SMLoc loc,
    const llvm::Twine &what, const llvm::Twine &hint) {
  if (!results) {
    error(loc, what + ": " + results.problem().message, hint);
    return std::nullopt;
  }
  return emit(op, std::move(operands), std::move(attrs), *results, loc);
}

std::optional<ValueId> Elaborator::emitChecked(
    OpKind op, std::vector<ValueId> operands,
    std::vector<std::pair<std::string, AttrValue>> attrs,
    const Checked<TensorType> &result, SMLoc loc, const llvm::Twine &what,
    const llvm::Twine &hint) {
  if (!result) {
    error(loc, what + ": " + result.problem().message, hint);
    return std::nullopt;
  }
  return emit1(op, std::move(operands), std::move(attrs), *result, loc);
}

ValueId Elaborator::constant(double value, SMLoc loc) {
  return emit1(OpKind::Constant, {}, {{"value", value}}, TensorType{}, loc);
}

ValueId Elaborator::reshape(ValueId input, std::vector<int64_t> shape,
                            SMLoc loc) {
  Checked<TensorType> type = rules::reshape(typeOf(input), shape);
  assert(type && "Sema reshapes only to the same number of elements");
  return emit1(OpKind::Reshape, {input}, {{"shape", std::move(shape)}}, *type,
               loc);
}

ValueId Elaborator::transpose(ValueId input, std::vector<int64_t> permutation,
                              SMLoc loc) {
  Checked<TensorType> type = rules::transpose(typeOf(input), permutation);
  assert(type && "Sema transposes by checked permutations");
  return emit1(OpKind::Transpose, {input},
               {{"permutation", std::move(permutation)}}, *type, loc);
}

ValueId Elaborator::stepCounter(SMLoc loc) {
  if (!program.step)
    program.step = newValue(TensorType{ElementType::I64, {}});
  return *program.step;
}

std::optional<ValueId> Elaborator::attention(ValueId q, ValueId k, ValueId v,
                                             bool causal, double dropout,
                                             SMLoc loc, const llvm::Twine &what,
                                             const llvm::Twine &hint) {
  std::vector<ValueId> operands = {q, k, v};
  std::vector<std::pair<std::string, AttrValue>> attrs = {{"causal", causal}};
  // Without dropout, nothing more: the op draws nothing.
  if (dropout > 0) {
    int64_t seed = static_cast<int64_t>(program.nodes.size());
    operands.push_back(stepCounter(loc));
    attrs.push_back({"dropout", dropout});
    attrs.push_back({"seed", seed});
  }
  return emitChecked(
      OpKind::Attention, std::move(operands), std::move(attrs),
      rules::attention(typeOf(q), typeOf(k), typeOf(v), std::nullopt, dropout),
      loc, what, hint);
}

ValueId Elaborator::newParam(LayerInstance &layer, llvm::StringRef suffix,
                             std::vector<int64_t> shape, Init init) {
  TensorType type{ElementType::F32, std::move(shape)};
  if (exceedsMaxElements(type) && !diags.hadError())
    error(layer.loc, "parameter '" + suffix + "' of this layer would have type " +
                         type.str() + ", more than 2^40 elements",
          kTooLargeHint);
  ValueId value = newValue(std::move(type));
  paramOrder[value] = {layer.ordinal,
                       static_cast<unsigned>(layer.params.size())};
  layer.params.push_back(value);
  program.params.push_back(
      Parameter{layer.path + "." + suffix.str(), value, init, layer.loc});
  return value;
}

void Elaborator::newBuffer(LayerInstance &layer, llvm::StringRef suffix,
                           TensorType type, Init init) {
  ValueId value = newValue(std::move(type));
  paramOrder[value] = {layer.ordinal,
                       static_cast<unsigned>(layer.buffers.size())};
  layer.buffers.push_back(program.buffers.size());
  program.buffers.push_back(Buffer{layer.path + "." + suffix.str(), value,
                                   value, init, layer.loc});
}

void Elaborator::orderParameters() {
  llvm::sort(program.params,
                    [&](const Parameter &a, const Parameter &b) {
                      return paramOrder[a.value] < paramOrder[b.value];
                    });
  llvm::sort(program.buffers, [&](const Buffer &a, const Buffer &b) {
    return paramOrder[a.value] < paramOrder[b.value];
  });
}

//===----------------------------------------------------------------------===//
// Conversions of compile-time values
//===----------------------------------------------------------------------===//

std::string Elaborator::describe(const Value &value) const {
  switch (value.kind) {
  case Value::Kind::Tensor:
    return "the tensor " + typeOf(value.tensor).str();
  case Value::Kind::Integer:
    return "the integer " + std::to_string(value.integer);
  case Value::Kind::Real: {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", value.real);
    return std::string("the number ") + text;
  }
  case Value::Kind::String:
    return "the string \"" + value.string + "\"";
  case Value::Kind::Bool:
    return value.boolean ? "true" : "false";
  case Value::Kind::List:
    return "a list";
  case Value::Kind::Tuple:
    return "several values";
  case Value::Kind::Layer:
    return "the layer '" + value.layer->path + "'";
  case Value::Kind::Builtin:
    return std::string("the function '") + value.builtin->name + "'";
  case Value::Kind::Function:
    return "the function '" + value.function->name.name + "'";
  case Value::Kind::Block:
    return "the block '" + value.block->name.name + "'";
  }
  return "a value";
}

std::optional<ValueId> Elaborator::asTensor(const Value &value, SMLoc loc,
                                            const Twine &what) {
  if (value.kind == Value::Kind::Tensor)
    return value.tensor;
  // A call with several results stands for its first one (lstm's output).
  if (value.kind == Value::Kind::Tuple &&
      value.elements.front().kind == Value::Kind::Tensor)
    return value.elements.front().tensor;
  return error(loc, what + " must be a tensor, got " + describe(value));
}

std::optional<ValueId> Elaborator::asFloatTensor(const Value &value, SMLoc loc,
                                                 const Twine &what) {
  std::optional<ValueId> tensor = asTensor(value, loc, what);
  if (!tensor)
    return std::nullopt;
  if (typeOf(*tensor).element != ElementType::F32)
    return error(loc, what + " must be an f32 tensor, got " +
                          typeOf(*tensor).str());
  return tensor;
}

std::optional<int64_t> Elaborator::asInteger(const Value &value, SMLoc loc,
                                             const Twine &what) {
  if (value.kind == Value::Kind::Integer)
    return value.integer;
  if (value.kind == Value::Kind::Real && value.real == std::floor(value.real) &&
      std::abs(value.real) < 9e15)
    return static_cast<int64_t>(value.real);
  return error(loc, what + " must be an integer, got " + describe(value));
}

std::optional<int64_t> Elaborator::asPositive(const Value &value, SMLoc loc,
                                              const Twine &what) {
  std::optional<int64_t> integer = asInteger(value, loc, what);
  if (integer && *integer <= 0)
    return error(loc, what + " must be positive, got " + Twine(*integer));
  return integer;
}

std::optional<double> Elaborator::asNumber(const Value &value, SMLoc loc,
                                           const Twine &what) {
  if (value.isNumber())
    return value.number();
  return error(loc, what + " must be a number, got " + describe(value));
}

std::optional<bool> Elaborator::asBool(const Value &value, SMLoc loc,
                                       const Twine &what) {
  if (value.kind == Value::Kind::Bool)
    return value.boolean;
  return error(loc, what + " must be true or false, got " + describe(value));
}

std::optional<std::string> Elaborator::asString(const Value &value, SMLoc loc,
                                                const Twine &what) {
  if (value.kind == Value::Kind::String)
    return value.string;
  return error(loc, what + " must be a string, got " + describe(value));
}

std::optional<std::vector<int64_t>>
Elaborator::asIntegerList(const Value &value, SMLoc loc, const Twine &what) {
  if (value.kind != Value::Kind::List)
    return error(loc, what + " must be a list of integers, got " +
                          describe(value));
  std::vector<int64_t> integers;
  for (const Value &element : value.elements) {
    std::optional<int64_t> integer =
        asInteger(element, loc, "each element of " + what);
    if (!integer)
      return std::nullopt;
    integers.push_back(*integer);
  }
  return integers;
}

std::optional<std::array<int64_t, 2>>
Elaborator::asPair(const Value &value, SMLoc loc, const Twine &what) {
  if (value.kind != Value::Kind::List) {
    std::optional<int64_t> size = asInteger(value, loc, what);
    if (!size)
      return std::nullopt;
    return std::array<int64_t, 2>{*size, *size};
  }
  std::optional<std::vector<int64_t>> list = asIntegerList(value, loc, what);
  if (!list)
    return std::nullopt;
  if (list->size() != 2)
    return error(loc, what + " must be one integer or a list of two, got " +
                          Twine(list->size()) + " integers");
  return std::array<int64_t, 2>{(*list)[0], (*list)[1]};
}

std::optional<int64_t> Elaborator::asAxis(const Value &value, int64_t rank,
                                          SMLoc loc, const Twine &what) {
  std::optional<int64_t> axis = asInteger(value, loc, what);
  if (!axis)
    return std::nullopt;
  if (*axis < -rank || *axis >= rank)
    return error(loc, what + " is " + Twine(*axis) +
                          ", outside the dimensions of a rank-" + Twine(rank) +
                          " tensor (" + Twine(-rank) + " to " +
                          Twine(rank - 1) + ")");
  return *axis < 0 ? *axis + rank : *axis;
}

//===----------------------------------------------------------------------===//
// Names
//===----------------------------------------------------------------------===//

std::optional<Value> Elaborator::lookup(const Identifier &name, Scope &scope) {
  if (auto it = scope.locals.find(name.name); it != scope.locals.end())
    return it->second;
  if (scope.owner) {
    if (auto it = scope.owner->childByName.find(name.name);
        it != scope.owner->childByName.end())
      return Value::ofLayer(it->second);
    if (auto it = scope.owner->blockArgs.find(name.name);
        it != scope.owner->blockArgs.end())
      return it->second;
  }
  if (scope.inputs)
    if (auto it = scope.inputs->find(name.name); it != scope.inputs->end())
      return it->second;
  if (auto it = constants.find(name.name); it != constants.end())
    return it->second;
  for (const FnDecl &fn : module.functions)
    if (fn.name.name == name.name)
      return Value::ofFunction(&fn);
  for (const BlockDecl &block : module.blocks)
    if (block.name.name == name.name)
      return Value::ofBlock(&block);
  if (const BuiltinFunction *builtin = lookupBuiltin(name.name))
    return Value::ofBuiltin(builtin);

  if (name.name == "batch")
    return error(name.loc, "'batch' is unknown because there is no batch size",
                 "set batch_size in the train section, or pass --batch-size");
  if (isLayerKind(name.name))
    return error(name.loc,
                 "'" + name.name + "' is a kind of layer, not a function",
                 "declare a layer, `layer my_" + name.name + " = " +
                     name.name + "(...)`, and call it: my_" + name.name +
                     "(x)");
  return error(name.loc, "unknown name '" + name.name + "'");
}

std::optional<Value> Elaborator::evalName(const NameExpr &expr, Scope &scope) {
  return lookup(Identifier{expr.getName().str(), expr.getLoc()}, scope);
}

/// The dotted path that a chain of member accesses spells: "encoder.layers".
static std::optional<std::string> dottedPath(const Expr &expr) {
  if (const auto *name = llvm::dyn_cast<NameExpr>(&expr))
    return name->getName().str();
  if (const auto *member = llvm::dyn_cast<MemberExpr>(&expr))
    if (std::optional<std::string> base = dottedPath(member->getBase()))
      return *base + "." + member->getMember().name;
  return std::nullopt;
}

std::optional<Value> Elaborator::evalMember(const MemberExpr &expr,
                                            Scope &scope) {
  std::optional<std::string> path = dottedPath(expr);
  if (path && scope.owner) {
    auto it = scope.owner->childByName.find(*path);
    if (it != scope.owner->childByName.end())
      return Value::ofLayer(it->second);
  }
  return error(expr.getMember().loc,
               "unknown layer '" + (path ? *path : expr.getMember().name) + "'",
               "a dotted name must be the path of a layer declared here");
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

std::optional<Program> Elaborator::run() {
  if (module.models.empty()) {
    diags.error(SMLoc::getFromPointer(
                    diags.getSourceMgr()
                        .getMemoryBuffer(diags.getSourceMgr().getMainFileID())
                        ->getBufferStart()),
                "the file has no model", "declare one: `model name { ... }`");
    return std::nullopt;
  }
  if (module.models.size() > 1)
    return error(module.models[1].name.loc,
                 "a file holds one model; this is a second one",
                 "put each model in a file of its own");
  if (module.trains.size() > 1)
    return error(module.trains[1].loc,
                 "a file holds one train section; this is a second one");

  // Definitions at the top level share one namespace.
  llvm::StringMap<SMLoc> defined;
  auto define = [&](const Identifier &name) {
    auto [it, inserted] = defined.try_emplace(name.name, name.loc);
    if (!inserted) {
      error(name.loc, "'" + name.name + "' is already defined");
      diags.note(it->second, "the first definition is here");
    }
    return inserted;
  };
  for (const ConstDecl &decl : module.consts)
    if (!define(decl.name))
      return std::nullopt;
  for (const FnDecl &decl : module.functions)
    if (!define(decl.name))
      return std::nullopt;
  for (const BlockDecl &decl : module.blocks)
    if (!define(decl.name))
      return std::nullopt;

  if (!elaborateConstants())
    return std::nullopt;
  batchSize = findBatchSize();
  std::optional<int64_t> statisticsRanks = findBatchNormRanks();
  if (diags.hadError() || !statisticsRanks)
    return std::nullopt;
  batchNormRanks = *statisticsRanks;
  if (batchSize)
    constants["batch"] = Value::ofInteger(*batchSize);

  const ModelDecl &model = module.models.front();
  program.modelName = model.name.name;
  program.modelLoc = model.name.loc;
  LayerInstance root;
  root.kind = LayerInstance::Kind::Block;
  root.loc = model.name.loc;
  Scope scope;
  scope.owner = &root;
  llvm::StringMap<Value> inputs;
  scope.inputs = &inputs;
  if (!elaborateModel(model, scope))
    return std::nullopt;
  if (!module.trains.empty() && !elaborateTrain(module.trains.front(), scope))
    return std::nullopt;
  if (diags.hadError())
    return std::nullopt;
  orderParameters();
  return std::move(program);
}

bool Elaborator::elaborateConstants() {
  for (const ConstDecl &decl : module.consts) {
    Scope scope;
    std::optional<Value> value = eval(*decl.value, scope);
    if (!value)
      return false;
    if (!value->isNumber() && value->kind != Value::Kind::String &&
        value->kind != Value::Kind::Bool && value->kind != Value::Kind::List) {
      error(decl.value->getLoc(),
            "a constant must be a number, a string, true or false, or a list; "
            "this is " +
                describe(*value));
      return false;
    }
    constants[decl.name.name] = std::move(*value);
  }
  return true;
}

bool Elaborator::elaborateModel(const ModelDecl &model, Scope &scope) {
  LayerInstance &root = *scope.owner;
  llvm::StringMap<Value> &inputs =
      const_cast<llvm::StringMap<Value> &>(*scope.inputs);
  for (const InputDecl &input : model.inputs) {
    TensorType type;
    if (input.elementType.name == "f32")
      type.element = ElementType::F32;
    else if (input.elementType.name == "i64")
      type.element = ElementType::I64;
    else
      return reject(input.elementType.loc,
                   "unknown element type '" + input.elementType.name + "'",
                   "inputs are f32 (real numbers) or i64 (labels and ids)");
    for (const ExprPtr &size : input.shape) {
      Scope constScope;
      std::optional<Value> value = eval(*size, constScope);
      if (!value)
        return false;
      std::optional<int64_t> positive =
          asPositive(*value, size->getLoc(), "a size of input '" +
                                                 input.name.name + "'");
      if (!positive)
        return false;
      type.shape.push_back(*positive);
    }
    if (exceedsMaxElements(type))
      return reject(input.name.loc,
                    "input '" + input.name.name + "' of type " + type.str() +
                        " has more than 2^40 elements",
                    kTooLargeHint);
    if (inputs.count(input.name.name))
      return reject(input.name.loc,
                   "input '" + input.name.name + "' is declared twice");
    ValueId value = newValue(type);
    program.inputs.push_back(Input{input.name.name, value, input.name.loc});
    inputs[input.name.name] = Value::ofTensor(value);
  }

  for (const LayerDecl &decl : model.layers) {
    std::string name = decl.getName();
    if (root.childByName.count(name))
      return reject(decl.path.front().loc,
                   "layer '" + name + "' is declared twice");
    if (inputs.count(name))
      return reject(decl.path.front().loc,
                   "'" + name + "' is already the name of an input");
    Scope declScope;
    auto layer = declareLayer(*decl.value, name, decl.loc, declScope);
    if (!layer)
      return false;
    root.childByName[name] = layer->get();
    root.children.push_back(std::move(*layer));
  }

  if (!model.forward)
    return reject(model.name.loc, "model '" + model.name.name +
                                     "' has no forward",
                 "add `forward { ... return outputs }`");
  const ForwardDecl &forward = *model.forward;
  std::optional<std::vector<Value>> results =
      run(forward.body, scope, forward.loc);
  if (!results)
    return false;
  const Statement &ret = forward.body.back();
  for (auto [i, result] : llvm::enumerate(*results)) {
    const Expr &expr = *ret.values[i];
    std::optional<ValueId> tensor =
        asTensor(result, expr.getLoc(), "a model output");
    if (!tensor)
      return false;
    const auto *name = llvm::dyn_cast<NameExpr>(&expr);
    std::string outputName =
        name ? name->getName().str() : "output" + std::to_string(i);
    // The names of the outputs that the trainer's steps write themselves
    // (kiln_runtime.h); a model's output shares their namespace.
    if (llvm::is_contained({"loss", "correct", "predictions", "lr"},
                           outputName))
      return reject(expr.getLoc(),
                    "a model's output cannot be called '" + outputName +
                        "', the name of an output of the training steps",
                    "rename it, for example `logits = ...` and `return "
                    "logits`");
    program.outputs.push_back(Output{outputName, *tensor});
    scope.locals[outputName] = Value::ofTensor(*tensor);
  }

  // A layer that is never called has no input, so no parameter shapes.
  std::function<bool(LayerInstance &)> checkCalled = [&](LayerInstance &l) {
    if (l.kind != LayerInstance::Kind::Block &&
        l.kind != LayerInstance::Kind::Repeat && !l.called) {
      error(l.loc, "layer '" + l.path + "' is never called",
            "its parameters' shapes come from its first call; call it in a "
            "forward or remove it");
      return false;
    }
    return llvm::all_of(l.children, [&](auto &child) {
      return checkCalled(*child);
    });
  };
  return llvm::all_of(root.children,
                      [&](auto &child) { return checkCalled(*child); });
}
