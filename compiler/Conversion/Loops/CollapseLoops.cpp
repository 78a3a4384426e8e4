//===- CollapseLoops.cpp - Merge the loops of linalg ops on buffers -------===//
//
// An elementwise op on a [64, 32, 32, 32] buffer lowers to four nested
// loops, the innermost of 32 iterations: LLVM unrolls that one fully and
// vectorizes the next, with a stride of 32, into gathers and scatters. As
// one loop of 2M iterations it is a plain contiguous loop that LLVM
// vectorizes with unit stride. The same holds for every run of loops that
// each operand indexes consecutively over contiguous memory.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCOLLAPSELOOPS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// Whether loop `inner` may merge into loop `inner - 1`: both of one kind,
/// and every operand either indexes neither or indexes both, as consecutive
/// dimensions of its buffer that are contiguous with each other.
bool canMerge(linalg::GenericOp op, unsigned inner) {
  unsigned outer = inner - 1;
  if (op.getIteratorTypesArray()[outer] != op.getIteratorTypesArray()[inner])
    return false;
  MLIRContext *context = op.getContext();
  AffineExpr outerDim = getAffineDimExpr(outer, context);
  AffineExpr innerDim = getAffineDimExpr(inner, context);
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    std::optional<unsigned> first = map.getResultPosition(outerDim);
    std::optional<unsigned> second = map.getResultPosition(innerDim);
    if (!first && !second) {
      if (map.isFunctionOfDim(outer) || map.isFunctionOfDim(inner))
        return false;
      continue;
    }
    if (!first || !second || *second != *first + 1)
      return false;
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!type || failed(type.getStridesAndOffset(strides, offset)) ||
        type.isDynamicDim(*second) || ShapedType::isDynamic(strides[*first]) ||
        ShapedType::isDynamic(strides[*second]) ||
        strides[*first] != strides[*second] * type.getDimSize(*second))
      return false;
  }
  return true;
}

struct CollapseLoopsPass
    : kiln::impl::KilnCollapseLoopsBase<CollapseLoopsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    for (linalg::LinalgOp named : ops) {
      rewriter.setInsertionPoint(named);
      auto generic = dyn_cast<linalg::GenericOp>(named.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, named);
        if (failed(generalized))
          continue;
        generic = *generalized;
      }
      SmallVector<ReassociationIndices> groups;
      for (unsigned loop = 0, e = generic.getNumLoops(); loop < e; ++loop) {
        if (loop > 0 && canMerge(generic, loop))
          groups.back().push_back(loop);
        else
          groups.push_back({loop});
      }
      llvm::erase_if(groups, [](const ReassociationIndices &group) {
        return group.size() < 2;
      });
      // collapseOpIterationDims builds wrong reassociations for results
      // that are constants (a reduction into [n, 1] indexed (d0, 0)).
      if (groups.empty() ||
          !llvm::all_of(generic.getIndexingMapsArray(), [](AffineMap map) {
            return map.isProjectedPermutation();
          }))
        continue;
      rewriter.setInsertionPoint(generic);
      if (succeeded(linalg::collapseOpIterationDims(generic, groups, rewriter)))
        rewriter.eraseOp(generic);
    }
  }
};

} // namespace
