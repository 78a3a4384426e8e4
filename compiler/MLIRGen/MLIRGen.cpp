//===- MLIRGen.cpp - A checked Kiln program as a module of the kiln dialect ===//
//
// Sema has already expanded the file into nodes that are kiln operations, so
// each node becomes one op, built generically from its mnemonic and
// attributes. The verifier then re-checks every type Sema computed.
//
//===----------------------------------------------------------------------===//

#include "MLIRGen/MLIRGen.h"
#include "Frontend/DataSources.h"

#include "Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
using namespace kiln;

namespace {

class MLIRGen {
public:
  MLIRGen(MLIRContext &context, const Program &program,
          const llvm::SourceMgr &sourceMgr)
      : builder(&context), program(program), sourceMgr(sourceMgr) {}

  OwningOpRef<ModuleOp> generate();

private:
  Location loc(llvm::SMLoc loc) {
    if (!loc.isValid())
      return builder.getUnknownLoc();
    unsigned buffer = sourceMgr.FindBufferContainingLoc(loc);
    auto [line, column] = sourceMgr.getLineAndColumn(loc, buffer);
    return FileLineColLoc::get(
        builder.getStringAttr(
            sourceMgr.getMemoryBuffer(buffer)->getBufferIdentifier()),
        line, column);
  }

  RankedTensorType type(const kiln::TensorType &type) {
    Type element = type.element == ElementType::I64 ? Type(builder.getI64Type())
                   : type.element == ElementType::F64
                       ? Type(builder.getF64Type())
                       : Type(builder.getF32Type());
    return RankedTensorType::get(type.shape, element);
  }

  Attribute attribute(const Node &node, llvm::StringRef name,
                      const AttrValue &value);
  void generate(const Node &node);
  DictionaryAttr recipe(const Recipe &recipe);
  /// A source or transform: {kind, then every argument}.
  DictionaryAttr recipeCall(const RecipeCall &call);
  Attribute recipeValue(const RecipeValue &value);
  DictionaryAttr init(const Init &init);

