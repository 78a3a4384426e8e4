//===- SemaLosses.cpp - The loss functions of the Kiln language -----------===//
//
// As torch.nn.functional's, with the mean over every element as the default
// reduction. A loss that has no op of its own is composed of kiln ops, so
// that its gradient follows from theirs.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

using namespace kiln;
using namespace kiln::sema;

namespace {

using Result = std::optional<Value>;

/// Composes kiln ops for one loss, at the call's location; every rule is
/// checked, and the first problem is reported with the loss's name.
class Composer {
public:
  Composer(Elaborator &e, const Arguments &args) : e(e), args(args) {}

  std::optional<ValueId> binary(OpKind op, ValueId a, ValueId b) {
    return e.emitChecked(op, {a, b}, {},
                         rules::broadcast(e.typeOf(a), e.typeOf(b)), args.loc,
                         args.callee);
  }
  ValueId unary(OpKind op, ValueId x) {
    return e.emit1(op, {x}, {}, e.typeOf(x), args.loc);
  }
  std::optional<ValueId> constant(double value) {
    return e.constant(value, args.loc);
  }
  /// The mean or sum (`op`) over every axis of `x`.
  std::optional<ValueId> reduceAll(OpKind op, ValueId x) {
    const TensorType &type = e.typeOf(x);
    if (type.rank() == 0)
      return x;
    std::vector<int64_t> axes;
    for (int64_t d = 0; d < type.rank(); ++d)
      axes.push_back(d);
    return e.emitChecked(op, {x}, {{"axes", axes}, {"keep_dims", false}},
                         rules::reduction(type, axes, false), args.loc,
                         args.callee);
  }

private:
  Elaborator &e;
  const Arguments &args;
};

/// The reduction named by argument `i`: mean (the default), sum or none.
std::optional<std::string> reductionArg(Elaborator &e, const Arguments &args,
                                        size_t i) {
  if (!args.has(i))
    return std::string("mean");
  std::optional<std::string> value = e.asString(
      args[i], args.locOf(i), "argument 'reduction' of " + args.callee.str());
  if (!value)
    return std::nullopt;
  if (*value != "mean" && *value != "sum" && *value != "none")
    return e.error(args.locOf(i),
                   args.callee + "'s reduction must be \"mean\", \"sum\" or "
                                 "\"none\", got \"" +
                       *value + "\"");
  return value;
}

/// The first two arguments, named `first` and `second`: f32 tensors of one
/// shape.
std::optional<std::pair<ValueId, ValueId>>
sameShapeOperands(Elaborator &e, const Arguments &args, const char *first,
                  const char *second) {
  auto operand = [&](size_t i, const char *name) {
    return e.asFloatTensor(args[i], args.locOf(i),
                           "argument '" + llvm::Twine(name) + "' of " +
                               args.callee);
  };
  std::optional<ValueId> input = operand(0, first);
  if (!input)
    return std::nullopt;
  std::optional<ValueId> target = operand(1, second);
  if (!target)
    return std::nullopt;
  if (e.typeOf(*input) != e.typeOf(*target))
    return e.error(args.loc, args.callee + " takes " + first + " and " +
                                 second + " of one shape, got " +
                                 e.typeOf(*input).str() + " and " +
                                 e.typeOf(*target).str());
  return std::pair(*input, *target);
}

/// Reduces the elementwise losses `x` as `reduction` says.
Result reduce(Composer &c, std::optional<ValueId> x,
              const std::string &reduction) {
  if (x && reduction != "none")
    x = c.reduceAll(reduction == "sum" ? OpKind::ReduceSum : OpKind::ReduceMean,
                    *x);
  if (!x)
    return std::nullopt;
  return Value::ofTensor(*x);
}

/// A loss of two operands of one shape and a `reduction`: `perElement`
/// composes its unreduced value from the two.
template <typename PerElement>
Result elementwiseLoss(Elaborator &e, const Arguments &args, const char *first,
                       const char *second, PerElement perElement) {
  auto operands = sameShapeOperands(e, args, first, second);
  std::optional<std::string> reduction = reductionArg(e, args, 2);
  if (!operands || !reduction)
    return std::nullopt;
  Composer c(e, args);
  return reduce(c, perElement(c, operands->first, operands->second),
                *reduction);
}

} // namespace

