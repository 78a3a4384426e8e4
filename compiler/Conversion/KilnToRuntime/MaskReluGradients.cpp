//===- MaskReluGradients.cpp - Relu gradients on what the runtime keeps ---===//
//
// Rewrites relu gradients before kiln-lower-to-runtime so that they read
// values that the runtime's calls produce anyway, which lets the calls fuse
// the relu and computes the masks on smaller tensors.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMASKRELUGRADIENTS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// relu(x) > 0 exactly where x > 0, so relu gradients may read the relu's
/// result instead of its input. The input then often has the relu as its
/// only use, and the convolution or product that made it applies the relu
/// itself, as a oneDNN post-op.
void maskReluGradientsWithResults(func::FuncOp func) {
  func.walk([](ReluBackwardOp backward) {
    for (Operation *user : backward.getInput().getUsers())
      if (auto relu = dyn_cast<ReluOp>(user)) {
        backward.getInputMutable().assign(relu.getResult());
        return;
      }
  });
}

/// Where max pooling took a window's maximum from x, x equals the pooled
/// value p, so masking the pooling's input gradient by x > 0 is masking its
/// output gradient by p > 0 before the pooling's backward: the same values,
/// computed on a tensor a window's size smaller.
void maskBeforeMaxPoolingGradients(func::FuncOp func) {
  func.walk([](ReluBackwardOp mask) {
    auto pooling = mask.getGrad().getDefiningOp<MaxPool2DBackwardOp>();
    Value input = mask.getInput();
    if (!pooling || !pooling->hasOneUse() || pooling.getInput() != input)
      return;
    ArrayRef<int64_t> stride =
        pooling.getStride().value_or(pooling.getKernel());
    for (Operation *user : input.getUsers()) {
      auto forward = dyn_cast<MaxPool2DOp>(user);
      if (!forward || forward.getKernel() != pooling.getKernel() ||
          forward.getEffectiveStride() != stride ||
          forward.getPadding() != pooling.getPadding() ||
          forward->getBlock() != pooling->getBlock() ||
          !forward->isBeforeInBlock(pooling))
        continue;
      OpBuilder builder(pooling);
      Value masked = ReluBackwardOp::create(
          builder, mask.getLoc(), pooling.getGrad(), forward.getResult());
      pooling.getGradMutable().assign(masked);
      mask.replaceAllUsesWith(pooling.getResult());
      mask.erase();
      return;
    }
  });
}

struct MaskReluGradientsPass
    : kiln::impl::KilnMaskReluGradientsBase<MaskReluGradientsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      maskReluGradientsWithResults(func);
      maskBeforeMaxPoolingGradients(func);
    }
  }
};

} // namespace
