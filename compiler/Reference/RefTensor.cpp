//===- RefTensor.cpp - Reference semantics of constants and data movement -===//
//
// Constants, data movement and its adjoints (broadcast_to, scatter_slice),
// embeddings, one-hot vectors, the position table and count_equal. Most of
// them move elements: each result element is found by mapping its index back
// to the index it comes from.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

namespace {

/// The tensor of `shape` whose element j is element `source(j)` of `input`.
template <typename SourceFn>
Tensor gather(const Tensor &input, ArrayRef<int64_t> shape, SourceFn source) {
  Tensor result = zeros(shape, input.isInteger);
  for (int64_t j = 0, e = product(shape); j < e; ++j)
    copyElement(input, source(j), result, j);
  return result;
}

/// `tensor`'s elements in another shape.
Tensor withShape(Tensor tensor, ArrayRef<int64_t> shape) {
  tensor.shape.assign(shape.begin(), shape.end());
  return tensor;
}

} // namespace

static LogicalResult evaluateOp(ConstantOp op, Frame &frame) {
  ElementsAttr value = op.getValue();
  std::vector<int64_t> dims = value.getShapedType().getShape().vec();
  if (auto floats = value.tryGetValues<APFloat>()) {
    std::vector<double> reals;
    for (const APFloat &x : *floats)
      reals.push_back(x.convertToDouble());
    frame.set(op.getResult(), Tensor::real(dims, std::move(reals)));
    return success();
  }
  if (auto ints = value.tryGetValues<APInt>()) {
    std::vector<int64_t> integers;
    for (const APInt &x : *ints)
      integers.push_back(x.getSExtValue());
    frame.set(op.getResult(), Tensor::integer(dims, std::move(integers)));
    return success();
  }
  return op.emitOpError("has a value attribute whose elements the reference "
                        "evaluator cannot read");
}

static LogicalResult evaluateOp(ReshapeOp op, Frame &frame) {
  frame.set(op.getResult(),
            withShape(frame[op.getInput()], shapeOf(op.getResult())));
  return success();
}

static LogicalResult evaluateOp(FlattenOp op, Frame &frame) {
  frame.set(op.getResult(),
            withShape(frame[op.getInput()], shapeOf(op.getResult())));
  return success();
}

static LogicalResult evaluateOp(TransposeOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  ArrayRef<int64_t> permutation = op.getPermutation();
  Shape shape;
  for (int64_t d : permutation)
    shape.push_back(input.shape[d]);
  frame.set(op.getResult(), gather(input, shape, [&](int64_t j) {
              Shape index = unflatten(j, shape);
              Shape from(index.size());
              for (size_t d = 0; d < index.size(); ++d)
                from[permutation[d]] = index[d];
              return flatten(from, input.shape);
            }));
  return success();
}

