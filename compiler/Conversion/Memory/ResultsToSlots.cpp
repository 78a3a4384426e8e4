//===- ResultsToSlots.cpp - Step results written into caller buffers ------===//

#include "Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRESULTSTOSLOTS
#define GEN_PASS_DEF_KILNCONTIGUOUSRUNTIMEOPERANDS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

LogicalResult resultsToSlots(func::FuncOp func) {
  if (func.isExternal())
    return success();
  auto returnOp = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  OpBuilder builder(returnOp);
  unsigned numInputs = func.getNumArguments();
  for (auto [index, value] : llvm::enumerate(returnOp.getOperands())) {
    // A buffer updated in place is already the caller's. A slot added here
    // for an earlier result returned again is copied like any other value.
    if (auto arg = dyn_cast<BlockArgument>(value);
        arg && arg.getArgNumber() < numInputs)
      continue;
    if (!isa<MemRefType>(value.getType()))
      return func.emitOpError("returns a value that is not a buffer: ")
             << value.getType();
    unsigned argIndex = func.getNumArguments();
    if (failed(func.insertArgument(argIndex, value.getType(),
                                   func.getResultAttrDict(index),
                                   value.getLoc())))
      return failure();
    BlockArgument slot = func.getArgument(argIndex);
    // A new buffer becomes the slot itself; anything else is copied into it.
    if (auto alloc = value.getDefiningOp<memref::AllocOp>()) {
      value.replaceAllUsesWith(slot);
      alloc.erase();
      continue;
    }
    memref::CopyOp::create(builder, value.getLoc(), value, slot);
  }
  func::ReturnOp::create(builder, returnOp.getLoc());
  returnOp.erase();
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(), {}));
  return success();
}

struct ResultsToSlotsPass
    : kiln::impl::KilnResultsToSlotsBase<ResultsToSlotsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(resultsToSlots(func)))
        return signalPassFailure();
  }
};

struct ContiguousRuntimeOperandsPass
    : kiln::impl::KilnContiguousRuntimeOperandsBase<
          ContiguousRuntimeOperandsPass> {
  void runOnOperation() override {
    getOperation().walk([](RuntimeCallOp call) {
      OpBuilder builder(call);
      auto contiguous = [&](Value value) -> Value {
        // Tensors (a call not bufferized yet) have no layout to fix.
        auto type = dyn_cast<MemRefType>(value.getType());
        if (!type || type.getLayout().isIdentity())
          return Value();
        return memref::AllocOp::create(
            builder, call.getLoc(),
            MemRefType::get(type.getShape(), type.getElementType()));
      };
      for (OpOperand &input : call.getInputsMutable())
        if (Value copy = contiguous(input.get())) {
          memref::CopyOp::create(builder, call.getLoc(), input.get(), copy);
          input.set(copy);
        }
      for (OpOperand &output : call.getOutputsMutable())
        if (Value copy = contiguous(output.get())) {
          Value original = output.get();
          output.set(copy);
          OpBuilder after(call->getContext());
          after.setInsertionPointAfter(call);
          memref::CopyOp::create(after, call.getLoc(), copy, original);
        }
    });
  }
};

} // namespace
