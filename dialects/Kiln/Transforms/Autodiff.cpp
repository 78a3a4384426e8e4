//===- Autodiff.cpp - Reverse-mode differentiation of kiln functions ------===//

#include "Kiln/Transforms/Autodiff.h"
#include "Kiln/IR/KilnNames.h"
#include "Kiln/Transforms/Passes.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

namespace kiln {
#define GEN_PASS_DEF_KILNAUTODIFF
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

bool isFloatTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

Value zerosOf(OpBuilder &builder, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return ConstantOp::create(
      builder, loc,
      DenseElementsAttr::get(tensor,
                             builder.getZeroAttr(tensor.getElementType())));
}

} // namespace

std::optional<unsigned> kiln::findLossResult(func::FuncOp func) {
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    if (auto name = func.getResultAttrOfType<StringAttr>(i, "kiln.output"))
      if (name.getValue() == "loss")
        return i;
  return std::nullopt;
}

bool kiln::isStepFunction(func::FuncOp func) {
  return llvm::is_contained({"train_step", "eval_step", "predict_step"},
                            func.getName());
}

FailureOr<func::FuncOp>
kiln::findOrBuildGradientFunction(func::FuncOp func, unsigned lossIndex,
                                  ArrayRef<unsigned> wrt) {
  auto module = func->getParentOfType<ModuleOp>();
  func::FuncOp grad;
  for (auto candidate : module.getOps<func::FuncOp>()) {
    auto of = candidate->getAttrOfType<FlatSymbolRefAttr>("kiln.gradient_of");
    if (of && of.getValue() == func.getSymName())
      grad = candidate;
  }
  if (!grad)
    return buildGradientFunction(func, lossIndex, wrt);
  unsigned results = func.getNumResults();
  bool matches = grad.getFunctionType().getInputs() ==
                     func.getFunctionType().getInputs() &&
                 grad.getNumResults() == results + wrt.size();
  for (auto [i, arg] : llvm::enumerate(wrt)) {
    if (!matches)
      break;
    auto name = grad.getResultAttrOfType<StringAttr>(results + i, "kiln.grad");
    matches =
        name && name == func.getArgAttr(arg, "kiln.param") &&
        grad.getResultTypes()[results + i] == func.getArgumentTypes()[arg];
  }
  if (!matches)
    return grad.emitOpError("is the gradient function of @")
           << func.getSymName() << ", but not with respect to its "
           << wrt.size() << " parameters: it must take @" << func.getSymName()
           << "'s arguments and return its results, then one gradient per "
              "parameter, in order, named kiln.grad = <parameter> (as "
              "kiln-autodiff builds it)";
  return grad;
}

SmallVector<unsigned> kiln::parameterArguments(func::FuncOp func) {
  SmallVector<unsigned> params;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, "kiln.param"))
      params.push_back(i);
  return params;
}