static LogicalResult evaluateOp(ConcatOp op, Frame &frame) {
  std::vector<int64_t> shape = shapeOf(op.getResult());
  int64_t axis = normalizeAxis(op.getAxis(), shape.size());
  AxisView out(shape, axis);
  Tensor result = zeros(shape, frame[op.getInputs().front()].isInteger);
  int64_t start = 0;
  for (Value value : op.getInputs()) {
    const Tensor &input = frame[value];
    AxisView in(input.shape, axis);
    for (int64_t o = 0; o < in.outer; ++o)
      for (int64_t a = 0; a < in.size; ++a)
        for (int64_t i = 0; i < in.inner; ++i)
          copyElement(input, in.at(o, a, i), result, out.at(o, start + a, i));
    start += in.size;
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(SliceOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  ArrayRef<int64_t> offsets = op.getOffsets(), strides = op.getStrides();
  ArrayRef<int64_t> sizes = op.getSizes();
  frame.set(op.getResult(), gather(input, sizes, [&](int64_t j) {
              Shape index = unflatten(j, sizes);
              for (size_t d = 0; d < index.size(); ++d)
                index[d] = offsets[d] + index[d] * strides[d];
              return flatten(index, input.shape);
            }));
  return success();
}

static LogicalResult evaluateOp(EmbeddingOp op, Frame &frame) {
  const Tensor &ids = frame[op.getIds()];
  const Tensor &table = frame[op.getTable()];
  int64_t rows = table.shape[0], dim = table.shape[1];
  if (failed(checkIds(op, ids, rows, "rows of the table")))
    return failure();
  frame.set(op.getResult(),
            gather(table, shapeOf(op.getResult()), [&](int64_t j) {
              return ids.integers[j / dim] * dim + j % dim;
            }));
  return success();
}

static LogicalResult evaluateOp(EmbeddingBackwardOp op, Frame &frame) {
  const Tensor &grad = frame[op.getGrad()];
  const Tensor &ids = frame[op.getIds()];
  int64_t rows = op.getNum(), dim = grad.shape.back();
  if (failed(checkIds(op, ids, rows, "rows of the table")))
    return failure();
  Tensor result = zeros({rows, dim});
  for (int64_t p = 0, e = ids.numElements(); p < e; ++p)
    for (int64_t d = 0; d < dim; ++d)
      result.reals[ids.integers[p] * dim + d] += grad.reals[p * dim + d];
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(OneHotOp op, Frame &frame) {
  const Tensor &ids = frame[op.getIds()];
  int64_t classes = op.getNumClasses();
  if (failed(checkIds(op, ids, classes, "classes")))
    return failure();
  Tensor result = zeros(shapeOf(op.getResult()));
  for (int64_t p = 0, e = ids.numElements(); p < e; ++p)
    result.reals[p * classes + ids.integers[p]] = 1;
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(SinusoidalPositionsOp op, Frame &frame) {
  int64_t length = op.getLength(), dim = op.getDim();
  Tensor result = zeros({length, dim});
  for (int64_t p = 0; p < length; ++p) {
    for (int64_t i = 0; 2 * i < dim; ++i) {
      double w = std::exp(-2.0 * i * std::log(10000.0) / dim);
      result.reals[p * dim + 2 * i] = std::sin(p * w);
      result.reals[p * dim + 2 * i + 1] = std::cos(p * w);
    }
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(BroadcastToOp op, Frame &frame) {
  const Tensor &input = frame[op.getInput()];
  ArrayRef<int64_t> shape = op.getShape();
  frame.set(op.getResult(), gather(input, shape, [&](int64_t j) {
              return broadcastSource(unflatten(j, shape), input.shape);
            }));
  return success();
}

static LogicalResult evaluateOp(ScatterSliceOp op, Frame &frame) {
  const Tensor &source = frame[op.getSource()];
  ArrayRef<int64_t> offsets = op.getOffsets(), strides = op.getStrides();
  ArrayRef<int64_t> shape = op.getShape();
  Tensor result = zeros(shape);
  for (int64_t k = 0, e = source.numElements(); k < e; ++k) {
    Shape index = unflatten(k, source.shape);
    for (size_t d = 0; d < index.size(); ++d)
      index[d] = offsets[d] + index[d] * strides[d];
    result.reals[flatten(index, shape)] = source.reals[k];
  }
  frame.set(op.getResult(), std::move(result));
  return success();
}

static LogicalResult evaluateOp(CountEqualOp op, Frame &frame) {
  const Tensor &lhs = frame[op.getLhs()], &rhs = frame[op.getRhs()];
  int64_t count = 0;
  for (int64_t i = 0, e = lhs.numElements(); i < e; ++i)
    count += lhs.integers[i] == rhs.integers[i];
  frame.set(op.getResult(), Tensor::integer({}, {count}));
  return success();
}

void reference::registerTensorKernels(KernelTable &table) {
  table.add<ConstantOp>(evaluateOp);
  table.add<ReshapeOp>(evaluateOp);
  table.add<FlattenOp>(evaluateOp);
  table.add<TransposeOp>(evaluateOp);
  table.add<ConcatOp>(evaluateOp);
  table.add<SliceOp>(evaluateOp);
  table.add<EmbeddingOp>(evaluateOp);
  table.add<EmbeddingBackwardOp>(evaluateOp);
  table.add<OneHotOp>(evaluateOp);
  table.add<SinusoidalPositionsOp>(evaluateOp);
  table.add<BroadcastToOp>(evaluateOp);
  table.add<ScatterSliceOp>(evaluateOp);
  table.add<CountEqualOp>(evaluateOp);
}