  OpBuilder builder;
  const Program &program;
  const llvm::SourceMgr &sourceMgr;
  std::vector<Value> values;
};

Attribute MLIRGen::attribute(const Node &node, llvm::StringRef name,
                             const AttrValue &value) {
  if (node.op == OpKind::Constant)
    return DenseElementsAttr::get(type(program.typeOf(node.results[0])),
                                  static_cast<float>(std::get<double>(value)));
  if (const auto *text = std::get_if<std::string>(&value)) {
    std::optional<GeluApproximation> approximation =
        symbolizeGeluApproximation(*text);
    assert(name == "approximate" && approximation && "unknown string attribute");
    return GeluApproximationAttr::get(builder.getContext(), *approximation);
  }
  if (const auto *flag = std::get_if<bool>(&value))
    return builder.getBoolAttr(*flag);
  if (const auto *integer = std::get_if<int64_t>(&value))
    return builder.getI64IntegerAttr(*integer);
  if (const auto *real = std::get_if<double>(&value))
    return builder.getF64FloatAttr(*real);
  if (const auto *array = std::get_if<std::vector<int64_t>>(&value))
    return builder.getDenseI64ArrayAttr(*array);
  return builder.getDenseI32ArrayAttr(std::get<std::vector<int32_t>>(value));
}

void MLIRGen::generate(const Node &node) {
  OperationState state(loc(node.loc),
                       (KilnDialect::getDialectNamespace() + "." +
                        mnemonic(node.op))
                           .str());
  for (ValueId operand : node.operands)
    state.addOperands(values[operand]);
  for (ValueId result : node.results)
    state.addTypes(type(program.typeOf(result)));
  for (const auto &[name, value] : node.attrs)
    state.addAttribute(name, attribute(node, name, value));
  Operation *op = builder.create(state);
  for (auto [id, result] : llvm::zip(node.results, op->getResults()))
    values[id] = result;
}

DictionaryAttr MLIRGen::init(const Init &init) {
  static const char *kinds[] = {"uniform", "normal", "zeros", "ones"};
  SmallVector<NamedAttribute> entries = {builder.getNamedAttr(
      "distribution", builder.getStringAttr(kinds[static_cast<int>(init.kind)]))};
  if (init.kind == Init::Kind::Uniform) {
    entries.push_back(builder.getNamedAttr("low", builder.getF64FloatAttr(init.a)));
    entries.push_back(builder.getNamedAttr("high", builder.getF64FloatAttr(init.b)));
  } else if (init.kind == Init::Kind::Normal) {
    entries.push_back(builder.getNamedAttr("mean", builder.getF64FloatAttr(init.a)));
    entries.push_back(builder.getNamedAttr("std", builder.getF64FloatAttr(init.b)));
  }
  return builder.getDictionaryAttr(entries);
}

DictionaryAttr MLIRGen::recipeCall(const RecipeCall &call) {
  SmallVector<NamedAttribute> entries = {
      builder.getNamedAttr("kind", builder.getStringAttr(call.spec->name))};
  for (auto [param, value] : llvm::zip(call.spec->params, call.values))
    entries.push_back(builder.getNamedAttr(param.name, recipeValue(value)));
  return builder.getDictionaryAttr(entries);
}

Attribute MLIRGen::recipeValue(const RecipeValue &value) {
  if (const bool *b = std::get_if<bool>(&value))
    return builder.getBoolAttr(*b);
  if (const int64_t *i = std::get_if<int64_t>(&value))
    return builder.getI64IntegerAttr(*i);
  if (const double *d = std::get_if<double>(&value))
    return builder.getF64FloatAttr(*d);
  if (const std::string *s = std::get_if<std::string>(&value))
    return builder.getStringAttr(*s);
  SmallVector<Attribute> elements;
  if (const auto *reals = std::get_if<std::vector<double>>(&value))
    for (double v : *reals)
      elements.push_back(builder.getF64FloatAttr(v));
  if (const auto *strings = std::get_if<std::vector<std::string>>(&value))
    for (const std::string &s : *strings)
      elements.push_back(builder.getStringAttr(s));
  return builder.getArrayAttr(elements);
}

DictionaryAttr MLIRGen::recipe(const Recipe &recipe) {
  auto named = [&](llvm::StringRef name, Attribute value) {
    return builder.getNamedAttr(name, value);
  };
  auto f64 = [&](double v) { return builder.getF64FloatAttr(v); };
  auto i64 = [&](int64_t v) { return builder.getI64IntegerAttr(v); };
  auto str = [&](llvm::StringRef v) { return builder.getStringAttr(v); };

  SmallVector<Attribute> transforms;
  for (const RecipeCall &transform : recipe.transforms)
    transforms.push_back(recipeCall(transform));

  const Recipe::Optimizer &o = recipe.optimizer;
  SmallVector<NamedAttribute> optimizer = {named("kind", str(o.kind)),
                                           named("lr", f64(o.lr)),
                                           named("weight_decay", f64(o.weightDecay))};
  if (o.kind == "sgd")
    optimizer.append({named("momentum", f64(o.momentum)),
                      named("dampening", f64(o.dampening)),
                      named("nesterov", builder.getBoolAttr(o.nesterov))});
  else
    optimizer.append({named("beta1", f64(o.beta1)), named("beta2", f64(o.beta2)),
                      named("eps", f64(o.eps))});

  const Recipe::Schedule &s = recipe.schedule;
  SmallVector<NamedAttribute> schedule = {named("kind", str(s.kind)),
                                          named("warmup", i64(s.warmup))};
  if (s.kind == "step")
    schedule.append({named("every", i64(s.every)), named("gamma", f64(s.gamma))});
  else if (s.kind == "cosine")
    schedule.push_back(named("min_lr", f64(s.minLr)));

  SmallVector<NamedAttribute> entries = {
      named("batch_size", i64(recipe.batchSize)),
      named("epochs", i64(recipe.epochs)),
      named("seed", i64(recipe.seed)),
      named("data", recipeCall(recipe.data)),
      named("transforms", builder.getArrayAttr(transforms)),
      named("drop_last", builder.getBoolAttr(recipe.dropLast)),
      named("optimizer", builder.getDictionaryAttr(optimizer)),
      named("schedule", builder.getDictionaryAttr(schedule))};
  // Absent when 1, so that the IR of a recipe without it is unchanged.
  if (recipe.accumulate != 1)
    entries.push_back(named("accumulate", i64(recipe.accumulate)));
  if (recipe.ranks != 1)
    entries.push_back(named("ranks", i64(recipe.ranks)));
  if (recipe.clipGradNorm)
    entries.push_back(named("clip_grad_norm", f64(*recipe.clipGradNorm)));
  if (!recipe.metric.empty())
    entries.push_back(named("metric", str(recipe.metric)));
  if (recipe.precision != Precision::F32)
    entries.push_back(named("precision", str(precisionName(recipe.precision))));
  return builder.getDictionaryAttr(entries);
}

OwningOpRef<ModuleOp> MLIRGen::generate() {
  Location moduleLoc = loc(program.modelLoc);
  OwningOpRef<ModuleOp> module = ModuleOp::create(moduleLoc);
  (*module)->setAttr("kiln.model", builder.getStringAttr(program.modelName));
  if (program.recipe)
    (*module)->setAttr("kiln.recipe", recipe(*program.recipe));

  // Arguments: parameters, buffers, inputs, then the step counter.
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<ValueId> argValues;
  SmallVector<Location> argLocs;
  for (const Parameter &param : program.params) {
    argLocs.push_back(loc(param.loc));
    argTypes.push_back(type(program.typeOf(param.value)));
    argAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kiln.param", builder.getStringAttr(param.name)),
         builder.getNamedAttr("kiln.init", init(param.init))}));
    argValues.push_back(param.value);
  }
  for (const Buffer &buffer : program.buffers) {
    argLocs.push_back(loc(buffer.loc));
    argTypes.push_back(type(program.typeOf(buffer.value)));
    argAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kiln.buffer", builder.getStringAttr(buffer.name)),
         builder.getNamedAttr("kiln.init", init(buffer.init))}));
    argValues.push_back(buffer.value);
  }
  for (const Input &input : program.inputs) {
    argLocs.push_back(loc(input.loc));
    argTypes.push_back(type(program.typeOf(input.value)));
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "kiln.input", builder.getStringAttr(input.name))));
    argValues.push_back(input.value);
  }
  if (program.step) {
    argLocs.push_back(moduleLoc);
    argTypes.push_back(type(program.typeOf(*program.step)));
    argAttrs.push_back(builder.getDictionaryAttr(
        builder.getNamedAttr("kiln.step", builder.getUnitAttr())));
    argValues.push_back(*program.step);
  }
  // Results: the outputs, then the buffers' new values.
  SmallVector<Type> resultTypes;
  SmallVector<DictionaryAttr> resultAttrs;
  SmallVector<ValueId> resultValues;
  for (const Output &output : program.outputs) {
    resultTypes.push_back(type(program.typeOf(output.value)));
    resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "kiln.output", builder.getStringAttr(output.name))));
    resultValues.push_back(output.value);
  }
  for (const Buffer &buffer : program.buffers) {
    resultTypes.push_back(type(program.typeOf(buffer.update)));
    resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "kiln.buffer", builder.getStringAttr(buffer.name))));
    resultValues.push_back(buffer.update);
  }

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(
      builder, moduleLoc, program.modelName,
      builder.getFunctionType(argTypes, resultTypes));
  func.setAllArgAttrs(argAttrs);
  func.setAllResultAttrs(resultAttrs);
  Block *body = builder.createBlock(&func.getBody(), {}, argTypes, argLocs);
  values.assign(program.valueTypes.size(), Value());
  for (auto [id, arg] : llvm::zip(argValues, body->getArguments()))
    values[id] = arg;

  builder.setInsertionPointToEnd(body);
  for (const Node &node : program.nodes)
    generate(node);
  SmallVector<Value> results;
  for (ValueId value : resultValues)
    results.push_back(values[value]);
  func::ReturnOp::create(builder, moduleLoc, results);

  if (failed(verify(*module))) {
    emitError(moduleLoc, "internal compiler error: the generated kiln IR does "
                         "not verify; please report this with the input file");
    return nullptr;
  }
  return module;
}

} // namespace

OwningOpRef<ModuleOp> kiln::mlirGen(MLIRContext &context,
                                    const Program &program,
                                    const llvm::SourceMgr &sourceMgr) {
  context.loadDialect<KilnDialect, func::FuncDialect>();
  return MLIRGen(context, program, sourceMgr).generate();
}
