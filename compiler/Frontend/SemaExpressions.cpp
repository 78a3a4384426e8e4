//===- SemaExpressions.cpp - Statements, expressions and calls ------------===//
//
// The bodies of forwards, blocks and functions: each statement and
// expression evaluated to a compile-time value or a tensor of the graph,
// with its type checked where it is written; calls bound to their
// parameters.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using llvm::Twine;

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

std::optional<std::vector<Value>> Elaborator::run(const Body &body,
                                                  Scope &scope, SMLoc endLoc) {
  for (auto [i, statement] : llvm::enumerate(body)) {
    if (statement.kind == Statement::Kind::Return) {
      if (i + 1 != body.size())
        return error(body[i + 1].loc, "statement after 'return' never runs",
                     "'return' must be the last statement");
      std::vector<Value> results;
      for (const ExprPtr &expr : statement.values) {
        std::optional<Value> value = eval(*expr, scope);
        if (!value)
          return std::nullopt;
        results.push_back(std::move(*value));
      }
      return results;
    }
    std::optional<Value> value = eval(*statement.values.front(), scope);
    if (!value)
      return std::nullopt;
    size_t count = statement.targets.size();
    if (count > 1) {
      if (value->kind != Value::Kind::Tuple)
        return error(statement.targets[1].loc,
                     Twine(count) + " names are assigned, but the value is " +
                         describe(*value));
      if (value->elements.size() != count)
        return error(statement.targets.front().loc,
                     Twine(count) + " names are assigned, but the call gives " +
                         Twine(value->elements.size()) + " values");
    }
    for (auto [j, target] : llvm::enumerate(statement.targets)) {
      if (scope.owner && scope.owner->childByName.count(target.name))
        return error(target.loc,
                     "'" + target.name +
                         "' is a layer; a variable of that name would hide it",
                     "choose another name for the variable");
      Value element = count > 1                             ? value->elements[j]
                      : value->kind == Value::Kind::Tuple ? value->elements[0]
                                                            : *value;
      scope.locals[target.name] = std::move(element);
    }
  }
  return error(endLoc, "this body has no 'return'",
               "end it with `return` and the values it gives");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

std::optional<Value> Elaborator::eval(const Expr &expr, Scope &scope) {
  // An error that did not stop its caller (a tensor too large) stops here.
  if (diags.hadError())
    return std::nullopt;
  switch (expr.getKind()) {
  case Expr::Kind::Number: {
    const auto &number = llvm::cast<NumberExpr>(expr);
    return number.isInteger() ? Value::ofInteger(number.getInteger())
                              : Value::ofReal(number.getValue());
  }
  case Expr::Kind::String:
    return Value::ofString(llvm::cast<StringExpr>(expr).getValue().str());
  case Expr::Kind::Bool:
    return Value::ofBool(llvm::cast<BoolExpr>(expr).getValue());
  case Expr::Kind::Name:
    return evalName(llvm::cast<NameExpr>(expr), scope);
  case Expr::Kind::Member:
    return evalMember(llvm::cast<MemberExpr>(expr), scope);
  case Expr::Kind::List: {
    std::vector<Value> elements;
    for (const ExprPtr &element : llvm::cast<ListExpr>(expr).getElements()) {
      std::optional<Value> value = eval(*element, scope);
      if (!value)
        return std::nullopt;
      elements.push_back(std::move(*value));
    }
    return Value::ofList(std::move(elements));
  }
  case Expr::Kind::Unary:
    return evalUnary(llvm::cast<UnaryExpr>(expr), scope);
  case Expr::Kind::Binary:
    return evalBinary(llvm::cast<BinaryExpr>(expr), scope);
  case Expr::Kind::Call:
    return evalCall(llvm::cast<CallExpr>(expr), scope);
  case Expr::Kind::Index:
    return evalIndex(llvm::cast<IndexExpr>(expr), scope);
  }
  return std::nullopt;
}

std::optional<Value> Elaborator::evalUnary(const UnaryExpr &expr,
                                           Scope &scope) {
  std::optional<Value> operand = eval(expr.getOperand(), scope);
  if (!operand)
    return std::nullopt;
  if (operand->kind == Value::Kind::Integer) {
    if (operand->integer == INT64_MIN)
      return error(expr.getLoc(), "integer overflow");
    return Value::ofInteger(-operand->integer);
  }
  if (operand->kind == Value::Kind::Real)
    return Value::ofReal(-operand->real);
  std::optional<ValueId> tensor =
      asFloatTensor(*operand, expr.getOperand().getLoc(), "the operand of '-'");
  if (!tensor)
    return std::nullopt;
  return Value::ofTensor(
      emit1(OpKind::Neg, {*tensor}, {}, typeOf(*tensor), expr.getLoc()));
}

std::optional<Value> Elaborator::evalBinary(const BinaryExpr &expr,
                                            Scope &scope) {
  std::optional<Value> lhs = eval(expr.getLHS(), scope);
  if (!lhs)
    return std::nullopt;
  std::optional<Value> rhs = eval(expr.getRHS(), scope);
  if (!rhs)
    return std::nullopt;
  if (expr.getOp() == "@")
    return matmul(*lhs, *rhs, expr.getLHS().getLoc(), expr.getRHS().getLoc(),
                  expr.getOpLoc());
  return arithmetic(expr.getOp(), *lhs, *rhs, expr.getLHS().getLoc(),
                    expr.getRHS().getLoc(), expr.getOpLoc());
}

/// The op of an infix comparison, when `op` is one.
static std::optional<OpKind> comparisonOp(llvm::StringRef op) {
  return llvm::StringSwitch<std::optional<OpKind>>(op)
      .Case("<", OpKind::Less)
      .Case(">", OpKind::Greater)
      .Case("<=", OpKind::LessEqual)
      .Case(">=", OpKind::GreaterEqual)
      .Case("==", OpKind::Equal)
      .Case("!=", OpKind::NotEqual)
      .Default(std::nullopt);
}

std::optional<Value> Elaborator::arithmetic(llvm::StringRef spelling,
                                            const Value &lhs, const Value &rhs,
                                            SMLoc lhsLoc, SMLoc rhsLoc,
                                            SMLoc loc) {
  std::optional<OpKind> comparison = comparisonOp(spelling);
  // Numbers are computed now; a comparison of numbers gives 1.0 or 0.0.
  if (comparison && lhs.isNumber() && rhs.isNumber()) {
    double a = lhs.number(), b = rhs.number();
    bool holds = *comparison == OpKind::Less           ? a < b
                 : *comparison == OpKind::Greater      ? a > b
                 : *comparison == OpKind::LessEqual    ? a <= b
                 : *comparison == OpKind::GreaterEqual ? a >= b
                 : *comparison == OpKind::Equal        ? a == b
                                                       : a != b;
    return Value::ofReal(holds ? 1.0 : 0.0);
  }
  char op = spelling[0];
  if (lhs.isNumber() && rhs.isNumber()) {
    bool integers =
        lhs.kind == Value::Kind::Integer && rhs.kind == Value::Kind::Integer;
    if (op == '/' && rhs.number() == 0)
      return error(rhsLoc, "division by zero");
    if (integers) {
      int64_t a = lhs.integer, b = rhs.integer, result;
      bool overflow = false;
      switch (op) {
      case '+':
        overflow = __builtin_add_overflow(a, b, &result);
        break;
      case '-':
        overflow = __builtin_sub_overflow(a, b, &result);
        break;
      case '*':
        overflow = __builtin_mul_overflow(a, b, &result);
        break;
      default:
        if (a % b == 0 && !(a == INT64_MIN && b == -1))
          return Value::ofInteger(a / b);
        return Value::ofReal(static_cast<double>(a) / static_cast<double>(b));
      }
      if (overflow)
        return error(loc, "integer overflow in '" + Twine(op) + "'");
      return Value::ofInteger(result);
    }
    double a = lhs.number(), b = rhs.number();
    return Value::ofReal(op == '+'   ? a + b
                         : op == '-' ? a - b
                         : op == '*' ? a * b
                                     : a / b);
  }

  // A number next to a tensor is a scalar of the tensor's type.
  auto operand = [&](const Value &value, SMLoc valueLoc) -> std::optional<ValueId> {
    if (value.isNumber())
      return constant(value.number(), valueLoc);
    return asFloatTensor(value, valueLoc, "an operand of '" + spelling + "'");
  };
  std::optional<ValueId> a = operand(lhs, lhsLoc);
  if (!a)
    return std::nullopt;
  std::optional<ValueId> b = operand(rhs, rhsLoc);
  if (!b)
    return std::nullopt;
  OpKind kind = comparison  ? *comparison
                : op == '+' ? OpKind::Add
                : op == '-' ? OpKind::Sub
                : op == '*' ? OpKind::Mul
                            : OpKind::Div;
  std::optional<ValueId> result = emitChecked(
      kind, {*a, *b}, {}, rules::broadcast(typeOf(*a), typeOf(*b)), loc,
      "'" + spelling + "'",
      "sizes are matched from the last dimension; each pair must be equal "
      "or contain a 1");
  if (!result)
    return std::nullopt;
  return Value::ofTensor(*result);
}

std::optional<Value> Elaborator::matmul(const Value &lhs, const Value &rhs,
                                        SMLoc lhsLoc, SMLoc rhsLoc, SMLoc loc) {
  std::optional<ValueId> a = asFloatTensor(lhs, lhsLoc, "the left of '@'");
  if (!a)
    return std::nullopt;
  std::optional<ValueId> b = asFloatTensor(rhs, rhsLoc, "the right of '@'");
  if (!b)
    return std::nullopt;
  std::optional<ValueId> result =
      emitChecked(OpKind::Matmul, {*a, *b}, {},
                  rules::matmul(typeOf(*a), typeOf(*b), false, false), loc,
                  "'@'", "'@' multiplies [..., M, K] by [..., K, N]");
  if (!result)
    return std::nullopt;
  return Value::ofTensor(*result);
}

std::optional<Value> Elaborator::evalIndex(const IndexExpr &expr,
                                           Scope &scope) {
  std::optional<Value> base = eval(expr.getBase(), scope);
  if (!base)
    return std::nullopt;
  std::optional<ValueId> tensor =
      asTensor(*base, expr.getBase().getLoc(), "an indexed value");
  if (!tensor)
    return std::nullopt;
  const TensorType &type = typeOf(*tensor);
  const std::vector<IndexItem> &items = expr.getItems();
  if (static_cast<int64_t>(items.size()) > type.rank())
    return error(expr.getLoc(), Twine(items.size()) +
                                    " indices for the " + Twine(type.rank()) +
                                    "-dimensional " + type.str());

  std::vector<int64_t> offsets, sizes, strides, kept;
  for (int64_t d = 0; d < type.rank(); ++d) {
    int64_t size = type.shape[d];
    if (d >= static_cast<int64_t>(items.size())) {
      offsets.push_back(0), sizes.push_back(size), strides.push_back(1);
      kept.push_back(size);
      continue;
    }
    const IndexItem &item = items[d];
    auto part = [&](const ExprPtr &e, const char *what) -> std::optional<int64_t> {
      std::optional<Value> value = eval(*e, scope);
      if (!value)
        return std::nullopt;
      return asInteger(*value, e->getLoc(), Twine("a ") + what);
    };
    if (!item.isSlice) {
      std::optional<int64_t> index = part(item.start, "index");
      if (!index)
        return std::nullopt;
      if (*index < -size || *index >= size)
        return error(item.loc, "index " + Twine(*index) +
                                   " is out of range for dimension " +
                                   Twine(d) + " of " + type.str() +
                                   " (valid: " + Twine(-size) + " to " +
                                   Twine(size - 1) + ")");
      offsets.push_back(*index < 0 ? *index + size : *index);
      sizes.push_back(1), strides.push_back(1);
      continue;
    }
    int64_t step = 1;
    if (item.step) {
      std::optional<int64_t> value = part(item.step, "slice step");
      if (!value)
        return std::nullopt;
      if (*value <= 0)
        return error(item.step->getLoc(),
                     "slice steps must be positive, got " + Twine(*value));
      step = *value;
    }
    // Python's rules: negative positions count from the end; out-of-range
    // positions are clamped.
    auto position = [&](const ExprPtr &e, int64_t fallback) -> std::optional<int64_t> {
      if (!e)
        return fallback;
      std::optional<int64_t> value = part(e, "slice position");
      if (!value)
        return std::nullopt;
      int64_t p = *value < 0 ? *value + size : *value;
      return std::clamp<int64_t>(p, 0, size);
    };
    std::optional<int64_t> start = position(item.start, 0);
    if (!start)
      return std::nullopt;
    std::optional<int64_t> stop = position(item.stop, size);
    if (!stop)
      return std::nullopt;
    int64_t count = *stop > *start ? (*stop - *start + step - 1) / step : 0;
    if (count == 0)
      return error(item.loc, "this slice of dimension " + Twine(d) + " of " +
                                 type.str() + " is empty");
    offsets.push_back(*start), sizes.push_back(count), strides.push_back(step);
    kept.push_back(count);
  }

  ValueId result = *tensor;
  if (sizes != type.shape || llvm::any_of(strides, [](int64_t s) { return s != 1; }))
    result = emit1(OpKind::Slice, {result},
                   {{"offsets", offsets}, {"sizes", sizes}, {"strides", strides}},
                   TensorType{type.element, sizes}, expr.getLoc());
  if (kept.size() != sizes.size())
    result = reshape(result, kept, expr.getLoc());
  return Value::ofTensor(result);
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

std::optional<Arguments>
Elaborator::bind(llvm::StringRef callee, SMLoc loc,
                 const std::vector<ParamSpec> &params, const CallExpr &call,
                 Scope &scope) {
  Arguments args;
  args.callee = callee;
  args.loc = loc;
  args.values.resize(params.size());
  args.locs.resize(params.size());
  auto signature = [&] {
    std::string text;
    for (auto [i, p] : llvm::enumerate(params))
      text += (i ? ", " : "") + std::string(p.name);
    return text;
  };
  size_t positional = 0;
  for (const Argument &argument : call.getArguments()) {
    size_t index;
    if (argument.name) {
      auto it = llvm::find_if(params, [&](const ParamSpec &p) {
        return argument.name->name == p.name;
      });
      if (it == params.end())
        return error(argument.name->loc,
                     "'" + callee + "' has no argument '" +
                         argument.name->name + "'",
                     "its arguments are: " + signature());
      index = it - params.begin();
    } else {
      if (positional != static_cast<size_t>(&argument - call.getArguments().data()))
        return error(argument.value->getLoc(),
                     "an argument by position follows one by name",
                     "give the arguments by position first");
      index = positional++;
      if (index >= params.size())
        return error(argument.value->getLoc(),
                     "'" + callee + "' takes " + Twine(params.size()) +
                         " argument" + (params.size() == 1 ? "" : "s") +
                         ", but more are given",
                     "its arguments are: " + signature());
    }
    if (args.values[index])
      return error(argument.name ? argument.name->loc
                                 : argument.value->getLoc(),
                   "argument '" + Twine(params[index].name) +
                       "' of '" + callee + "' is given twice");
    std::optional<Value> value = eval(*argument.value, scope);
    if (!value)
      return std::nullopt;
    args.values[index] = std::move(*value);
    args.locs[index] = argument.value->getLoc();
  }
  for (auto [i, p] : llvm::enumerate(params))
    if (p.required && !args.values[i])
      return error(loc, "'" + callee + "' needs argument '" + p.name + "'",
                   "its arguments are: " + signature());
  return args;
}

std::optional<Value> Elaborator::evalCall(const CallExpr &expr, Scope &scope) {
  std::optional<Value> callee = eval(expr.getCallee(), scope);
  if (!callee)
    return std::nullopt;
  switch (callee->kind) {
  case Value::Kind::Layer:
    return callLayer(*callee->layer, expr, scope);
  case Value::Kind::Builtin: {
    std::optional<Arguments> args = bind(callee->builtin->name, expr.getLoc(),
                                         callee->builtin->params, expr, scope);
    if (!args)
      return std::nullopt;
    args->op = callee->builtin->op;
    return callee->builtin->call(*this, *args);
  }
  case Value::Kind::Function:
    return callFunction(*callee->function, expr, scope);
  case Value::Kind::Block:
    return error(expr.getLoc(),
                 "'" + callee->block->name.name +
                     "' is a block, which is instantiated as a layer",
                 "declare `layer name = " + callee->block->name.name +
                     "(...)` and call name(x)");
  default:
    return error(expr.getLoc(), "cannot call " + describe(*callee));
  }
}

std::optional<Value> Elaborator::callFunction(const FnDecl &fn,
                                              const CallExpr &call,
                                              Scope &scope) {
  if (llvm::is_contained(expanding, &fn))
    return error(call.getLoc(), "function '" + fn.name.name + "' calls itself",
                 "functions are expanded where they are called, so a "
                 "recursive one would never end");
  std::vector<ParamSpec> params;
  for (const Identifier &param : fn.params)
    params.push_back(ParamSpec{param.name.c_str(), true});
  std::optional<Arguments> args =
      bind(fn.name.name, call.getLoc(), params, call, scope);
  if (!args)
    return std::nullopt;
  Scope inner;
  for (auto [i, param] : llvm::enumerate(fn.params))
    inner.locals[param.name] = (*args)[i];
  expanding.push_back(&fn);
  std::optional<std::vector<Value>> results =
      run(fn.body, inner, fn.name.loc);
  expanding.pop_back();
  if (!results) {
    diags.note(call.getLoc(), "in the call of '" + fn.name.name + "' here");
    return std::nullopt;
  }
  if (results->size() == 1)
    return std::move(results->front());
  return Value::ofTuple(std::move(*results));
}
