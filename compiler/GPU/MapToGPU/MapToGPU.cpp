//===- MapToGPU.cpp - One GPU kernel per linalg op of the steps -----------===//

#include "MapToGPU/Kernel.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMAPTOGPU
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::gpu_mapping;

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

LoopSpace::LoopSpace(linalg::GenericOp op) : sizes(op.getStaticLoopRanges()) {
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    (linalg::isParallelIterator(iterator) ? parallel : reduction).push_back(d);
}

int64_t LoopSpace::count(ArrayRef<unsigned> dims) const {
  int64_t result = 1;
  for (unsigned d : dims)
    result *= sizes[d];
  return result;
}

Value gpu_mapping::constantIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

gpu::LaunchOp gpu_mapping::createLaunch(ImplicitLocOpBuilder &b,
                                        std::array<int64_t, 3> grid,
                                        std::array<int64_t, 3> block,
                                        TypeRange workgroup) {
  auto launch = gpu::LaunchOp::create(
      b, constantIndex(b, grid[0]), constantIndex(b, grid[1]),
      constantIndex(b, grid[2]), constantIndex(b, block[0]),
      constantIndex(b, block[1]), constantIndex(b, block[2]), nullptr, nullptr,
      {}, workgroup);
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&body);
  return launch;
}

SmallVector<Value> gpu_mapping::delinearize(ImplicitLocOpBuilder &b,
                                            Value linear,
                                            ArrayRef<int64_t> sizes) {
  SmallVector<Value> indices(sizes.size());
  for (int64_t i = sizes.size() - 1; i >= 0; --i) {
    if (i == 0) {
      indices[i] = linear;
      break;
    }
    Value size = constantIndex(b, sizes[i]);
    indices[i] = arith::RemUIOp::create(b, linear, size);
    linear = arith::DivUIOp::create(b, linear, size);
  }
  return indices;
}

namespace {

SmallVector<Value> operandIndices(ImplicitLocOpBuilder &b, AffineMap map,
                                  ValueRange ivs) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      indices.push_back(ivs[dim.getPosition()]);
    else if (auto constant = dyn_cast<AffineConstantExpr>(expr))
      indices.push_back(constantIndex(b, constant.getValue()));
    else
      indices.push_back(affine::AffineApplyOp::create(
          b, AffineMap::get(map.getNumDims(), 0, expr), ivs));
  }
  return indices;
}

} // namespace

Value gpu_mapping::loadOperand(ImplicitLocOpBuilder &b, linalg::GenericOp op,
                               OpOperand &operand, ValueRange ivs) {
  Value memref = operand.get();
  if (!isa<MemRefType>(memref.getType()))
    return memref;
  return memref::LoadOp::create(
      b, memref, operandIndices(b, op.getMatchingIndexingMap(&operand), ivs));
}

void gpu_mapping::storeOperand(ImplicitLocOpBuilder &b, linalg::GenericOp op,
                               OpOperand &operand, Value value,
                               ValueRange ivs) {
  memref::StoreOp::create(
      b, value, operand.get(),
      operandIndices(b, op.getMatchingIndexingMap(&operand), ivs));
}

