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
    auto isIdentity = [](Value buffer) {
      return cast<MemRefType>(buffer.getType()).getLayout().isIdentity();
    };
    getOperation().walk([&](memref::CopyOp copy) {
      if (isIdentity(copy.getSource()) && isIdentity(copy.getTarget()))
        return;
      OpBuilder builder(copy);
      linalg::CopyOp::create(builder, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    });
  }
};

} // namespace
