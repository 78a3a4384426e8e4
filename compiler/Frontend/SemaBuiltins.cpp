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
  return Value::ofTensor(
      e.emit1(args.callee, {*x}, {}, e.typeOf(*x), args.loc));
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
      e.emit1("gelu", {*x}, std::move(attrs), e.typeOf(*x), args.loc));
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
  return Value::ofTensor(e.emit1(args.callee, {*x}, {{"axis", axis}},
                                 e.typeOf(*x), args.loc));
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
  TensorType result{ElementType::F32, {}};
  for (int64_t d = 0; d < type.rank(); ++d) {
    if (!llvm::is_contained(*axes, d))
      result.shape.push_back(type.shape[d]);
    else if (keepDims)
      result.shape.push_back(1);
  }
  std::string op = "reduce_" + args.callee.str();
  return Value::ofTensor(e.emit1(
      op, {*x}, {{"axes", *axes}, {"keep_dims", keepDims}}, result, args.loc));
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
  TensorType result{ElementType::I64, type.shape};
  if (keepDims)
    result.shape[*axis] = 1;
  else
    result.shape.erase(result.shape.begin() + *axis);
  return Value::ofTensor(e.emit1(
      "argmax", {*x}, {{"axis", *axis}, {"keep_dims", keepDims}}, result,
      args.loc));
}

Result pool(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  const TensorType &type = e.typeOf(*x);
  if (type.rank() != 4)
    return e.error(args.locOf(0),
                   args.callee + " pools [batch, channels, height, width] "
                                 "images, got " +
                       type.str());
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
  TensorType result{ElementType::F32, {type.shape[0], type.shape[1]}};
  for (int i = 0; i < 2; ++i) {
    if ((*kernel)[i] <= 0 || stride[i] <= 0)
      return e.error(args.loc, args.callee +
                                   " needs a positive kernel and stride");
    if (padding[i] < 0 || 2 * padding[i] > (*kernel)[i])
      return e.error(args.locOf(3), args.callee +
                                        "'s padding must be between 0 and "
                                        "half the kernel size");
    int64_t span = type.shape[2 + i] + 2 * padding[i] - (*kernel)[i];
    if (span < 0)
      return e.error(args.loc, "the " + Twine((*kernel)[0]) + "x" +
                                   Twine((*kernel)[1]) + " window of " +
                                   args.callee + " does not fit in " +
                                   type.str());
    result.shape.push_back(span / stride[i] + 1);
  }
  std::vector<std::pair<std::string, AttrValue>> attrs = {
      {"kernel", std::vector<int64_t>{(*kernel)[0], (*kernel)[1]}},
      {"stride", std::vector<int64_t>{stride[0], stride[1]}},
      {"padding", std::vector<int64_t>{padding[0], padding[1]}}};
  if (args.callee == "avg_pool2d" && args.has(4)) {
    std::optional<bool> include =
        e.asBool(args[4], args.locOf(4), argument(args, "count_include_pad"));
    if (!include)
      return std::nullopt;
    attrs.push_back({"count_include_pad", *include});
  }
  return Value::ofTensor(
      e.emit1(args.callee, {*x}, std::move(attrs), result, args.loc));
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
  if (start > end)
    return e.error(args.loc, "flatten's start (" + Twine(start) +
                                 ") comes after its end (" + Twine(end) + ")");
  std::vector<int64_t> shape(type.shape.begin(), type.shape.begin() + start);
  int64_t merged = 1;
  for (int64_t d = start; d <= end && d < type.rank(); ++d)
    merged *= type.shape[d];
  shape.push_back(merged);
  shape.insert(shape.end(), type.shape.begin() + std::min(end + 1, type.rank()),
               type.shape.end());
  return Value::ofTensor(e.reshape(*x, shape, args.loc));
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
  const TensorType &type = e.typeOf(*x);
  int64_t known = 1, inferred = -1;
  for (auto [i, size] : llvm::enumerate(*shape)) {
    if (size == -1 && inferred < 0) {
      inferred = i;
    } else if (size <= 0) {
      return e.error(args.locOf(1),
                     "reshape sizes must be positive, with at most one -1");
    } else {
      known *= size;
    }
  }
  if (inferred >= 0) {
    if (type.numElements() % known)
      return e.error(args.locOf(1), "cannot reshape " + type.str() + " (" +
                                        Twine(type.numElements()) +
                                        " elements) into groups of " +
                                        Twine(known));
    (*shape)[inferred] = type.numElements() / known;
  } else if (known != type.numElements()) {
    return e.error(args.locOf(1), "cannot reshape " + type.str() + " (" +
                                      Twine(type.numElements()) +
                                      " elements) into " + Twine(known) +
                                      " elements");
  }
  return Value::ofTensor(e.reshape(*x, *shape, args.loc));
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
  TensorType result = e.typeOf(tensors.front());
  std::optional<int64_t> axis =
      e.asAxis(args[1], result.rank(), args.locOf(1), argument(args, "axis"));
  if (!axis)
    return std::nullopt;
  for (ValueId tensor : llvm::drop_begin(tensors)) {
    TensorType type = e.typeOf(tensor);
    TensorType other = type, first = e.typeOf(tensors.front());
    if (type.rank() == first.rank()) {
      other.shape[*axis] = first.shape[*axis];
      if (other == first) {
        result.shape[*axis] += type.shape[*axis];
        continue;
      }
    }
    return e.error(args.locOf(0), "concat cannot join " + first.str() +
                                      " and " + type.str() + " along axis " +
                                      Twine(*axis));
  }
  return Value::ofTensor(e.emit1("concat", tensors, {{"axis", *axis}}, result,
                                 args.loc));
}