SmallVector<Value> gpu_mapping::cloneBody(ImplicitLocOpBuilder &b,
                                          linalg::GenericOp op,
                                          ValueRange args, ValueRange ivs,
                                          IRMapping &mapping) {
  Block &body = op.getRegion().front();
  mapping.map(body.getArguments(), args);
  for (Operation &inner : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  SmallVector<Value> yields;
  for (Value yielded : body.getTerminator()->getOperands())
    yields.push_back(mapping.lookupOrDefault(yielded));
  return yields;
}

SmallVector<Value> gpu_mapping::loadArguments(ImplicitLocOpBuilder &b,
                                              linalg::GenericOp op,
                                              ValueRange ivs,
                                              ValueRange outputs) {
  SmallVector<Value> args;
  Block &body = op.getRegion().front();
  for (OpOperand *input : op.getDpsInputOperands())
    args.push_back(loadOperand(b, op, *input, ivs));
  for (auto [i, output] : llvm::enumerate(op.getDpsInitsMutable())) {
    if (!outputs.empty()) {
      args.push_back(outputs[i]);
      continue;
    }
    // An output whose element the body does not read is not loaded.
    BlockArgument arg = body.getArgument(op.getNumDpsInputs() + i);
    args.push_back(arg.use_empty()
                       ? arith::ConstantOp::create(
                             b, cast<TypedAttr>(b.getZeroAttr(arg.getType())))
                             .getResult()
                       : loadOperand(b, op, output, ivs));
  }
  return args;
}

Value OutputInit::at(ImplicitLocOpBuilder &b, unsigned index,
                     ValueRange ivs) const {
  OpOperand &output = op.getDpsInitsMutable()[index];
  if (!producer)
    return loadOperand(b, op, output, ivs);
  // The producer's loops are the output's coordinates (its map is the
  // identity).
  SmallVector<Value> coordinates =
      operandIndices(b, op.getMatchingIndexingMap(&output), ivs);
  IRMapping mapping;
  return cloneBody(b, producer, loadArguments(b, producer, coordinates),
                   coordinates, mapping)
      .front();
}

bool OutputInit::canAbsorb(linalg::GenericOp producer, linalg::GenericOp op) {
  if (producer->getNextNode() != op || op.getNumDpsInits() != 1 ||
      producer.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      producer.getNumReductionLoops() != 0)
    return false;
  Value buffer = op.getDpsInits()[0];
  if (producer.getDpsInits()[0] != buffer ||
      !producer.getIndexingMapsArray().back().isIdentity() ||
      !producer.getRegion().front().getArguments().back().use_empty())
    return false;
  auto readsBuffer = [&](linalg::GenericOp generic) {
    return llvm::is_contained(generic.getDpsInputs(), buffer);
  };
  return !readsBuffer(producer) && !readsBuffer(op);
}

SmallVector<Value> gpu_mapping::loopNest(
    ImplicitLocOpBuilder &b, const LoopSpace &loops, ArrayRef<unsigned> dims,
    SmallVector<Value> ivs, ValueRange init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ArrayRef<Value>,
                                    ValueRange)>
        body) {
  if (dims.empty())
    return body(b, ivs, init);
  auto loop = scf::ForOp::create(
      b, constantIndex(b, 0), constantIndex(b, loops.sizes[dims.front()]),
      constantIndex(b, 1), init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange carried) {
        ImplicitLocOpBuilder inner(loc, nested);
        SmallVector<Value> innerIvs(ivs);
        innerIvs[dims.front()] = iv;
        scf::YieldOp::create(inner, loopNest(inner, loops, dims.drop_front(),
                                             innerIvs, carried, body));
      });
  return SmallVector<Value>(loop.getResults());
}

//===----------------------------------------------------------------------===//
// One thread per element of the parallel dimensions
//===----------------------------------------------------------------------===//

