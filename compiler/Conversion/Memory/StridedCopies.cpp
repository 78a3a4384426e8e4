//===- StridedCopies.cpp - Strided memref.copy as linalg.copy -------------===//

#include "Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace kiln {
#define GEN_PASS_DEF_KILNSTRIDEDCOPIESTOLINALG
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

struct StridedCopiesToLinalg
    : kiln::impl::KilnStridedCopiesToLinalgBase<StridedCopiesToLinalg> {
  void runOnOperation() override {
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      // An unranked copy has no loops to become: it stays as it is.
      if (!source || !target ||
          (source.getLayout().isIdentity() && target.getLayout().isIdentity()))
        return;
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    });
  }
};

} // namespace
