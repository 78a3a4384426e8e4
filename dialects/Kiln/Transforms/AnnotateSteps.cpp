//===- AnnotateSteps.cpp - FLOPs and input ranges of the steps ------------===//

#include "Kiln/Transforms/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNANNOTATESTEPS
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The exclusive upper bound that the uses of integer `value` accept, looking
/// through reshapes and slices; nothing when no use bounds it.
std::optional<int64_t> rangeOf(Value value) {
  std::optional<int64_t> bound;
  auto tighten = [&](int64_t limit) {
    // A dynamic size bounds nothing that can be checked.
    if (ShapedType::isDynamic(limit))
      return;
    bound = bound ? std::min(*bound, limit) : limit;
  };
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (auto loss = dyn_cast<CrossEntropyOp>(user))
      tighten(cast<RankedTensorType>(loss.getLogits().getType()).getDimSize(1));
    else if (auto embedding = dyn_cast<EmbeddingOp>(user))
      tighten(cast<RankedTensorType>(embedding.getTable().getType()).getDimSize(0));
    else if (auto oneHot = dyn_cast<OneHotOp>(user))
      tighten(oneHot.getNumClasses());
    else if (isa<ReshapeOp, FlattenOp, SliceOp>(user))
      if (std::optional<int64_t> inner = rangeOf(user->getResult(0)))
        tighten(*inner);
  }
  return bound;
}

struct AnnotateStepsPass
    : kiln::impl::KilnAnnotateStepsBase<AnnotateStepsPass> {
  void runOnOperation() override {
    Builder builder(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      int64_t flops = 0;
      func.walk([&](Operation *op) {
        if (isa<KilnDialect>(op->getDialect()))
          flops += countFlops(op);
      });
      func->setAttr("kiln.flops", builder.getI64IntegerAttr(flops));
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!type || !type.getElementType().isInteger(64) ||
            !func.getArgAttr(arg.getArgNumber(), "kiln.input"))
          continue;
        if (std::optional<int64_t> range = rangeOf(arg))
          func.setArgAttr(arg.getArgNumber(), "kiln.range",
                          builder.getI64IntegerAttr(*range));
      }
    }
  }
};

} // namespace