Result dropout(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> x = floatArg(e, args, 0, "x");
  if (!x)
    return std::nullopt;
  std::optional<double> p = e.asNumber(args[1], args.locOf(1),
                                       argument(args, "p"));
  if (!p)
    return std::nullopt;
  if (*p < 0 || *p >= 1)
    return e.error(args.locOf(1), "dropout's p must be in [0, 1)");
  // Each dropout site draws its own mask.
  int64_t seed = static_cast<int64_t>(e.program.nodes.size());
  return Value::ofTensor(e.emit1("dropout", {*x, e.stepCounter(args.loc)},
                                 {{"p", *p}, {"seed", seed}}, e.typeOf(*x),
                                 args.loc));
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
  TensorType result{ElementType::F32, e.typeOf(*ids).shape};
  result.shape.push_back(*classes);
  return Value::ofTensor(e.emit1("one_hot", {*ids},
                                 {{"num_classes", *classes}}, result, args.loc));
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
  if (*dim % 2)
    return e.error(args.locOf(1), "sinusoidal_positions needs an even dim, got " +
                                      Twine(*dim));
  return Value::ofTensor(e.emit1("sinusoidal_positions", {},
                                 {{"length", *length}, {"dim", *dim}},
                                 TensorType{ElementType::F32, {*length, *dim}},
                                 args.loc));
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
  const TensorType &tq = e.typeOf(*q), &tk = e.typeOf(*k), &tv = e.typeOf(*v);
  int64_t rank = tq.rank();
  auto batchOf = [](const TensorType &t) {
    return std::vector<int64_t>(t.shape.begin(), t.shape.end() - 2);
  };
  if (rank < 2 || tk.rank() != rank || tv.rank() != rank ||
      batchOf(tq) != batchOf(tk) || batchOf(tk) != batchOf(tv) ||
      tq.shape.back() != tk.shape.back() ||
      tk.shape[rank - 2] != tv.shape[rank - 2])
    return e.error(args.loc,
                   "attention needs q [..., L, E], k [..., S, E] and "
                   "v [..., S, V] with the same leading dimensions, got " +
                       tq.str() + ", " + tk.str() + " and " + tv.str());
  bool causal = false;
  if (args.has(3)) {
    std::optional<bool> value =
        e.asBool(args[3], args.locOf(3), argument(args, "causal"));
    if (!value)
      return std::nullopt;
    causal = *value;
  }
  TensorType result = tq;
  result.shape.back() = tv.shape.back();
  return Value::ofTensor(e.emit1("attention", {*q, *k, *v},
                                 {{"causal", causal}}, result, args.loc));
}

Result crossEntropy(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> logits = floatArg(e, args, 0, "logits");
  if (!logits)
    return std::nullopt;
  std::optional<ValueId> labels =
      e.asTensor(args[1], args.locOf(1), argument(args, "labels"));
  if (!labels)
    return std::nullopt;
  const TensorType &tl = e.typeOf(*logits), &ty = e.typeOf(*labels);
  if (tl.rank() != 2)
    return e.error(args.locOf(0),
                   "cross_entropy takes logits [batch, classes], got " +
                       tl.str());
  if (ty.element != ElementType::I64 || ty.rank() != 1 ||
      ty.shape[0] != tl.shape[0])
    return e.error(args.locOf(1), "cross_entropy takes labels i64[" +
                                      Twine(tl.shape[0]) +
                                      "] for these logits, got " + ty.str());
  return Value::ofTensor(e.emit1("cross_entropy", {*logits, *labels}, {},
                                 TensorType{ElementType::F32, {}}, args.loc));
}

const std::vector<BuiltinFunction> &builtins() {
  static const std::vector<BuiltinFunction> table = {
      {"relu", {{"x", true}}, elementwise},
      {"tanh", {{"x", true}}, elementwise},
      {"sigmoid", {{"x", true}}, elementwise},
      {"exp", {{"x", true}}, elementwise},
      {"log", {{"x", true}}, elementwise},
      {"sqrt", {{"x", true}}, elementwise},
      {"gelu", {{"x", true}, {"approximate", false}}, gelu},
      {"softmax", {{"x", true}, {"axis", false}}, softmax},
      {"log_softmax", {{"x", true}, {"axis", false}}, softmax},
      {"sum", {{"x", true}, {"axis", true}, {"keep_dims", false}}, reduction},
      {"mean", {{"x", true}, {"axis", true}, {"keep_dims", false}}, reduction},
      {"max", {{"x", true}, {"axis", true}, {"keep_dims", false}}, reduction},
      {"argmax", {{"x", true}, {"axis", true}, {"keep_dims", false}}, argmax},
      {"max_pool2d",
       {{"x", true}, {"kernel", true}, {"stride", false}, {"padding", false}},
       pool},
      {"avg_pool2d",
       {{"x", true},
        {"kernel", true},
        {"stride", false},
        {"padding", false},
        {"count_include_pad", false}},
       pool},
      {"flatten", {{"x", true}, {"start", false}, {"end", false}}, flatten},
      {"reshape", {{"x", true}, {"shape", true}}, reshape},
      {"transpose", {{"x", true}, {"dims", true}}, transpose},
      {"concat", {{"tensors", true}, {"axis", true}}, concat},
      {"dropout", {{"x", true}, {"p", true}}, dropout},
      {"one_hot", {{"ids", true}, {"classes", true}}, oneHot},
      {"sinusoidal_positions", {{"length", true}, {"dim", true}}, positions},
      {"attention",
       {{"q", true}, {"k", true}, {"v", true}, {"causal", false}},
       attention},
      {"cross_entropy", {{"logits", true}, {"labels", true}}, crossEntropy},
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
