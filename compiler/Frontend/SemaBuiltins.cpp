//===- SemaBuiltins.cpp - The built-in functions of the Kiln language -----===//
//
// Each built-in checks its arguments in the language's terms and emits the
// kiln operations that compute it.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"

#include <set>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

namespace {

using Result = std::optional<Value>;

/// "argument 'x' of relu", for messages.
std::string argument(const Arguments &args, const char *name) {
  return "argument '" + std::string(name) + "' of " + args.callee.str();
}

/// The f32 tensor of argument `i`, named `name`.
std::optional<ValueId> floatArg(Elaborator &e, const Arguments &args, size_t i,
                                const char *name) {
  return e.asFloatTensor(args[i], args.locOf(i), argument(args, name));
}

Result elementwise(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  return Value::ofTensor(e.emit1(args.op, {*x}, {}, e.typeOf(*x), args.loc));
}

/// An elementwise op whose other arguments are numbers, each the F64
/// attribute of its name; an absent one keeps the op's (PyTorch's) default.
Result parameterized(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  const std::vector<ParamSpec> &params = lookupBuiltin(args.callee)->params;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  for (size_t i = 1; i < params.size(); ++i) {
    if (!args.has(i))
      continue;
    std::optional<double> value =
        e.asNumber(args[i], args.locOf(i), argument(args, params[i].name));
    if (!value)
      return std::nullopt;
    attrs.push_back({params[i].name, *value});
  }
  return Value::ofTensor(
      e.emit1(args.op, {*x}, std::move(attrs), e.typeOf(*x), args.loc));
}

Result clamp(Elaborator &e, const Arguments &args) {
  if (!args.has(1) && !args.has(2))
    return e.error(args.loc, "clamp needs a bound, min or max",
                   "write for example clamp(x, min: 0) or "
                   "clamp(x, min: -1, max: 1)");
  return parameterized(e, args);
}

Result softplus(Elaborator &e, const Arguments &args) {
  if (args.has(1) && args[1].isNumber() && args[1].number() == 0)
    return e.error(args.locOf(1), "softplus's beta must not be 0",
                   "softplus(x, beta) is log(1 + exp(beta * x)) / beta; "
                   "leave beta out for 1");
  return parameterized(e, args);
}

/// Argument `i` as a float tensor; a number becomes a scalar, as beside '+'.
std::optional<ValueId> operandArg(Elaborator &e, const Arguments &args,
                                  size_t i, const char *name) {
  if (args[i].isNumber())
    return e.constant(args[i].number(), args.locOf(i));
  return floatArg(e, args, i, name);
}

constexpr const char *kBroadcastHint =
    "sizes are matched from the last dimension; each pair must be equal or "
    "contain a 1";

/// minimum, maximum, pow and the comparisons.
Result broadcasting(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> a = operandArg(e, args, 0, "a");
  if (!a)
    return std::nullopt;
  std::optional<ValueId> b = operandArg(e, args, 1, "b");
  if (!b)
    return std::nullopt;
  return Value::ofEmitted(e.emitChecked(
      args.op, {*a, *b}, {}, rules::broadcast(e.typeOf(*a), e.typeOf(*b)),
      args.loc, args.callee, kBroadcastHint));
}

Result where(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> condition = operandArg(e, args, 0, "cond");
  if (!condition)
    return std::nullopt;
  std::optional<ValueId> x = operandArg(e, args, 1, "x");
  if (!x)
    return std::nullopt;
  std::optional<ValueId> y = operandArg(e, args, 2, "y");
  if (!y)
    return std::nullopt;
  return Value::ofEmitted(e.emitChecked(
      OpKind::Where, {*condition, *x, *y}, {},
      rules::where(e.typeOf(*condition), e.typeOf(*x), e.typeOf(*y)), args.loc,
      "where", kBroadcastHint));
}

Result gelu(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  std::string approximate = "none";
  if (args.has(1)) {
    std::optional<std::string> value =
        e.asString(args[1], args.locOf(1), argument(args, "approximate"));
    if (!value)
      return std::nullopt;
    if (*value != "none" && *value != "tanh")
      return e.error(args.locOf(1),
                     "gelu's approximation must be \"none\" or \"tanh\", got \"" +
                         *value + "\"");
    approximate = *value;
  }
  std::vector<std::pair<std::string, AttrValue>> attrs;
  if (approximate != "none")
    attrs.push_back({"approximate", approximate});
  return Value::ofTensor(
      e.emit1(OpKind::Gelu, {*x}, std::move(attrs), e.typeOf(*x), args.loc));
}

Result softmax(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  int64_t axis = e.typeOf(*x).rank() - 1;
  if (args.has(1)) {
    std::optional<int64_t> value = e.asAxis(
        args[1], e.typeOf(*x).rank(), args.locOf(1), argument(args, "axis"));
    if (!value)
      return std::nullopt;
    axis = *value;
  }
  return Value::ofEmitted(e.emitChecked(args.op, {*x}, {{"axis", axis}},
                              rules::softmax(e.typeOf(*x), axis), args.loc,
                              args.callee));
}

/// The axes of a reduction: one axis or a list, distinct.
std::optional<std::vector<int64_t>> reductionAxes(Elaborator &e,
                                                  const Arguments &args,
                                                  int64_t rank) {
  std::vector<Value> values = args[1].kind == Value::Kind::List
                                  ? args[1].elements
                                  : std::vector<Value>{args[1]};
  if (values.empty())
    return e.error(args.locOf(1), args.callee + " needs at least one axis");
  std::vector<int64_t> axes;
  for (const Value &value : values) {
    std::optional<int64_t> axis =
        e.asAxis(value, rank, args.locOf(1), argument(args, "axis"));
    if (!axis)
      return std::nullopt;
    if (llvm::is_contained(axes, *axis))
      return e.error(args.locOf(1), "axis " + Twine(*axis) + " of " +
                                        args.callee + " is given twice");
    axes.push_back(*axis);
  }
  return axes;
}

Result reduction(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  const TensorType &type = e.typeOf(*x);
  std::optional<std::vector<int64_t>> axes =
      reductionAxes(e, args, type.rank());
  if (!axes)
    return std::nullopt;
  bool keepDims = false;
  if (args.has(2)) {
    std::optional<bool> value =
        e.asBool(args[2], args.locOf(2), argument(args, "keep_dims"));
    if (!value)
      return std::nullopt;
    keepDims = *value;
  }
  return Value::ofEmitted(e.emitChecked(args.op, {*x},
                              {{"axes", *axes}, {"keep_dims", keepDims}},
                              rules::reduction(type, *axes, keepDims),
                              args.loc, args.callee));
}

Result argmax(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  const TensorType &type = e.typeOf(*x);
  std::optional<int64_t> axis =
      e.asAxis(args[1], type.rank(), args.locOf(1), argument(args, "axis"));
  if (!axis)
    return std::nullopt;
  bool keepDims = false;
  if (args.has(2)) {
    std::optional<bool> value =
        e.asBool(args[2], args.locOf(2), argument(args, "keep_dims"));
    if (!value)
      return std::nullopt;
    keepDims = *value;
  }
  return Value::ofEmitted(e.emitChecked(OpKind::Argmax, {*x},
                              {{"axis", *axis}, {"keep_dims", keepDims}},
                              rules::argmax(type, *axis, keepDims), args.loc,
                              "argmax"));
}

Result pool(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  const TensorType &type = e.typeOf(*x);
  auto pair = [&](size_t i, const char *name) {
    return e.asPair(args[i], args.locOf(i), argument(args, name));
  };
  std::optional<std::array<int64_t, 2>> kernel = pair(1, "kernel");
  if (!kernel)
    return std::nullopt;
  std::array<int64_t, 2> stride = *kernel, padding{0, 0};
  if (args.has(2)) {
    auto value = pair(2, "stride");
    if (!value)
      return std::nullopt;
    stride = *value;
  }
  if (args.has(3)) {
    auto value = pair(3, "padding");
    if (!value)
      return std::nullopt;
    padding = *value;
  }
  std::vector<std::pair<std::string, AttrValue>> attrs = {
      {"kernel", std::vector<int64_t>{(*kernel)[0], (*kernel)[1]}},
      {"stride", std::vector<int64_t>{stride[0], stride[1]}},
      {"padding", std::vector<int64_t>{padding[0], padding[1]}}};
  if (args.op == OpKind::AvgPool2D && args.has(4)) {
    std::optional<bool> include =
        e.asBool(args[4], args.locOf(4), argument(args, "count_include_pad"));
    if (!include)
      return std::nullopt;
    attrs.push_back({"count_include_pad", *include});
  }
  return Value::ofEmitted(e.emitChecked(args.op, {*x}, std::move(attrs),
                              rules::pool2d(type, *kernel, stride, padding),
                              args.loc, args.callee));
}

Result flatten(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = e.asTensor(args[0], args.locOf(0),
                                        argument(args, "x"));
  if (!x)
    return std::nullopt;
  const TensorType &type = e.typeOf(*x);
  int64_t rank = std::max<int64_t>(type.rank(), 1);
  int64_t start = 0, end = rank - 1;
  if (args.has(1)) {
    auto value = e.asAxis(args[1], rank, args.locOf(1), argument(args, "start"));
    if (!value)
      return std::nullopt;
    start = *value;
  }
  if (args.has(2)) {
    auto value = e.asAxis(args[2], rank, args.locOf(2), argument(args, "end"));
    if (!value)
      return std::nullopt;
    end = *value;
  }
  Checked<TensorType> result = rules::flatten(type, start, end);
  if (!result)
    return e.error(args.loc, "flatten: " + result.problem().message);
  return Value::ofTensor(e.reshape(*x, result->shape, args.loc));
}

Result reshape(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = e.asTensor(args[0], args.locOf(0),
                                        argument(args, "x"));
  if (!x)
    return std::nullopt;
  std::optional<std::vector<int64_t>> shape =
      e.asIntegerList(args[1], args.locOf(1), argument(args, "shape"));
  if (!shape)
    return std::nullopt;
  if (llvm::count(*shape, -1) > 1 ||
      llvm::any_of(*shape, [](int64_t size) { return size <= 0 && size != -1; }))
    return e.error(args.locOf(1),
                   "reshape sizes must be positive, with at most one -1");
  Checked<TensorType> result = rules::reshape(e.typeOf(*x), *shape);
  if (!result)
    return e.error(args.locOf(1), "reshape: " + result.problem().message);
  return Value::ofTensor(e.reshape(*x, result->shape, args.loc));
}

Result transpose(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = e.asTensor(args[0], args.locOf(0),
                                        argument(args, "x"));
  if (!x)
    return std::nullopt;
  std::optional<std::vector<int64_t>> dims =
      e.asIntegerList(args[1], args.locOf(1), argument(args, "dims"));
  if (!dims)
    return std::nullopt;
  int64_t rank = e.typeOf(*x).rank();
  std::vector<int64_t> sorted = *dims;
  for (int64_t &d : sorted)
    d = d < 0 ? d + rank : d;
  std::vector<int64_t> permutation = sorted;
  llvm::sort(sorted);
  for (int64_t d = 0; d < rank; ++d)
    if (static_cast<int64_t>(sorted.size()) != rank || sorted[d] != d)
      return e.error(args.locOf(1),
                     "transpose's dims must list each of the " + Twine(rank) +
                         " dimensions of " + e.typeOf(*x).str() + " once");
  return Value::ofTensor(e.transpose(*x, permutation, args.loc));
}

Result concat(Elaborator &e, const Arguments &args) {
  if (args[0].kind != Value::Kind::List || args[0].elements.empty())
    return e.error(args.locOf(0), "concat takes a non-empty list of tensors");
  std::vector<ValueId> tensors;
  for (const Value &element : args[0].elements) {
    std::optional<ValueId> tensor =
        e.asTensor(element, args.locOf(0), "each element of concat's list");
    if (!tensor)
      return std::nullopt;
    tensors.push_back(*tensor);
  }
  std::optional<int64_t> axis =
      e.asAxis(args[1], e.typeOf(tensors.front()).rank(), args.locOf(1),
               argument(args, "axis"));
  if (!axis)
    return std::nullopt;
  std::vector<TensorType> types;
  for (ValueId t : tensors)
    types.push_back(e.typeOf(t));
  return Value::ofEmitted(e.emitChecked(OpKind::Concat, tensors, {{"axis", *axis}},
                              rules::concat(types, *axis), args.loc,
                              "concat"));
}

Result dropout(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  std::optional<double> p = e.asNumber(args[1], args.locOf(1),
                                       argument(args, "p"));
  if (!p)
    return std::nullopt;
  // Each dropout site draws its own mask.
  int64_t seed = static_cast<int64_t>(e.program.nodes.size());
  return Value::ofEmitted(e.emitChecked(OpKind::Dropout, {*x, e.stepCounter(args.loc)},
                              {{"p", *p}, {"seed", seed}},
                              rules::dropout(e.typeOf(*x), *p), args.locOf(1),
                              "dropout"));
}

Result oneHot(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> ids =
      e.asTensor(args[0], args.locOf(0), argument(args, "ids"));
  if (!ids)
    return std::nullopt;
  if (e.typeOf(*ids).element != ElementType::I64)
    return e.error(args.locOf(0), "one_hot takes i64 ids, got " +
                                      e.typeOf(*ids).str());
  std::optional<int64_t> classes =
      e.asPositive(args[1], args.locOf(1), argument(args, "classes"));
  if (!classes)
    return std::nullopt;
  return Value::ofEmitted(e.emitChecked(
      OpKind::OneHot, {*ids}, {{"num_classes", *classes}},
      rules::oneHot(e.typeOf(*ids), *classes, ElementType::F32), args.loc,
      "one_hot"));
}

Result positions(Elaborator &e, const Arguments &args) {
  std::optional<int64_t> length =
      e.asPositive(args[0], args.locOf(0), argument(args, "length"));
  if (!length)
    return std::nullopt;
  std::optional<int64_t> dim =
      e.asPositive(args[1], args.locOf(1), argument(args, "dim"));
  if (!dim)
    return std::nullopt;
  return Value::ofEmitted(e.emitChecked(
      OpKind::SinusoidalPositions, {}, {{"length", *length}, {"dim", *dim}},
      rules::sinusoidalPositions(*length, *dim, ElementType::F32),
      args.locOf(1), "sinusoidal_positions"));
}

Result attention(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> q = floatArg(e, args, 0, "q");
  if (!q)
    return std::nullopt;
  std::optional<ValueId> k = floatArg(e, args, 1, "k");
  if (!k)
    return std::nullopt;
  std::optional<ValueId> v = floatArg(e, args, 2, "v");
  if (!v)
    return std::nullopt;
  bool causal = false;
  if (args.has(3)) {
    std::optional<bool> value =
        e.asBool(args[3], args.locOf(3), argument(args, "causal"));
    if (!value)
      return std::nullopt;
    causal = *value;
  }
  double dropout = 0;
  if (args.has(4)) {
    std::optional<double> value =
        e.asNumber(args[4], args.locOf(4), argument(args, "dropout"));
    if (!value)
      return std::nullopt;
    if (auto problem = rules::dropoutProbability(*value, "dropout"))
      return e.error(args.locOf(4), "attention: " + problem->message);
    dropout = *value;
  }
  return Value::ofEmitted(e.attention(
      *q, *k, *v, causal, dropout, args.loc, "attention",
      "attention takes q [..., L, E], k [..., S, E] and v [..., S, V] with the "
      "same leading dimensions"));
}

const std::vector<BuiltinFunction> &builtins() {
  static const std::vector<BuiltinFunction> table = {
      {"relu", {{"x", true}}, elementwise, OpKind::Relu},
      {"tanh", {{"x", true}}, elementwise, OpKind::Tanh},
      {"sigmoid", {{"x", true}}, elementwise, OpKind::Sigmoid},
      {"silu", {{"x", true}}, elementwise, OpKind::Silu},
      {"exp", {{"x", true}}, elementwise, OpKind::Exp},
      {"log", {{"x", true}}, elementwise, OpKind::Log},
      {"sqrt", {{"x", true}}, elementwise, OpKind::Sqrt},
      {"abs", {{"x", true}}, elementwise, OpKind::Abs},
      {"leaky_relu",
       {{"x", true}, {"negative_slope", false}},
       parameterized,
       OpKind::LeakyRelu},
      {"elu", {{"x", true}, {"alpha", false}}, parameterized, OpKind::Elu},
      {"softplus",
       {{"x", true}, {"beta", false}, {"threshold", false}},
       softplus,
       OpKind::Softplus},
      {"clamp",
       {{"x", true}, {"min", false}, {"max", false}},
       clamp,
       OpKind::Clamp},
      {"minimum", {{"a", true}, {"b", true}}, broadcasting, OpKind::Minimum},
      {"maximum", {{"a", true}, {"b", true}}, broadcasting, OpKind::Maximum},
      {"pow", {{"a", true}, {"b", true}}, broadcasting, OpKind::Pow},
      {"greater", {{"a", true}, {"b", true}}, broadcasting, OpKind::Greater},
      {"less", {{"a", true}, {"b", true}}, broadcasting, OpKind::Less},
      {"greater_equal",
       {{"a", true}, {"b", true}},
       broadcasting,
       OpKind::GreaterEqual},
      {"less_equal",
       {{"a", true}, {"b", true}},
       broadcasting,
       OpKind::LessEqual},
      {"equal", {{"a", true}, {"b", true}}, broadcasting, OpKind::Equal},
      {"not_equal", {{"a", true}, {"b", true}}, broadcasting, OpKind::NotEqual},
      {"where", {{"cond", true}, {"x", true}, {"y", true}}, where},
      {"gelu", {{"x", true}, {"approximate", false}}, gelu},
      {"softmax", {{"x", true}, {"axis", false}}, softmax, OpKind::Softmax},
      {"log_softmax",
       {{"x", true}, {"axis", false}},
       softmax,
       OpKind::LogSoftmax},
      {"sum",
       {{"x", true}, {"axis", true}, {"keep_dims", false}},
       reduction,
       OpKind::ReduceSum},
      {"mean",
       {{"x", true}, {"axis", true}, {"keep_dims", false}},
       reduction,
       OpKind::ReduceMean},
      {"max",
       {{"x", true}, {"axis", true}, {"keep_dims", false}},
       reduction,
       OpKind::ReduceMax},
      {"argmax", {{"x", true}, {"axis", true}, {"keep_dims", false}}, argmax},
      {"max_pool2d",
       {{"x", true}, {"kernel", true}, {"stride", false}, {"padding", false}},
       pool,
       OpKind::MaxPool2D},
      {"avg_pool2d",
       {{"x", true},
        {"kernel", true},
        {"stride", false},
        {"padding", false},
        {"count_include_pad", false}},
       pool,
       OpKind::AvgPool2D},
      {"flatten", {{"x", true}, {"start", false}, {"end", false}}, flatten},
      {"reshape", {{"x", true}, {"shape", true}}, reshape},
      {"transpose", {{"x", true}, {"dims", true}}, transpose},
      {"concat", {{"tensors", true}, {"axis", true}}, concat},
      {"dropout", {{"x", true}, {"p", true}}, dropout},
      {"one_hot", {{"ids", true}, {"classes", true}}, oneHot},
      {"sinusoidal_positions", {{"length", true}, {"dim", true}}, positions},
      {"attention",
       {{"q", true},
        {"k", true},
        {"v", true},
        {"causal", false},
        {"dropout", false}},
       attention},
      {"cross_entropy",
       {{"logits", true},
        {"labels", true},
        {"label_smoothing", false},
        {"ignore_index", false}},
       losses::crossEntropy},
      {"mse_loss",
       {{"input", true}, {"target", true}, {"reduction", false}},
       losses::mseLoss},
      {"l1_loss",
       {{"input", true}, {"target", true}, {"reduction", false}},
       losses::l1Loss},
      {"binary_cross_entropy_with_logits",
       {{"logits", true}, {"targets", true}, {"reduction", false}},
       losses::binaryCrossEntropyWithLogits},
  };
  return table;
}

} // namespace

const BuiltinFunction *kiln::sema::lookupBuiltin(llvm::StringRef name) {
  for (const BuiltinFunction &builtin : builtins())
    if (name == builtin.name)
      return &builtin;
  return nullptr;
}
