//===- AnnotateSteps.cpp - FLOPs and input ranges of the steps ------------===//

#include "Kiln/Transforms/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNANNOTATESTEPS
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The values that the uses of an integer accept: [0, limit), and `ignored`
/// too when set (a label that cross_entropy ignores; never in [0, limit));
/// any value without a limit.
struct Accepted {
  std::optional<int64_t> limit;
  std::optional<int64_t> ignored;

  bool contains(int64_t value) const {
    return !limit || (value >= 0 && value < *limit) || ignored == value;
  }

  /// The values that both accept. Of the two ignored values at most one
  /// survives outside the smaller range, since each lies outside its own.
  void intersect(const Accepted &other) {
    if (!other.limit)
      return;
    if (!limit) {
      *this = other;
      return;
    }
    std::optional<int64_t> kept;
    if (ignored && other.contains(*ignored))
      kept = ignored;
    else if (other.ignored && contains(*other.ignored))
      kept = other.ignored;
    limit = std::min(*limit, *other.limit);
    ignored = kept;
  }
};

/// What the uses of integer `value` accept, looking through reshapes and
/// slices.
Accepted acceptedBy(Value value) {
  Accepted accepted;
  auto tighten = [&](int64_t limit, std::optional<int64_t> ignored = {}) {
    // A dynamic size bounds nothing that can be checked.
    if (ShapedType::isDynamic(limit))
      return;
    if (ignored && *ignored >= 0 && *ignored < limit)
      ignored.reset();
    accepted.intersect({limit, ignored});
  };
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (auto loss = dyn_cast<CrossEntropyOp>(user))
      tighten(cast<RankedTensorType>(loss.getLogits().getType()).getDimSize(1),
              static_cast<int64_t>(loss.getIgnoreIndex()));
    else if (auto embedding = dyn_cast<EmbeddingOp>(user))
      tighten(cast<RankedTensorType>(embedding.getTable().getType()).getDimSize(0));
    else if (auto oneHot = dyn_cast<OneHotOp>(user))
      tighten(oneHot.getNumClasses());
    else if (isa<ReshapeOp, FlattenOp, SliceOp>(user))
      accepted.intersect(acceptedBy(user->getResult(0)));
  }
  return accepted;
}

struct AnnotateStepsPass
    : kiln::impl::KilnAnnotateStepsBase<AnnotateStepsPass> {
  void runOnOperation() override {
    Builder builder(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      int64_t flops = 0, bfloat16Bytes = 0;
      func.walk([&](Operation *op) {
        if (isa<KilnDialect>(op->getDialect()))
          flops += countFlops(op);
        if (auto rounding = dyn_cast<ReducePrecisionOp>(op)) {
          auto type = cast<RankedTensorType>(rounding.getType());
          if (type.hasStaticShape())
            bfloat16Bytes += 2 * type.getNumElements();
        }
      });
      func->setAttr("kiln.flops", builder.getI64IntegerAttr(flops));
      if (bfloat16Bytes)
        func->setAttr("kiln.bf16_bytes",
                      builder.getI64IntegerAttr(bfloat16Bytes));
      for (BlockArgument arg : func.getArguments()) {
        auto type = dyn_cast<RankedTensorType>(arg.getType());
        if (!type || !type.getElementType().isInteger(64) ||
            !func.getArgAttr(arg.getArgNumber(), "kiln.input"))
          continue;
        Accepted accepted = acceptedBy(arg);
        if (!accepted.limit)
          continue;
        func.setArgAttr(arg.getArgNumber(), "kiln.range",
                        builder.getI64IntegerAttr(*accepted.limit));
        if (accepted.ignored)
          func.setArgAttr(arg.getArgNumber(), "kiln.ignore_index",
                          builder.getI64IntegerAttr(*accepted.ignored));
      }
    }
  }
};

} // namespace
