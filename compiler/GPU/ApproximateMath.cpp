//===- ApproximateMath.cpp - Math functions without libdevice -------------===//
//
// The NVVM lowering calls libdevice for every math function, even for the
// ones that PTX has instructions for, and it rejects the LLVM intrinsics of
// those (llvm.intr.floor, llvm.intr.sqrt, ...). Without libdevice, they
// become their PTX instruction as inline assembly; the others are expanded
// into arithmetic: MLIR's polynomial approximations, which exist in f32, so
// f64 ones are computed in f32 (they serve scalars of schedules, which end
// up in f32 anyway).
//
//===----------------------------------------------------------------------===//

#include "GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <algorithm>
#include <string>

namespace kiln {
#define GEN_PASS_DEF_KILNAPPROXIMATEMATH
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// A math op that PTX computes with one instruction, as that instruction:
/// `mnemonic` has `T` where the type goes (`cvt.rmi.T.T`); `reversed` for
/// instructions whose operands come in the opposite order.
template <typename From>
struct ToPtxInstruction : OpRewritePattern<From> {
  ToPtxInstruction(MLIRContext *context, StringRef mnemonic,
                   bool reversed = false)
      : OpRewritePattern<From>(context, /*benefit=*/2), mnemonic(mnemonic),
        reversed(reversed) {}
  LogicalResult matchAndRewrite(From op,
                                PatternRewriter &rewriter) const override {
    Type type = op.getType();
    if (!type.isF32() && !type.isF64())
      return failure();
    bool f32 = type.isF32();
    std::string text;
    for (char c : mnemonic)
      text += c == 'T' ? (f32 ? "f32" : "f64") : std::string(1, c);
    text += " $0";
    std::string constraints = f32 ? "=f" : "=d";
    SmallVector<Value> operands(op->getOperands());
    if (reversed)
      std::reverse(operands.begin(), operands.end());
    for (unsigned i = 0, e = operands.size(); i < e; ++i) {
      text += ", $" + std::to_string(i + 1);
      constraints += f32 ? ",f" : ",d";
    }
    text += ";";
    rewriter.replaceOpWithNewOp<LLVM::InlineAsmOp>(
        op, type, operands, text, constraints,
        /*has_side_effects=*/false, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(),
        ArrayAttr());
    return success();
  }
  std::string mnemonic;
  bool reversed;
};

/// An f64 math function computed in f32.
struct ThroughF32 : RewritePattern {
  explicit ThroughF32(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<math::MathDialect>(op->getDialect()) || op->getNumResults() != 1 ||
        !op->getResult(0).getType().isF64() ||
        !llvm::all_of(op->getOperandTypes(),
                      [](Type type) { return type.isF64(); }))
      return failure();
    Type f32 = rewriter.getF32Type();
    SmallVector<Value> operands;
    for (Value operand : op->getOperands())
      operands.push_back(
          arith::TruncFOp::create(rewriter, op->getLoc(), f32, operand));
    Operation *narrow = rewriter.create(op->getLoc(), op->getName().getIdentifier(),
                                        operands, {f32}, op->getAttrs());
    rewriter.replaceOpWithNewOp<arith::ExtFOp>(op, rewriter.getF64Type(),
                                               narrow->getResult(0));
    return success();
  }
};

struct ApproximateMathPass
    : kiln::impl::KilnApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    // Instructions first: they take sqrt before the expansions would. PTX's
    // copysign takes the sign from its first operand, math's from its second.
    patterns.add<ToPtxInstruction<math::SqrtOp>>(context, "sqrt.rn.T");
    patterns.add<ToPtxInstruction<math::FloorOp>>(context, "cvt.rmi.T.T");
    patterns.add<ToPtxInstruction<math::CeilOp>>(context, "cvt.rpi.T.T");
    patterns.add<ToPtxInstruction<math::AbsFOp>>(context, "abs.T");
    patterns.add<ToPtxInstruction<math::FmaOp>>(context, "fma.rn.T");
    patterns.add<ToPtxInstruction<math::CopySignOp>>(context, "copysign.T",
                                                     /*reversed=*/true);
    patterns.add<ThroughF32>(context);
    math::populateExpansionPatterns(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
