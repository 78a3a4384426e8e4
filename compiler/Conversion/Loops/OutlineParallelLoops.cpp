//===- OutlineParallelLoops.cpp - Large linalg ops as parallel bodies -----===//
//
// oneDNN keeps every core busy during a heavy op; between heavy ops, the
// generated code would run on one core while the others wait. Each large
// linalg op on buffers moves into a function that runs the op on a range
// [begin, end) of one of its parallel loops; the step calls it over the
// whole range, and kiln-lower-parallel-calls turns that call into
// kiln_rt_parallel_for, which splits the range across the runtime's
// threads. Each output element is computed by one thread in the order the
// op had, so results are bit for bit those of the serial loop.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Loops/BufferRegions.h"
#include "Conversion/Passes.h"
#include "Conversion/Program/Steps.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace kiln {
#define GEN_PASS_DEF_KILNOUTLINEPARALLELLOOPS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Below this many iterations an op stays in its step: waking the threads
/// costs about as much as it would save.
constexpr int64_t kMinParallelIterations = 1 << 14;

/// kiln_rt_parallel_for runs shorter ranges on the calling thread alone (see
/// runtime/src/cpu/Runtime.cpp); the outermost loop at least this long is
/// split, for the largest pieces.
constexpr int64_t kSplitLoopAtLeast = 64;

/// Whether the LLVM lowering with bare pointers can pass `type` to a
/// function: scalars, and buffers whose layout is known statically.
bool isPassable(Type type) {
  if (type.isIntOrIndexOrFloat())
    return true;
  auto memref = dyn_cast<MemRefType>(type);
  SmallVector<int64_t> strides;
  int64_t offset;
  return memref && memref.hasStaticShape() &&
         succeeded(memref.getStridesAndOffset(strides, offset)) &&
         !ShapedType::isDynamic(offset) &&
         llvm::none_of(strides, ShapedType::isDynamic);
}

/// The loop of `op` to split: a parallel loop that each operand indexes by
/// one plain dimension or not at all, and each output does index, so that
/// threads write apart. -1 when there is none.
int64_t splitLoop(linalg::LinalgOp op, ArrayRef<int64_t> ranges) {
  int64_t best = -1;
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop) {
    if (op.getIteratorTypesArray()[loop] != utils::IteratorType::parallel ||
        ranges[loop] < 2)
      continue;
    AffineExpr dim = getAffineDimExpr(loop, op.getContext());
    bool plain = llvm::all_of(op->getOpOperands(), [&](OpOperand &operand) {
      unsigned uses = 0;
      for (AffineExpr result :
           op.getMatchingIndexingMap(&operand).getResults()) {
        if (result == dim)
          ++uses;
        else if (result.isFunctionOfDim(loop))
          return false;
      }
      return uses == 1 || (uses == 0 && !op.isDpsInit(&operand));
    });
    if (!plain)
      continue;
    if (ranges[loop] >= kSplitLoopAtLeast)
      return loop;
    if (best < 0 || ranges[loop] > ranges[best])
      best = loop;
  }
  return best;
}

/// Builds the body function: its arguments are begin, end, then the values
/// it captures, which it takes in the order it first needs them.
class BodyBuilder {
public:
  /// `body` takes (begin, end) or nothing so far.
  explicit BodyBuilder(func::FuncOp body)
      : body(body), entry(body.addEntryBlock()),
        builder(OpBuilder::atBlockBegin(entry)) {}

  /// The body's value for `outer`, a value of the step. Constants and side
  /// effect free ops without regions (views of buffers) are copied into the
  /// body when their results cannot be passed; null when neither works.
  Value get(Value outer) {
    if (Value inner = mapping.lookupOrNull(outer))
      return inner;
    Operation *def = outer.getDefiningOp();
    bool copy = def && def->getNumRegions() == 0 && isMemoryEffectFree(def) &&
                (def->hasTrait<OpTrait::ConstantLike>() ||
                 !isPassable(outer.getType()));
    if (copy) {
      for (Value operand : def->getOperands())
        if (!get(operand))
          return nullptr;
      Operation *clone = builder.clone(*def, mapping);
      return clone->getResult(cast<OpResult>(outer).getResultNumber());
    }
    if (!isPassable(outer.getType()))
      return nullptr;
    Value inner = entry->addArgument(outer.getType(), outer.getLoc());
    mapping.map(outer, inner);
    captured.push_back(outer);
    return inner;
  }

