//===- Contraction.cpp - Tiled matrix products in shared memory -----------===//
//
// A generic whose body is acc + x * y, with one reduced dimension k, where x
// depends on one parallel dimension m (and k, and batch dimensions) and y
// on another, n, is a matrix product, whatever elementwise producers were
// fused into x and y. Each block computes a 64 x 64 tile of the result:
// per step of 16 along k, its 256 threads stage x[64 x 16] and y[16 x 64]
// in shared memory (computing the fused producers once per element), then
// each thread accumulates a 4 x 4 sub-tile from them in registers.
//
//===----------------------------------------------------------------------===//

#include "MapToGPU/Kernel.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::gpu_mapping;

namespace {

constexpr int64_t kTile = 64, kStep = 16, kThreads = 256, kSub = 4;
// Rows of the staged tiles are one element longer than the tile, so that
// the threads that store one column hit distinct shared-memory banks.
constexpr int64_t kRow = kTile + 1;

/// What an operand of the product (x or y) is computed from.
struct Factor {
  Value value;
  /// The body's ops that compute it, in order.
  SetVector<Operation *> ops;
  /// The loop dimensions it depends on.
  llvm::SmallBitVector dims;
  /// Whether its first memory operand has k as its fastest dimension.
  bool kFastest = false;
};

/// Collects what `value` is computed from, or fails when it reads the
/// accumulator.
LogicalResult trace(linalg::GenericOp op, Value value, Factor &factor) {
  Block &body = op.getRegion().front();
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    if (arg.getOwner() != &body)
      return success();
    if (arg.getArgNumber() >= op.getNumDpsInputs())
      return failure();
    AffineMap map = op.getMatchingIndexingMap(op.getDpsInputOperand(arg.getArgNumber()));
    for (unsigned d = 0; d < map.getNumDims(); ++d)
      if (map.isFunctionOfDim(d))
        factor.dims.set(d);
    return success();
  }
  Operation *def = value.getDefiningOp();
  if (!op.getRegion().isAncestor(def->getParentRegion()))
    return success();
  if (def->getBlock() != &body || def->getNumRegions() != 0)
    return failure();
  if (factor.ops.contains(def))
    return success();
  if (auto index = dyn_cast<linalg::IndexOp>(def))
    factor.dims.set(index.getDim());
  for (Value operand : def->getOperands())
    if (failed(trace(op, operand, factor)))
      return failure();
  factor.ops.insert(def);
  return success();
}

/// Whether the first input that `factor` reads along `k` has k as its
/// fastest-varying dimension.
bool isKFastest(linalg::GenericOp op, const Factor &factor, unsigned k) {
  Block &body = op.getRegion().front();
  SmallVector<Value> reads;
  for (Operation *inner : factor.ops)
    llvm::append_range(reads, inner->getOperands());
  reads.push_back(factor.value);
  for (Value read : reads) {
    auto arg = dyn_cast<BlockArgument>(read);
    if (!arg || arg.getOwner() != &body ||
        arg.getArgNumber() >= op.getNumDpsInputs())
      continue;
    AffineMap map =
        op.getMatchingIndexingMap(op.getDpsInputOperand(arg.getArgNumber()));
    if (map.getNumResults() == 0 || !map.isFunctionOfDim(k))
      continue;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    return last && last.getPosition() == k;
  }
  return false;
}

/// The shape of a matched product.
struct Product {
  Factor x, y;
  unsigned m = 0, n = 0, k = 0;
  SmallVector<unsigned> batch;
  Operation *add = nullptr;
};

