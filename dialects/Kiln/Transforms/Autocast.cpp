//===- Autocast.cpp - Mixed precision: heavy ops on bfloat16 values -------===//

#include "Kiln/Transforms/Autodiff.h"
#include "Kiln/Transforms/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNAUTOCAST
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

bool isFloat32Tensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isF32();
}

/// Rounds the operands and results of one function's lower-precision ops,
/// each value once.
class Autocaster {
public:
  explicit Autocaster(func::FuncOp func)
      : func(func), bf16(BFloat16Type::get(func.getContext())) {}

  void run() {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (op->hasTrait<LowerPrecisionCompute>())
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      for (OpOperand &operand : op->getOpOperands())
        if (isFloat32Tensor(operand.get()) && !isRounded(operand.get()))
          operand.set(rounded(operand.get()));
      for (Value result : op->getResults())
        if (isFloat32Tensor(result))
          roundUses(result);
    }
  }

private:
  /// Whether `value` is bfloat16 already: a rounding, or elements that an
  /// op selects of rounded values.
  bool isRounded(Value value) {
    auto [it, inserted] = known.try_emplace(value, false);
    if (!inserted)
      return it->second;
    Operation *def = value.getDefiningOp();
    bool rounded =
        def && (isa<ReducePrecisionOp>(def) ||
                (def->hasTrait<SelectsElements>() &&
                 llvm::all_of(def->getOperands(), [&](Value operand) {
                   return !isFloat32Tensor(operand) || isRounded(operand);
                 })));
    known[value] = rounded;
    return rounded;
  }

  /// `value` rounded, by one op placed right after its definition, so that
  /// it dominates every use of `value`.
  Value rounded(Value value) {
    Value &slot = roundings[value];
    if (slot)
      return slot;
    OpBuilder builder(func.getContext());
    if (Operation *def = value.getDefiningOp())
      builder.setInsertionPointAfter(def);
    else
      builder.setInsertionPointToStart(value.getParentBlock());
    slot = ReducePrecisionOp::create(builder, value.getLoc(), value,
                                     TypeAttr::get(bf16));
    return slot;
  }

  /// Makes every use of `result` but its rounding a use of the rounding.
  void roundUses(Value result) {
    if (llvm::all_of(result.getUsers(), [](Operation *user) {
          return isa<ReducePrecisionOp>(user);
        }))
      return;
    Value rounding = rounded(result);
    result.replaceAllUsesExcept(rounding, rounding.getDefiningOp());
  }

  func::FuncOp func;
  Type bf16;
  DenseMap<Value, Value> roundings;
  DenseMap<Value, bool> known;
};

struct AutocastPass : kiln::impl::KilnAutocastBase<AutocastPass> {
  using KilnAutocastBase::KilnAutocastBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto recipe = module->getAttrOfType<DictionaryAttr>("kiln.recipe");
    auto precision =
        recipe ? recipe.getAs<StringAttr>("precision") : StringAttr();
    if (!precision || precision.getValue() == "f32")
      return;
    if (precision.getValue() != "bf16") {
      module.emitError("kiln.recipe's precision must be \"f32\" or \"bf16\", "
                       "got \"")
          << precision.getValue() << "\"";
      return signalPassFailure();
    }
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !isStepFunction(func) &&
          !func->hasAttr("kiln.gradient_of"))
        Autocaster(func).run();
  }
};

} // namespace
