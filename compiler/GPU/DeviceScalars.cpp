//===- DeviceScalars.cpp - Scalar computations of the steps as linalg -----===//
//
// After bufferization, anything outside a linalg op runs on the host. On a
// device the host must not touch the steps' buffers, so scalars computed
// from tensor elements (tensor.extract, arithmetic, tensor.from_elements)
// become rank-0 linalg.generic ops, and splat constants become linalg.fill,
// which the GPU fills in place of a host global it cannot read.
//
//===----------------------------------------------------------------------===//

#include "GPU/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln {
#define GEN_PASS_DEF_KILNDEVICESCALARS
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The ops that compute a scalar from tensor elements, in order, and the
/// tensor.extract ops it reads; fails on anything else.
struct ScalarSlice {
  SetVector<Operation *> ops;
  SetVector<tensor::ExtractOp> reads;
};

LogicalResult collect(Value value, ScalarSlice &slice) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return failure();
  if (auto extract = dyn_cast<tensor::ExtractOp>(def)) {
    for (Value index : extract.getIndices())
      if (!index.getDefiningOp<arith::ConstantIndexOp>())
        return failure();
    slice.reads.insert(extract);
    return success();
  }
  if (slice.ops.contains(def))
    return success();
  if (def->getNumRegions() != 0 || !isPure(def) ||
      !llvm::isa<arith::ArithDialect, math::MathDialect>(def->getDialect()))
    return failure();
  for (Value operand : def->getOperands())
    if (failed(collect(operand, slice)))
      return failure();
  slice.ops.insert(def);
  return success();
}

