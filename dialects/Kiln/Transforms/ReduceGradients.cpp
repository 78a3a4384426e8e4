//===- ReduceGradients.cpp - Gradients averaged over data-parallel ranks --===//
//
// The gradients that a training step's updates use are found through the
// updates themselves (ParameterUpdateOpInterface), looking through the
// global-norm clipping before them: clipping must see the averaged
// gradients, so it is its operands that are reduced.
//
//===----------------------------------------------------------------------===//

#include "Kiln/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNREDUCEGRADIENTS
#include "Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The operand that a gradient reaches the update `use` through: the
/// update's own, or the matching operand of the kiln.clip_grad_norm that
/// made it.
OpOperand &reducedOperand(OpOperand &use) {
  auto clip = use.get().getDefiningOp<ClipGradNormOp>();
  if (!clip)
    return use;
  return clip->getOpOperand(cast<OpResult>(use.get()).getResultNumber());
}

/// The op of `block` that computes `value` or holds the op or block that
/// does; null for an argument of `block` itself.
Operation *producerIn(Block &block, Value value) {
  Operation *op = value.getDefiningOp();
  if (!op)
    op = value.getParentBlock()->getParentOp();
  return op == block.getParentOp() ? nullptr : block.findAncestorOpInBlock(*op);
}

/// Whether `a` comes before `b` in their block, null being its start.
bool before(Operation *a, Operation *b) {
  return !a ? b != nullptr : b && a->isBeforeInBlock(b);
}

struct ReduceGradients : kiln::impl::KilnReduceGradientsBase<ReduceGradients> {
  using KilnReduceGradientsBase::KilnReduceGradientsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();

    // Each gradient, with the operands that take it, in program order.
    llvm::MapVector<Value, SmallVector<OpOperand *>> gradients;
    func.walk([&](ParameterUpdateOpInterface update) {
      OpOperand &operand = reducedOperand(update.getGradientOperand());
      gradients[operand.get()].push_back(&operand);
    });
    if (gradients.empty())
      return;

    // The order the backward pass computes them in.
    struct Gradient {
      Value value;
      Operation *producer, *firstUser;
      int64_t bytes;
    };
    SmallVector<Gradient> ordered;
    for (auto &[value, uses] : gradients) {
      auto type = cast<RankedTensorType>(value.getType());
      if (!type.hasStaticShape()) {
        func.emitError("kiln-reduce-gradients: the gradient of type ")
            << type << " has no static size to pack into a bucket";
        return signalPassFailure();
      }
      Operation *firstUser = nullptr;
      for (OpOperand *use : uses) {
        Operation *user = body.findAncestorOpInBlock(*use->getOwner());
        if (!firstUser || user->isBeforeInBlock(firstUser))
          firstUser = user;
      }
      ordered.push_back(
          {value, producerIn(body, value), firstUser,
           type.getNumElements() * type.getElementTypeBitWidth() / 8});
    }
    llvm::stable_sort(ordered, [](const Gradient &a, const Gradient &b) {
      return before(a.producer, b.producer);
    });

    OpBuilder builder(func.getContext());
    int64_t bucket = 0;
    auto emit = [&](ArrayRef<Gradient> members) {
      SmallVector<Value> inputs;
      for (const Gradient &g : members)
        inputs.push_back(g.value);
      Operation *last = members.back().producer;
      if (last)
        builder.setInsertionPointAfter(last);
      else
        builder.setInsertionPointToStart(&body);
      auto reduce = AllReduceOp::create(builder, members.back().value.getLoc(),
                                        inputs, bucket++);
      for (auto [g, result] : llvm::zip(members, reduce.getResults()))
        for (OpOperand *use : gradients[g.value])
          use->set(result);
    };
    // A bucket closes when the next gradient would overflow it, or would
    // come after a use of one of its members.
    size_t begin = 0;
    int64_t bytes = 0, total = 0;
    Operation *firstUser = nullptr;
    for (size_t i = 0; i < ordered.size(); ++i) {
      if (i > begin && (bytes + ordered[i].bytes > bucketBytes ||
                        !before(ordered[i].producer, firstUser))) {
        emit(ArrayRef(ordered).slice(begin, i - begin));
        begin = i;
        bytes = 0;
        firstUser = nullptr;
      }
      bytes += ordered[i].bytes;
      total += ordered[i].bytes;
      if (!firstUser || ordered[i].firstUser->isBeforeInBlock(firstUser))
        firstUser = ordered[i].firstUser;
    }
    emit(ArrayRef(ordered).drop_front(begin));
    func->setAttr("kiln.reduced_bytes", builder.getI64IntegerAttr(total));
    func->setAttr("kiln.reduced_buckets", builder.getI64IntegerAttr(bucket));
  }
};

} // namespace