Result losses::crossEntropy(Elaborator &e, const Arguments &args) {
  std::optional<ValueId> logits = e.asFloatTensor(
      args[0], args.locOf(0), "argument 'logits' of cross_entropy");
  if (!logits)
    return std::nullopt;
  std::optional<ValueId> labels =
      e.asTensor(args[1], args.locOf(1), "argument 'labels' of cross_entropy");
  if (!labels)
    return std::nullopt;
  const TensorType &ty = e.typeOf(*labels);
  if (ty.element != ElementType::I64)
    return e.error(args.locOf(1),
                   "cross_entropy takes i64 class labels, got " + ty.str());
  double smoothing = 0;
  if (args.has(2)) {
    std::optional<double> value = e.asNumber(
        args[2], args.locOf(2), "argument 'label_smoothing' of cross_entropy");
    if (!value)
      return std::nullopt;
    if (*value < 0 || *value > 1)
      return e.error(args.locOf(2),
                     "cross_entropy's label_smoothing must be in [0, 1]");
    smoothing = *value;
  }
  // PyTorch's default: a label of -100 is ignored.
  int64_t ignoreIndex = -100;
  if (args.has(3)) {
    std::optional<int64_t> value = e.asInteger(
        args[3], args.locOf(3), "argument 'ignore_index' of cross_entropy");
    if (!value)
      return std::nullopt;
    ignoreIndex = *value;
  }
  return Value::ofEmitted(e.emitChecked(
      OpKind::CrossEntropy, {*logits, *labels},
      {{"ignore_index", ignoreIndex}, {"label_smoothing", smoothing}},
      rules::crossEntropy(e.typeOf(*logits), ty, smoothing), args.loc,
      "cross_entropy",
      "cross_entropy takes logits [batch, classes] and labels i64[batch]"));
}

Result losses::mseLoss(Elaborator &e, const Arguments &args) {
  return elementwiseLoss(
      e, args, "input", "target",
      [](Composer &c, ValueId x, ValueId t) -> std::optional<ValueId> {
        std::optional<ValueId> d = c.binary(OpKind::Sub, x, t);
        return d ? c.binary(OpKind::Mul, *d, *d) : std::nullopt;
      });
}

Result losses::l1Loss(Elaborator &e, const Arguments &args) {
  return elementwiseLoss(
      e, args, "input", "target",
      [](Composer &c, ValueId x, ValueId t) -> std::optional<ValueId> {
        std::optional<ValueId> d = c.binary(OpKind::Sub, x, t);
        return d ? std::optional(c.unary(OpKind::Abs, *d)) : std::nullopt;
      });
}

Result losses::binaryCrossEntropyWithLogits(Elaborator &e,
                                            const Arguments &args) {
  // PyTorch's stable form, max(x, 0) - x t + log(1 + exp(-|x|)). maximum
  // splits its gradient at x = 0 as PyTorch's sigmoid(x) - t has it there.
  return elementwiseLoss(
      e, args, "logits", "targets",
      [](Composer &c, ValueId x, ValueId t) -> std::optional<ValueId> {
        std::optional<ValueId> zero = c.constant(0);
        std::optional<ValueId> positive =
            zero ? c.binary(OpKind::Maximum, x, *zero) : std::nullopt;
        std::optional<ValueId> xt = c.binary(OpKind::Mul, x, t);
        if (!positive || !xt)
          return std::nullopt;
        ValueId tail = c.unary(OpKind::Softplus,
                               c.unary(OpKind::Neg, c.unary(OpKind::Abs, x)));
        std::optional<ValueId> linear = c.binary(OpKind::Sub, *positive, *xt);
        return linear ? c.binary(OpKind::Add, *linear, tail) : std::nullopt;
      });
}
