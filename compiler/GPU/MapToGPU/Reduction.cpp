//===- Reduction.cpp - One block per result, warp shuffles to combine -----===//
//
// For few results and long reductions (a mean loss, a bias gradient, the
// weight gradient of a convolution), one thread per result would leave the
// GPU idle. Each result gets a block instead: its threads accumulate
// strided parts of the reduction, then gpu.all_reduce combines the block's
// partial results (warp shuffles, then shared memory across warps).
//
//===----------------------------------------------------------------------===//

#include "MapToGPU/Kernel.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::gpu_mapping;

namespace {

/// The reduction of a generic's single output: yield(combine(x, acc)).
struct Combiner {
  Operation *op = nullptr;
  unsigned accumulatorOperand = 0;
  gpu::AllReduceOperation kind;
};

std::optional<gpu::AllReduceOperation> kindOf(Operation *op) {
  using Kind = gpu::AllReduceOperation;
  return llvm::TypeSwitch<Operation *, std::optional<Kind>>(op)
      .Case<arith::AddFOp, arith::AddIOp>([](auto) { return Kind::ADD; })
      .Case<arith::MulFOp, arith::MulIOp>([](auto) { return Kind::MUL; })
      .Case([](arith::MaximumFOp) { return Kind::MAXIMUMF; })
      .Case([](arith::MinimumFOp) { return Kind::MINIMUMF; })
      .Case([](arith::MaxNumFOp) { return Kind::MAXNUMF; })
      .Case([](arith::MinNumFOp) { return Kind::MINNUMF; })
      .Case([](arith::MaxSIOp) { return Kind::MAXSI; })
      .Case([](arith::MinSIOp) { return Kind::MINSI; })
      .Case([](arith::MaxUIOp) { return Kind::MAXUI; })
      .Case([](arith::MinUIOp) { return Kind::MINUI; })
      .Case([](arith::AndIOp) { return Kind::AND; })
      .Case([](arith::OrIOp) { return Kind::OR; })
      .Case([](arith::XOrIOp) { return Kind::XOR; })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<Combiner> matchCombiner(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1)
    return std::nullopt;
  Block &body = op.getRegion().front();
  BlockArgument acc = body.getArguments().back();
  Value yielded = body.getTerminator()->getOperand(0);
  Operation *combine = yielded.getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !acc.hasOneUse() ||
      acc.getUses().begin()->getOwner() != combine)
    return std::nullopt;
  std::optional<gpu::AllReduceOperation> kind = kindOf(combine);
  if (!kind)
    return std::nullopt;
  return Combiner{combine, acc.getUses().begin()->getOperandNumber(), *kind};
}

/// The neutral element of `kind` for `type`.
TypedAttr identity(Builder &b, gpu::AllReduceOperation kind, Type type) {
  using Kind = gpu::AllReduceOperation;
  if (auto floatType = dyn_cast<FloatType>(type)) {
    const llvm::fltSemantics &semantics = floatType.getFloatSemantics();
    switch (kind) {
    case Kind::MUL:
      return b.getFloatAttr(type, 1.0);
    case Kind::MAXIMUMF:
    case Kind::MAXNUMF:
      return b.getFloatAttr(type, APFloat::getInf(semantics, true));
    case Kind::MINIMUMF:
    case Kind::MINNUMF:
      return b.getFloatAttr(type, APFloat::getInf(semantics));
    default:
      return b.getFloatAttr(type, 0.0);
    }
  }
  unsigned width = type.getIntOrFloatBitWidth();
  switch (kind) {
  case Kind::MUL:
    return b.getIntegerAttr(type, 1);
  case Kind::MAXSI:
    return b.getIntegerAttr(type, APInt::getSignedMinValue(width));
  case Kind::MINSI:
    return b.getIntegerAttr(type, APInt::getSignedMaxValue(width));
  case Kind::MINUI:
  case Kind::AND:
    return b.getIntegerAttr(type, APInt::getAllOnes(width));
  default:
    return b.getIntegerAttr(type, 0);
  }
}

} // namespace

LogicalResult gpu_mapping::mapBlockReduction(linalg::GenericOp op,
                                             const LoopSpace &loops,
                                             const OutputInit &outputInit) {
  std::optional<Combiner> combiner = matchCombiner(op);
  if (!combiner)
    return failure();
  ImplicitLocOpBuilder b(op.getLoc(), op);
  int64_t points = loops.count(loops.parallel);
  int64_t length = loops.count(loops.reduction);
  int64_t threads = std::min<int64_t>(kBlockSize, (length + 31) / 32 * 32);
  gpu::LaunchOp launch = createLaunch(b, {points, 1, 1}, {threads, 1, 1});
  Value thread = launch.getThreadIds().x;

  SmallVector<int64_t> parallelSizes, reductionSizes;
  for (unsigned d : loops.parallel)
    parallelSizes.push_back(loops.sizes[d]);
  for (unsigned d : loops.reduction)
    reductionSizes.push_back(loops.sizes[d]);
  SmallVector<Value> ivs(loops.sizes.size());
  for (auto [d, index] : llvm::zip(
           loops.parallel, delinearize(b, launch.getBlockIds().x, parallelSizes)))
    ivs[d] = index;

  OpOperand &output = op.getDpsInitsMutable()[0];
  Type element = op.getRegion().front().getArguments().back().getType();
  Value init = arith::ConstantOp::create(b, identity(b, combiner->kind, element));
  auto loop = scf::ForOp::create(
      b, thread, constantIndex(b, length), constantIndex(b, threads), init,
      [&](OpBuilder &nested, Location loc, Value r, ValueRange carried) {
        ImplicitLocOpBuilder in(loc, nested);
        SmallVector<Value> all(ivs);
        for (auto [d, index] :
             llvm::zip(loops.reduction, delinearize(in, r, reductionSizes)))
          all[d] = index;
        IRMapping mapping;
        SmallVector<Value> results =
            cloneBody(in, op, loadArguments(in, op, all, carried), all, mapping);
        scf::YieldOp::create(in, results);
      });
  Value total = gpu::AllReduceOp::create(
      b, loop.getResult(0),
      gpu::AllReduceOperationAttr::get(b.getContext(), combiner->kind),
      /*uniform=*/true);

  // The first thread combines the block's total with the output's initial
  // element.
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, thread,
                                      constantIndex(b, 0));
  auto guard = scf::IfOp::create(b, first, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());
  SmallVector<Value> outIvs(ivs);
  for (unsigned d : loops.reduction)
    outIvs[d] = constantIndex(b, 0);
  Value stored = outputInit.at(b, 0, outIvs);
  Operation *combined = b.clone(*combiner->op);
  combined->setOperand(combiner->accumulatorOperand, stored);
  combined->setOperand(1 - combiner->accumulatorOperand, total);
  storeOperand(b, op, output, combined->getResult(0), outIvs);
  op.erase();
  return success();
}