namespace {

/// Each thread takes one point of the parallel dimensions and runs the
/// reductions, if any, sequentially with the outputs in registers.
void mapThreadPerResult(linalg::GenericOp op, const LoopSpace &loops,
                        const OutputInit &outputInit) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  int64_t points = loops.count(loops.parallel);
  int64_t block = std::min<int64_t>(kBlockSize, (points + 31) / 32 * 32);
  int64_t grid = (points + block - 1) / block;
  gpu::LaunchOp launch = createLaunch(b, {grid, 1, 1}, {block, 1, 1});
  Value linear = arith::AddIOp::create(
      b, arith::MulIOp::create(b, launch.getBlockIds().x, constantIndex(b, block)),
      launch.getThreadIds().x);
  Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, linear,
                                       constantIndex(b, points));
  auto guard = scf::IfOp::create(b, inside, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());

  SmallVector<int64_t> parallelSizes;
  for (unsigned d : loops.parallel)
    parallelSizes.push_back(loops.sizes[d]);
  SmallVector<Value> ivs(loops.sizes.size());
  for (auto [d, index] :
       llvm::zip(loops.parallel, delinearize(b, linear, parallelSizes)))
    ivs[d] = index;

  if (loops.reduction.empty()) {
    IRMapping mapping;
    SmallVector<Value> results =
        cloneBody(b, op, loadArguments(b, op, ivs), ivs, mapping);
    for (auto [output, value] : llvm::zip(op.getDpsInitsMutable(), results))
      storeOperand(b, op, output, value, ivs);
  } else {
    // Outputs do not depend on reduced dimensions: their elements start
    // from what is stored and stay in registers over the reductions.
    SmallVector<Value> init;
    SmallVector<Value> zeroIvs(ivs);
    for (unsigned d : loops.reduction)
      zeroIvs[d] = constantIndex(b, 0);
    for (unsigned i = 0; i < op.getNumDpsInits(); ++i)
      init.push_back(outputInit.at(b, i, zeroIvs));
    SmallVector<Value> results = loopNest(
        b, loops, loops.reduction, ivs, init,
        [&](ImplicitLocOpBuilder &in, ArrayRef<Value> all, ValueRange carried) {
          IRMapping mapping;
          return cloneBody(in, op, loadArguments(in, op, all, carried), all,
                           mapping);
        });
    for (auto [output, value] : llvm::zip(op.getDpsInitsMutable(), results))
      storeOperand(b, op, output, value, zeroIvs);
  }
  op.erase();
}

/// Whether a kernel for `loops` should give each result a block: few
/// results, long reductions.
bool wantsBlockReduction(const LoopSpace &loops) {
  if (loops.reduction.empty())
    return false;
  int64_t points = loops.count(loops.parallel);
  int64_t length = loops.count(loops.reduction);
  return (length >= 256 && points <= 65536) || length >= 8192;
}

/// Whether `value` is defined outside `launch` by a memref.get_global or a
/// view of one: a host address that the kernel must rebuild itself.
bool isHostGlobal(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return false;
  if (isa<memref::GetGlobalOp>(def))
    return true;
  if (auto view = dyn_cast<ViewLikeOpInterface>(def))
    return isHostGlobal(view.getViewSource());
  return false;
}

/// Rebuilds inside `launch` the constant globals (and views of them) that
/// its body uses: the kernel reads the device copy of the global, which the
/// outlining puts in the GPU module.
void sinkGlobals(gpu::LaunchOp launch) {
  IRMapping mapping;
  OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
  std::function<Value(Value)> rebuild = [&](Value value) -> Value {
    if (Value done = mapping.lookupOrNull(value))
      return done;
    Operation *def = value.getDefiningOp();
    for (Value operand : def->getOperands())
      if (isHostGlobal(operand))
        rebuild(operand);
    Operation *clone = b.clone(*def, mapping);
    return clone->getResult(cast<OpResult>(value).getResultNumber());
  };
  launch.getBody().walk([&](Operation *inner) {
    for (OpOperand &use : inner->getOpOperands())
      if (!launch.getBody().isAncestor(use.get().getParentRegion()) &&
          isHostGlobal(use.get()))
        use.set(rebuild(use.get()));
  });
}

/// Whether `op` may stay on the host: it touches no memory, or only
/// describes buffers (views of the arena and of the slots).
bool allowedOnHost(Operation *op) {
  if (isa<gpu::LaunchOp, func::ReturnOp, memref::GetGlobalOp,
          ViewLikeOpInterface, memref::ExtractStridedMetadataOp,
          memref::ExtractAlignedPointerAsIndexOp, memref::DimOp>(op))
    return true;
  return isMemoryEffectFree(op) && op->getNumRegions() == 0;
}