FailureOr<func::FuncOp> kiln::buildGradientFunction(func::FuncOp func,
                                                    unsigned lossIndex,
                                                    ArrayRef<unsigned> wrt) {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("must have a single block to be differentiated");
  OpBuilder moduleBuilder(func);
  moduleBuilder.setInsertionPointAfter(func);
  auto grad = cast<func::FuncOp>(moduleBuilder.clone(*func));
  grad.setSymName((func.getSymName() + "_grad").str());
  grad->setAttr("kiln.gradient_of",
                FlatSymbolRefAttr::get(func.getSymNameAttr()));

  Block &body = grad.getBody().front();
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  Value loss = returnOp.getOperand(lossIndex);
  auto lossType = dyn_cast<RankedTensorType>(loss.getType());
  if (!lossType || lossType.getRank() != 0 || !isFloatTensor(loss))
    return func.emitOpError("result #")
           << lossIndex << " is differentiated, so it must be a float "
           << "scalar, got " << loss.getType();

  // Values that depend on a `wrt` argument, and values the loss depends on:
  // only ops that are both need adjoints.
  llvm::DenseSet<Value> varied, useful = {loss};
  for (unsigned i : wrt)
    varied.insert(body.getArgument(i));
  for (Operation &op : body.without_terminator())
    if (llvm::any_of(op.getOperands(), [&](Value v) { return varied.count(v); }))
      for (Value result : op.getResults())
        if (isFloatTensor(result))
          varied.insert(result);
  for (Operation &op : llvm::reverse(body.without_terminator()))
    if (llvm::any_of(op.getResults(), [&](Value v) { return useful.count(v); }))
      useful.insert(op.operand_begin(), op.operand_end());

  OpBuilder builder(returnOp);
  llvm::DenseMap<Value, Value> adjoints;
  adjoints[loss] = ConstantOp::create(
      builder, loss.getLoc(),
      DenseElementsAttr::get(lossType,
                             builder.getFloatAttr(lossType.getElementType(), 1)));

  SmallVector<Operation *> forwardOps;
  for (Operation &op : body.without_terminator())
    forwardOps.push_back(&op);
  for (Operation *op : llvm::reverse(forwardOps)) {
    SmallVector<Value> resultGrads;
    for (Value result : op->getResults())
      resultGrads.push_back(adjoints.lookup(result));
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
      continue;
    SmallVector<bool> needed;
    for (Value operand : op->getOperands())
      needed.push_back(varied.count(operand) && useful.count(operand) &&
                       isFloatTensor(operand));
    if (llvm::none_of(needed, [](bool n) { return n; }))
      continue;
    auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
    if (!differentiable)
      return op->emitOpError("has no gradient, but a differentiated argument "
                             "reaches the loss through it");
    SmallVector<Value> operandGrads(op->getNumOperands());
    if (failed(differentiable.buildAdjoint(builder, resultGrads, needed,
                                           operandGrads)))
      return failure();
    for (auto [operand, operandGrad, isNeeded] :
         llvm::zip(op->getOperands(), operandGrads, needed)) {
      if (!isNeeded || !operandGrad)
        continue;
      Value &sum = adjoints[operand];
      sum = sum ? AddOp::create(builder, op->getLoc(), sum, operandGrad)
                      .getResult()
                : operandGrad;
    }
  }

  // The gradients join the results; an argument the loss does not depend on
  // has a zero gradient.
  SmallVector<Value> results(returnOp.getOperands());
  SmallVector<Type> resultTypes(grad.getResultTypes());
  SmallVector<DictionaryAttr> resultAttrs;
  grad.getAllResultAttrs(resultAttrs);
  for (unsigned i : wrt) {
    Value arg = body.getArgument(i);
    Value gradient = adjoints.lookup(arg);
    results.push_back(gradient ? gradient
                               : zerosOf(builder, arg.getLoc(), arg.getType()));
    resultTypes.push_back(arg.getType());
    resultAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
        "kiln.grad", builder.getStringAttr(getArgumentName(func, i)))));
  }
  func::ReturnOp::create(builder, returnOp.getLoc(), results);
  returnOp.erase();
  grad.setType(FunctionType::get(func.getContext(), grad.getArgumentTypes(),
                                 resultTypes));
  grad.setAllResultAttrs(resultAttrs);
  return grad;
}

namespace {

struct AutodiffPass : kiln::impl::KilnAutodiffBase<AutodiffPass> {
  using KilnAutodiffBase::KilnAutodiffBase;

  void runOnOperation() override {
    // A module read back with its steps built has its backward in them.
    if (getOperation().lookupSymbol<func::FuncOp>("train_step"))
      return;
    SmallVector<func::FuncOp> functions;
    llvm::StringSet<> differentiated;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (auto of = func->getAttrOfType<FlatSymbolRefAttr>("kiln.gradient_of"))
        differentiated.insert(of.getValue());
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && !func->hasAttr("kiln.gradient_of") &&
          !differentiated.contains(func.getName()) && findLossResult(func))
        functions.push_back(func);
    for (func::FuncOp func : functions) {
      SmallVector<unsigned> args;
      if (wrt == "params") {
        args = parameterArguments(func);
      } else if (wrt == "all") {
        for (BlockArgument arg : func.getArguments())
          if (isFloatTensor(arg))
            args.push_back(arg.getArgNumber());
      } else {
        emitError(func.getLoc(), "kiln-autodiff: wrt must be 'params' or "
                                 "'all', got '")
            << wrt << "'";
        return signalPassFailure();
      }
      if (failed(buildGradientFunction(func, *findLossResult(func), args)))
        return signalPassFailure();
    }
  }
};

} // namespace