  func::FuncOp body;
  Block *entry;
  OpBuilder builder;
  IRMapping mapping;
  SmallVector<Value> captured;
};

/// Slices each operand of `op` that `loop` indexes to [begin, end) along
/// the dimension that the loop indexes; begin and end are the body's first
/// two arguments.
void sliceOperands(linalg::LinalgOp op, int64_t loop, BodyBuilder &b,
                   SmallVectorImpl<Value> &operands) {
  OpBuilder &builder = b.builder;
  Location loc = op.getLoc();
  Value begin = b.entry->getArgument(0), end = b.entry->getArgument(1);
  Value size = arith::SubIOp::create(builder, loc, end, begin);
  AffineExpr dim = getAffineDimExpr(loop, op.getContext());
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    std::optional<unsigned> position =
        op.getMatchingIndexingMap(&operand).getResultPosition(dim);
    if (!type || !position)
      continue;
    SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes,
        strides(type.getRank(), builder.getIndexAttr(1));
    for (int64_t extent : type.getShape())
      sizes.push_back(builder.getIndexAttr(extent));
    offsets[*position] = begin;
    sizes[*position] = size;
    Value &sliced = operands[operand.getOperandNumber()];
    sliced = memref::SubViewOp::create(builder, loc, sliced, offsets, sizes,
                                       strides);
  }
}

/// The captured values that `outer`, a value of the step, is made from in
/// the body: itself, or the operands of the ops copied into the body.
void capturesOf(Value outer, const BodyBuilder &b,
                SmallPtrSetImpl<Value> &found) {
  if (llvm::is_contained(b.captured, outer)) {
    found.insert(outer);
    return;
  }
  if (Operation *def = outer.getDefiningOp())
    for (Value operand : def->getOperands())
      capturesOf(operand, b, found);
}

/// Marks `llvm.noalias` each buffer that the body of `op` takes and that
/// overlaps none of its other buffers, unless neither is written. The body
/// reaches memory through its arguments alone, so LLVM may then keep the
/// op's loads and stores apart.
void markApartBuffers(linalg::LinalgOp op, BodyBuilder &b,
                      unsigned firstCapture, const BufferRegions &regions) {
  SmallPtrSet<Value, 4> written;
  for (Value init : op.getDpsInits())
    capturesOf(init, b, written);
  SmallVector<unsigned> buffers;
  SmallVector<BufferRegion> where;
  for (auto [i, value] : llvm::enumerate(b.captured))
    if (isa<MemRefType>(value.getType())) {
      buffers.push_back(i);
      where.push_back(regions.regionOf(value));
    }
  auto readOnly = [&](unsigned k) {
    return !written.contains(b.captured[buffers[k]]);
  };
  for (unsigned k = 0; k < buffers.size(); ++k) {
    bool apart =
        llvm::all_of(llvm::seq<unsigned>(buffers.size()), [&](unsigned l) {
          return k == l || BufferRegions::apart(where[k], where[l]) ||
                 (readOnly(k) && readOnly(l));
        });
    if (apart)
      b.body.setArgAttr(firstCapture + buffers[k],
                        LLVM::LLVMDialect::getNoAliasAttrName(),
                        UnitAttr::get(op.getContext()));
  }
}