std::optional<Product> match(linalg::GenericOp op, const LoopSpace &loops) {
  if (op.getNumDpsInits() != 1 || loops.reduction.size() != 1)
    return std::nullopt;
  Block &body = op.getRegion().front();
  BlockArgument acc = body.getArguments().back();
  auto add = body.getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || !acc.hasOneUse() || acc.getUses().begin()->getOwner() != add)
    return std::nullopt;
  Value product = add.getLhs() == acc ? add.getRhs() : add.getLhs();
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || !mul->hasOneUse() || mul->getBlock() != &body)
    return std::nullopt;
  Product p;
  p.add = add;
  p.k = loops.reduction.front();
  p.x.value = mul.getLhs();
  p.y.value = mul.getRhs();
  unsigned count = loops.sizes.size();
  p.x.dims.resize(count);
  p.y.dims.resize(count);
  if (failed(trace(op, p.x.value, p.x)) || failed(trace(op, p.y.value, p.y)))
    return std::nullopt;
  // m: the one parallel dimension that only x depends on; n: only y.
  SmallVector<unsigned> onlyX, onlyY;
  for (unsigned d : loops.parallel) {
    bool inX = p.x.dims.test(d), inY = p.y.dims.test(d);
    if (inX && !inY)
      onlyX.push_back(d);
    else if (inY && !inX)
      onlyY.push_back(d);
    else
      p.batch.push_back(d);
  }
  if (onlyX.size() != 1 || onlyY.size() != 1)
    return std::nullopt;
  p.m = onlyX.front();
  p.n = onlyY.front();
  // Worth tiles: not a product of a few rows or columns.
  if (loops.sizes[p.m] < 16 || loops.sizes[p.n] < 16 ||
      loops.sizes[p.k] < kStep || loops.count(p.batch) > 65535)
    return std::nullopt;
  p.x.kFastest = isKFastest(op, p.x, p.k);
  p.y.kFastest = isKFastest(op, p.y, p.k);
  return p;
}

/// The value of `factor` at `ivs`: its inputs loaded, its ops cloned.
Value evaluate(ImplicitLocOpBuilder &b, linalg::GenericOp op,
               const Factor &factor, ValueRange ivs) {
  Block &body = op.getRegion().front();
  IRMapping mapping;
  for (unsigned i = 0; i < op.getNumDpsInputs(); ++i) {
    BlockArgument arg = body.getArgument(i);
    bool used = arg == factor.value ||
                llvm::any_of(arg.getUsers(), [&](Operation *user) {
                  return factor.ops.contains(user);
                });
    if (used)
      mapping.map(arg, loadOperand(b, op, *op.getDpsInputOperand(i), ivs));
  }
  for (Operation *inner : factor.ops) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(*inner, mapping);
  }
  return mapping.lookupOrDefault(factor.value);
}

/// Stages the 64 x 16 (or 16 x 64) slice of `factor` whose tile dimension
/// `tileDim` starts at `tileStart` and whose k starts at `kStart` into
/// `staged[k][tile]`; elements outside the loop ranges are zero.
void stage(ImplicitLocOpBuilder &b, linalg::GenericOp op, const LoopSpace &loops,
           const Factor &factor, unsigned tileDim, unsigned k, Value tileStart,
           Value kStart, SmallVector<Value> ivs, Value thread, Value staged,
           Type element) {
  for (int64_t q = 0; q < kTile * kStep / kThreads; ++q) {
    Value e = arith::AddIOp::create(b, thread, constantIndex(b, q * kThreads));
    // Neighbouring threads read neighbouring addresses of the operand.
    Value kk, tt;
    if (factor.kFastest) {
      kk = arith::RemUIOp::create(b, e, constantIndex(b, kStep));
      tt = arith::DivUIOp::create(b, e, constantIndex(b, kStep));
    } else {
      tt = arith::RemUIOp::create(b, e, constantIndex(b, kTile));
      kk = arith::DivUIOp::create(b, e, constantIndex(b, kTile));
    }
    Value t = arith::AddIOp::create(b, tileStart, tt);
    Value kv = arith::AddIOp::create(b, kStart, kk);
    Value inside = arith::AndIOp::create(
        b,
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, t,
                              constantIndex(b, loops.sizes[tileDim])),
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, kv,
                              constantIndex(b, loops.sizes[k])));
    ivs[tileDim] = t;
    ivs[k] = kv;
    auto read = scf::IfOp::create(
        b, inside,
        [&](OpBuilder &nested, Location loc) {
          ImplicitLocOpBuilder in(loc, nested);
          scf::YieldOp::create(in, evaluate(in, op, factor, ivs));
        },
        [&](OpBuilder &nested, Location loc) {
          scf::YieldOp::create(
              nested, loc,
              arith::ConstantOp::create(nested, loc,
                                        nested.getFloatAttr(element, 0))
                  .getResult());
        });
    memref::StoreOp::create(b, read.getResult(0), staged, ValueRange{kk, tt});
  }
}

} // namespace

