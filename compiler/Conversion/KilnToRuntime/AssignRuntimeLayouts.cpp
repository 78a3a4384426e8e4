//===- AssignRuntimeLayouts.cpp - Blocked layouts between runtime calls ---===//
//
// Chooses the tensors that convolutions, poolings and batch normalizations
// pass to each other in oneDNN's blocked layout (kiln_runtime.h), sparing
// the reorders that the plain layout would cost around each call.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNASSIGNRUNTIMELAYOUTS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Whether `op` computes each element of its result from the same element of
/// each operand, so that it gives the same values in any layout that its
/// operands and result share: elementwise, without broadcasts.
bool isLayoutFree(Operation *op) {
  if (!isa<ElementwiseOpInterface>(op))
    return false;
  Type type = op->getResult(0).getType();
  return llvm::all_of(op->getOperandTypes(),
                      [&](Type operand) { return operand == type; });
}

/// The arguments of `call` (inputs, then outputs) that the runtime takes in
/// the blocked layout when asked: the images of convolutions, poolings and
/// batch normalizations.
SmallVector<unsigned> blockableArguments(RuntimeCallOp call) {
  unsigned inputs = call.getInputs().size();
  switch (call.getKind()) {
  case RuntimeOpKind::conv2d_forward:
  case RuntimeOpKind::conv2d_backward_data:
  case RuntimeOpKind::pool2d_forward:
    return {0, inputs};
  case RuntimeOpKind::conv2d_backward_weights:
    return {0, 1};
  case RuntimeOpKind::pool2d_backward:
  case RuntimeOpKind::batch_norm_backward: // x, dy and dx
    return {0, 1, inputs};
  case RuntimeOpKind::batch_norm_forward: // x and y
    return {0, inputs};
  default:
    return {};
  }
}

/// The value of argument `index` of `call`: an input, or the result that an
/// output becomes.
Value argumentValue(RuntimeCallOp call, unsigned index) {
  unsigned inputs = call.getInputs().size();
  return index < inputs ? call.getInputs()[index]
                        : call.getResult(index - inputs);
}

/// Chooses the tensors that go from one convolution or pooling to another in
/// oneDNN's blocked layout (see kiln_runtime.h): those of a multiple of 8
/// channels that only such calls and layout-free elementwise ops make and
/// use. Each call of those kinds gets the mask of its blocked arguments as
/// the last value of its configuration.
void assignBlockedLayouts(func::FuncOp func) {
  auto blockable = [](Value value) {
    auto type = dyn_cast<RankedTensorType>(value.getType());
    return type && type.getRank() == 4 && type.getElementType().isF32() &&
           !type.isDynamicDim(1) && type.getDimSize(1) % 8 == 0;
  };
  SmallVector<RuntimeCallOp> calls;
  llvm::SetVector<Value> blocked;
  func.walk([&](Operation *op) {
    if (auto call = dyn_cast<RuntimeCallOp>(op)) {
      calls.push_back(call);
      for (unsigned index : blockableArguments(call))
        if (index >= call.getInputs().size() &&
            blockable(argumentValue(call, index)))
          blocked.insert(argumentValue(call, index));
    } else if (isLayoutFree(op) && blockable(op->getResult(0))) {
      blocked.insert(op->getResult(0));
    }
  });
  auto takesBlocked = [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto call = dyn_cast<RuntimeCallOp>(user))
      return llvm::is_contained(blockableArguments(call),
                                use.getOperandNumber());
    return isLayoutFree(user) && blocked.contains(user->getResult(0));
  };
  auto staysBlocked = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (isLayoutFree(def) &&
        !llvm::all_of(def->getOperands(),
                      [&](Value operand) { return blocked.contains(operand); }))
      return false;
    return llvm::all_of(value.getUses(), takesBlocked);
  };
  // Dropping one value may make its neighbours need the plain layout.
  for (bool changed = true; changed;) {
    changed = false;
    for (Value value : SmallVector<Value>(blocked.getArrayRef())) {
      if (!staysBlocked(value)) {
        blocked.remove(value);
        changed = true;
      }
    }
  }
  for (RuntimeCallOp call : calls) {
    SmallVector<unsigned> arguments = blockableArguments(call);
    if (arguments.empty())
      continue;
    int64_t mask = 0;
    for (unsigned index : arguments)
      if (blocked.contains(argumentValue(call, index)))
        mask |= int64_t(1) << index;
    SmallVector<int64_t> config(call.getConfig());
    config.push_back(mask);
    call.setConfig(config);
  }
}

struct AssignRuntimeLayoutsPass
    : kiln::impl::KilnAssignRuntimeLayoutsBase<AssignRuntimeLayoutsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      assignBlockedLayouts(func);
  }
};

} // namespace