/// Moves `op` into a new private function and calls it there. With a
/// `loop`, the function runs the op on a range [begin, end) of that loop and
/// the call covers the whole range; without one, the function runs all of
/// it and LLVM must not inline it back. Fails, changing nothing, when a
/// value that the op uses cannot reach the function.
LogicalResult outline(linalg::LinalgOp op, std::optional<int64_t> loop,
                      int64_t range, StringRef name,
                      const BufferRegions &regions) {
  MLIRContext *context = op.getContext();
  Location loc = op.getLoc();
  auto step = op->getParentOfType<func::FuncOp>();
  OpBuilder moduleBuilder(step);
  moduleBuilder.setInsertionPointAfter(step);
  Type index = IndexType::get(context);
  SmallVector<Type> bounds;
  if (loop)
    bounds = {index, index};
  auto body = func::FuncOp::create(moduleBuilder, loc, name,
                                   FunctionType::get(context, bounds, {}));
  body.setPrivate();
  OpBuilder attrs(context);
  if (loop)
    body->setAttr("kiln.parallel_body", attrs.getUnitAttr());
  else // The LLVM dialect's attribute that func-to-llvm carries over.
    body->setAttr("passthrough",
                  attrs.getArrayAttr({attrs.getStringAttr("noinline")}));
  BodyBuilder b(body);

  SetVector<Value> above;
  getUsedValuesDefinedAbove(op->getRegions(), above);
  SmallVector<Value> operands;
  for (Value value : op->getOperands())
    operands.push_back(b.get(value));
  bool reached = llvm::all_of(operands, [](Value v) { return v; }) &&
                 llvm::all_of(above, [&](Value v) { return b.get(v); });
  if (!reached) {
    body.erase();
    return failure();
  }

  OpBuilder &builder = b.builder;
  builder.setInsertionPointToEnd(b.entry);
  if (loop)
    sliceOperands(op, *loop, b, operands);
  Operation *clone = builder.clone(*op, b.mapping);
  clone->setOperands(
      ArrayRef<Value>(operands).take_front(op->getNumOperands()));
  // linalg.index counts from the start of the slice.
  clone->walk([&](linalg::IndexOp indexOp) {
    if (!loop || static_cast<int64_t>(indexOp.getDim()) != *loop)
      return;
    OpBuilder at(indexOp);
    at.setInsertionPointAfter(indexOp);
    Value shifted =
        arith::AddIOp::create(at, loc, indexOp, b.entry->getArgument(0));
    indexOp.getResult().replaceAllUsesExcept(shifted, shifted.getDefiningOp());
  });
  func::ReturnOp::create(builder, loc);
  body.setFunctionType(
      FunctionType::get(context, b.entry->getArgumentTypes(), {}));
  markApartBuffers(op, b, bounds.size(), regions);

  OpBuilder call(op);
  SmallVector<Value> args;
  if (loop)
    args = {arith::ConstantIndexOp::create(call, loc, 0),
            arith::ConstantIndexOp::create(call, loc, range)};
  llvm::append_range(args, b.captured);
  func::CallOp::create(call, loc, body, args);
  op->erase();
  return success();
}

struct OutlineParallelLoopsPass
    : kiln::impl::KilnOutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  using KilnOutlineParallelLoopsBase::KilnOutlineParallelLoopsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> steps;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !func->hasAttr("kiln.parallel_body"))
        steps.push_back(func);
    for (func::FuncOp step : steps) {
      ArrayRef<int64_t> slots;
      for (const StepEntry &entry : kProgramSteps)
        if (entry.function == step.getSymName())
          if (auto attr = module->getAttrOfType<DenseI64ArrayAttr>(
                  slotsAttrName(entry)))
            slots = attr.asArrayRef();
      BufferRegions regions(step, slots);
      SmallVector<linalg::LinalgOp> ops;
      step.walk([&](linalg::LinalgOp op) {
        if (op.hasPureBufferSemantics())
          ops.push_back(op);
      });
      unsigned parallel = 0, serial = 0;
      for (linalg::LinalgOp op : ops) {
        SmallVector<int64_t> ranges = op.getStaticLoopRanges();
        if (llvm::any_of(ranges, ShapedType::isDynamic))
          continue;
        int64_t iterations = 1;
        for (int64_t range : ranges)
          iterations *= range;
        int64_t loop = splitLoop(op, ranges);
        if (iterations >= kMinParallelIterations && loop >= 0 &&
            succeeded(outline(
                op, loop, ranges[loop],
                (step.getSymName() + "_parallel_" + Twine(parallel)).str(),
                regions))) {
          ++parallel;
          continue;
        }
        if (ops.size() > maxInlineOps &&
            succeeded(outline(
                op, std::nullopt, 0,
                (step.getSymName() + "_op_" + Twine(serial)).str(), regions)))
          ++serial;
      }
    }
  }
};

} // namespace