LogicalResult gpu_mapping::mapContraction(linalg::GenericOp op,
                                          const LoopSpace &loops,
                                          const OutputInit &outputInit) {
  std::optional<Product> p = match(op, loops);
  if (!p)
    return failure();
  ImplicitLocOpBuilder b(op.getLoc(), op);
  MLIRContext *context = b.getContext();
  Type element = p->add->getResult(0).getType();
  auto workgroup = gpu::AddressSpaceAttr::get(
      context, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto tileType = MemRefType::get({kStep, kRow}, element, AffineMap(), workgroup);
  int64_t sizeM = loops.sizes[p->m], sizeN = loops.sizes[p->n];
  SmallVector<int64_t> batchSizes;
  for (unsigned d : p->batch)
    batchSizes.push_back(loops.sizes[d]);
  gpu::LaunchOp launch =
      createLaunch(b,
                   {(sizeN + kTile - 1) / kTile, (sizeM + kTile - 1) / kTile,
                    loops.count(p->batch)},
                   {kThreads, 1, 1}, {tileType, tileType});
  Value stagedX = launch.getWorkgroupAttributions()[0];
  Value stagedY = launch.getWorkgroupAttributions()[1];
  Value thread = launch.getThreadIds().x;
  Value tx = arith::RemUIOp::create(b, thread, constantIndex(b, 16));
  Value ty = arith::DivUIOp::create(b, thread, constantIndex(b, 16));
  Value m0 = arith::MulIOp::create(b, launch.getBlockIds().y, constantIndex(b, kTile));
  Value n0 = arith::MulIOp::create(b, launch.getBlockIds().x, constantIndex(b, kTile));

  SmallVector<Value> ivs(loops.sizes.size(), constantIndex(b, 0));
  for (auto [d, index] : llvm::zip(
           p->batch, delinearize(b, launch.getBlockIds().z, batchSizes)))
    ivs[d] = index;

  Value zero = arith::ConstantOp::create(b, b.getFloatAttr(element, 0));
  SmallVector<Value> init(kSub * kSub, zero);
  auto steps = scf::ForOp::create(
      b, constantIndex(b, 0), constantIndex(b, loops.sizes[p->k]),
      constantIndex(b, kStep), init,
      [&](OpBuilder &nested, Location loc, Value kStart, ValueRange acc) {
        ImplicitLocOpBuilder in(loc, nested);
        stage(in, op, loops, p->x, p->m, p->k, m0, kStart, ivs, thread,
              stagedX, element);
        stage(in, op, loops, p->y, p->n, p->k, n0, kStart, ivs, thread,
              stagedY, element);
        gpu::BarrierOp::create(in);
        auto inner = scf::ForOp::create(
            in, constantIndex(in, 0), constantIndex(in, kStep),
            constantIndex(in, 1), acc,
            [&](OpBuilder &nested2, Location loc2, Value kk, ValueRange sums) {
              ImplicitLocOpBuilder c(loc2, nested2);
              SmallVector<Value> xs, ys;
              for (int64_t i = 0; i < kSub; ++i) {
                Value row = arith::AddIOp::create(c, ty, constantIndex(c, 16 * i));
                xs.push_back(memref::LoadOp::create(c, stagedX, ValueRange{kk, row}));
                Value col = arith::AddIOp::create(c, tx, constantIndex(c, 16 * i));
                ys.push_back(memref::LoadOp::create(c, stagedY, ValueRange{kk, col}));
              }
              SmallVector<Value> next;
              for (int64_t i = 0; i < kSub; ++i)
                for (int64_t j = 0; j < kSub; ++j)
                  next.push_back(
                      math::FmaOp::create(c, xs[i], ys[j], sums[i * kSub + j]));
              scf::YieldOp::create(c, next);
            });
        // The next step overwrites the tiles only when every thread is done.
        gpu::BarrierOp::create(in);
        scf::YieldOp::create(in, inner.getResults());
      });

  OpOperand &output = op.getDpsInitsMutable()[0];
  for (int64_t i = 0; i < kSub; ++i) {
    Value row = arith::AddIOp::create(
        b, m0, arith::AddIOp::create(b, ty, constantIndex(b, 16 * i)));
    for (int64_t j = 0; j < kSub; ++j) {
      Value col = arith::AddIOp::create(
          b, n0, arith::AddIOp::create(b, tx, constantIndex(b, 16 * j)));
      Value inside = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row,
                                   constantIndex(b, sizeM)),
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col,
                                constantIndex(b, sizeN)));
      auto guard = scf::IfOp::create(b, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard saved(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      SmallVector<Value> at(ivs);
      at[p->m] = row;
      at[p->n] = col;
      at[p->k] = constantIndex(b, 0);
      Value stored = outputInit.at(b, 0, at);
      Value sum = arith::AddFOp::create(b, stored,
                                        steps.getResult(i * kSub + j));
      storeOperand(b, op, output, sum, at);
    }
  }
  op.erase();
  return success();
}