struct MapToGPUPass : kiln::impl::KilnMapToGPUBase<MapToGPUPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (!func.isExternal() && failed(runOn(func)))
        return signalPassFailure();
  }

  LogicalResult runOn(func::FuncOp func) {
    IRRewriter rewriter(&getContext());
    // Copies and named linalg ops become generics, which the strategies
    // take.
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      if (isa<memref::CopyOp, linalg::LinalgOp>(op))
        ops.push_back(&op);
    SmallVector<linalg::GenericOp> generics;
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        unsigned rank = copy.getSource().getType().getRank();
        AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
        auto generic = linalg::GenericOp::create(
            rewriter, copy.getLoc(), TypeRange(),
            ValueRange{copy.getSource()}, ValueRange{copy.getTarget()},
            ArrayRef<AffineMap>{identity, identity},
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [](OpBuilder &nested, Location loc, ValueRange args) {
              linalg::YieldOp::create(nested, loc, args[0]);
            });
        rewriter.eraseOp(copy);
        generics.push_back(generic);
        continue;
      }
      auto linalgOp = cast<linalg::LinalgOp>(op);
      if (!linalgOp.hasPureBufferSemantics())
        return op->emitError("kiln-map-to-gpu needs linalg ops on buffers; "
                             "bufferize first");
      if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        generics.push_back(generic);
        continue;
      }
      FailureOr<linalg::GenericOp> generic =
          linalg::generalizeNamedOp(rewriter, linalgOp);
      if (failed(generic))
        return op->emitError("kiln-map-to-gpu cannot map this linalg op");
      generics.push_back(*generic);
    }

    // An elementwise op that only initializes the output of the reduction
    // right after it (a fill, a broadcast bias) runs inside that reduction's
    // kernel.
    llvm::DenseMap<Operation *, linalg::GenericOp> producers;
    llvm::DenseSet<Operation *> absorbed;
    for (size_t i = 1; i < generics.size(); ++i)
      if (OutputInit::canAbsorb(generics[i - 1], generics[i])) {
        producers[generics[i]] = generics[i - 1];
        absorbed.insert(generics[i - 1]);
      }

    for (linalg::GenericOp generic : generics) {
      if (absorbed.contains(generic))
        continue;
      LoopSpace loops(generic);
      if (llvm::any_of(loops.sizes, ShapedType::isDynamic))
        return generic.emitError("kiln-map-to-gpu needs static loop ranges");
      SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
      for (AffineMap map : ArrayRef(maps).drop_front(generic.getNumDpsInputs()))
        for (unsigned d : loops.reduction)
          if (map.isFunctionOfDim(d))
            return generic.emitError(
                "kiln-map-to-gpu needs outputs indexed by parallel "
                "dimensions only");
      linalg::GenericOp producer = producers.lookup(generic);
      OutputInit init(generic, producer);
      if (failed(mapContraction(generic, loops, init)) &&
          (!wantsBlockReduction(loops) ||
           failed(mapBlockReduction(generic, loops, init))))
        mapThreadPerResult(generic, loops, init);
      if (producer)
        producer.erase();
    }

    func.walk([](gpu::LaunchOp launch) { sinkGlobals(launch); });
    // What the kernels took over is dead on the host now.
    SmallVector<Operation *> descriptions;
    for (Operation &op : func.getBody().front())
      if (isa<memref::GetGlobalOp, ViewLikeOpInterface>(op))
        descriptions.push_back(&op);
    // Views before what they view, so that a chain of them goes at once.
    for (Operation *op : llvm::reverse(descriptions))
      if (op->use_empty())
        op->erase();
    for (Operation &op : func.getBody().front())
      if (!allowedOnHost(&op))
        return op.emitError("'")
               << op.getName()
               << "' would run on the host, which must not touch the "
                  "device's buffers; only linalg ops and copies become "
                  "kernels";
    return success();
  }
};

} // namespace