/// A map from an iteration space of `rank` dimensions to the constant
/// `indices` of `read`.
AffineMap constantMap(MLIRContext *context, unsigned rank,
                      tensor::ExtractOp read) {
  SmallVector<AffineExpr> exprs;
  for (Value index : read.getIndices())
    exprs.push_back(getAffineConstantExpr(
        index.getDefiningOp<arith::ConstantIndexOp>().value(), context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// Clones `slice` with its reads replaced by `elements`, returning what
/// `value` maps to.
Value cloneSlice(OpBuilder &b, const ScalarSlice &slice, ValueRange elements,
                 Value value) {
  IRMapping mapping;
  for (auto [read, element] : llvm::zip(slice.reads, elements))
    mapping.map(tensor::ExtractOp(read).getResult(), element);
  for (Operation *op : slice.ops)
    b.clone(*op, mapping);
  return mapping.lookupOrDefault(value);
}

/// A rank-0 tensor holding `value`, computed by a rank-0 linalg.generic.
FailureOr<Value> materialize(OpBuilder &builder, Location loc, Value value) {
  ScalarSlice slice;
  if (failed(collect(value, slice)))
    return failure();
  ImplicitLocOpBuilder b(loc, builder);
  MLIRContext *context = b.getContext();
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (tensor::ExtractOp read : slice.reads) {
    inputs.push_back(read.getTensor());
    maps.push_back(constantMap(context, 0, read));
  }
  maps.push_back(AffineMap::get(context));
  Value init = tensor::EmptyOp::create(b, ArrayRef<int64_t>{}, value.getType());
  auto generic = linalg::GenericOp::create(
      b, init.getType(), inputs, init, maps, ArrayRef<utils::IteratorType>{},
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        Value result = cloneSlice(nested, slice, args.drop_back(), value);
        linalg::YieldOp::create(nested, loc, result);
      });
  return generic.getResult(0);
}

/// Whether `value` is a scalar (not a tensor) that must move to the device:
/// not a constant, which kernels rebuild themselves.
bool isHostScalar(Value value) {
  if (isa<ShapedType>(value.getType()))
    return false;
  Operation *def = value.getDefiningOp();
  return !def || !def->hasTrait<OpTrait::ConstantLike>();
}

struct DeviceScalarsPass
    : kiln::impl::KilnDeviceScalarsBase<DeviceScalarsPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(runOn(func)))
        return signalPassFailure();
  }

  LogicalResult runOn(func::FuncOp func) {
    OpBuilder builder(&getContext());
    // A scalar that several ops use is materialized once.
    llvm::DenseMap<Value, Value> tensors;
    auto tensorOf = [&](Value scalar, Operation *user) -> FailureOr<Value> {
      auto found = tensors.find(scalar);
      if (found != tensors.end())
        return found->second;
      builder.setInsertionPoint(user);
      FailureOr<Value> tensor = materialize(builder, user->getLoc(), scalar);
      if (failed(tensor))
        return user->emitError("cannot compute a scalar that this op uses on "
                               "the device: it is not arithmetic of tensor "
                               "elements at constant indices"),
               failure();
      tensors[scalar] = *tensor;
      return *tensor;
    };

    SmallVector<tensor::FromElementsOp> scalars;
    SmallVector<linalg::GenericOp> generics;
    SmallVector<arith::ConstantOp> splats;
    for (Operation &op : func.getBody().front()) {
      if (auto from = dyn_cast<tensor::FromElementsOp>(op);
          from && from.getType().getRank() == 0)
        scalars.push_back(from);
      else if (auto generic = dyn_cast<linalg::GenericOp>(op))
        generics.push_back(generic);
      else if (auto constant = dyn_cast<arith::ConstantOp>(op))
        if (auto dense = dyn_cast<SplatElementsAttr>(constant.getValue()))
          splats.push_back(constant);
    }

    for (tensor::FromElementsOp from : scalars) {
      FailureOr<Value> tensor = tensorOf(from.getElements()[0], from);
      if (failed(tensor))
        return failure();
      from.replaceAllUsesWith(*tensor);
      from.erase();
    }

    for (linalg::GenericOp generic : generics) {
      SetVector<Value> captured;
      generic.getRegion().walk([&](Operation *inner) {
        for (Value operand : inner->getOperands())
          if (!generic.getRegion().isAncestor(operand.getParentRegion()) &&
              isHostScalar(operand))
            captured.insert(operand);
      });
      for (Value scalar : captured) {
        FailureOr<Value> tensor = tensorOf(scalar, generic);
        if (failed(tensor))
          return failure();
        addScalarInput(generic, scalar, *tensor);
      }
    }

    // Splat constants that the device reads become fills. Shape operands of
    // reshapes stay constants: the host reads those.
    for (arith::ConstantOp constant : splats) {
      auto type = cast<RankedTensorType>(constant.getType());
      builder.setInsertionPoint(constant);
      Value fill;
      for (OpOperand &use : llvm::make_early_inc_range(constant->getUses())) {
        auto reshape = dyn_cast<tensor::ReshapeOp>(use.getOwner());
        if (reshape && use.getOperandNumber() == 1)
          continue;
        if (!fill) {
          ImplicitLocOpBuilder b(constant.getLoc(), builder);
          Value value = arith::ConstantOp::create(
              b, cast<TypedAttr>(
                     cast<SplatElementsAttr>(constant.getValue())
                         .getSplatValue<Attribute>()));
          Value empty = tensor::EmptyOp::create(b, type.getShape(),
                                                type.getElementType());
          fill = linalg::FillOp::create(b, value, empty).getResult(0);
        }
        use.set(fill);
      }
      if (constant->use_empty())
        constant.erase();
    }
    return success();
  }

  /// Makes `tensor`, the rank-0 tensor of `scalar`, an input of `generic`
  /// and reads `scalar` from it inside the body.
  void addScalarInput(linalg::GenericOp &generic, Value scalar, Value tensor) {
    OpBuilder b(generic);
    SmallVector<Value> inputs(generic.getInputs());
    inputs.push_back(tensor);
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    maps.insert(maps.begin() + generic.getNumDpsInputs(),
                AffineMap::get(generic.getNumLoops(), 0, {}, b.getContext()));
    auto replacement = linalg::GenericOp::create(
        b, generic.getLoc(), generic.getResultTypes(), inputs,
        generic.getOutputs(), maps, generic.getIteratorTypesArray());
    replacement->setDiscardableAttrs(generic->getDiscardableAttrDictionary());
    Region &region = replacement.getRegion();
    region.takeBody(generic.getRegion());
    Block &body = region.front();
    BlockArgument element = body.insertArgument(
        generic.getNumDpsInputs(), scalar.getType(), scalar.getLoc());
    scalar.replaceUsesWithIf(element, [&](OpOperand &use) {
      return replacement->isProperAncestor(use.getOwner());
    });
    generic.replaceAllUsesWith(replacement.getResults());
    generic.erase();
    generic = replacement;
  }
};

} // namespace
