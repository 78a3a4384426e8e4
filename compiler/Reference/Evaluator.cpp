//===- Evaluator.cpp - The reference evaluator's driver -------------------===//
//
// Walks the body of a function in order, evaluating each op on the tensors of
// its operands, and checks at every step what the op implementations take for
// granted: static shapes, and results of the declared shapes and kinds.
//
//===----------------------------------------------------------------------===//

#include "RefInternal.h"

#include "Kiln/IR/KilnNames.h"
#include "io/Safetensors.h"

#include "mlir/IR/Verifier.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::reference;

//===----------------------------------------------------------------------===//
// Tensors and frames
//===----------------------------------------------------------------------===//

int64_t Tensor::numElements() const { return product(shape); }

Tensor Tensor::real(std::vector<int64_t> shape, std::vector<double> values) {
  Tensor tensor;
  tensor.shape = std::move(shape);
  tensor.reals = std::move(values);
  return tensor;
}

Tensor Tensor::integer(std::vector<int64_t> shape,
                       std::vector<int64_t> values) {
  Tensor tensor;
  tensor.shape = std::move(shape);
  tensor.isInteger = true;
  tensor.integers = std::move(values);
  return tensor;
}

const Tensor &Frame::operator[](Value value) const {
  auto it = values.find(value);
  assert(it != values.end() && "operand used before it was evaluated");
  return it->second;
}

void Frame::set(Value value, Tensor tensor) {
  if (precision == Precision::F32)
    for (double &x : tensor.reals)
      x = static_cast<float>(x);
  values[value] = std::move(tensor);
}

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

int64_t reference::product(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

Shape reference::unflatten(int64_t flat, ArrayRef<int64_t> shape) {
  Shape index(shape.size());
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

int64_t reference::flatten(ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + index[d];
  return flat;
}

int64_t reference::broadcastSource(ArrayRef<int64_t> index,
                                   ArrayRef<int64_t> shape) {
  size_t offset = index.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[offset + d]);
  return flat;
}

Shape reference::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  Shape shape(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    int64_t a = d < rank - lhs.size() ? 1 : lhs[d - (rank - lhs.size())];
    int64_t b = d < rank - rhs.size() ? 1 : rhs[d - (rank - rhs.size())];
    shape[d] = a == 1 ? b : a;
  }
  return shape;
}

int64_t reference::normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

AxisView::AxisView(ArrayRef<int64_t> shape, int64_t axis)
    : outer(product(shape.take_front(axis))), size(shape[axis]),
      inner(product(shape.drop_front(axis + 1))) {}

Tensor reference::zeros(ArrayRef<int64_t> shape, bool isInteger) {
  std::vector<int64_t> dims(shape.begin(), shape.end());
  int64_t count = product(shape);
  return isInteger ? Tensor::integer(dims, std::vector<int64_t>(count, 0))
                   : Tensor::real(dims, std::vector<double>(count, 0.0));
}

void reference::copyElement(const Tensor &source, int64_t from, Tensor &dest,
                            int64_t to) {
  if (source.isInteger)
    dest.integers[to] = source.integers[from];
  else
    dest.reals[to] = source.reals[from];
}

LogicalResult reference::checkIds(Operation *op, const Tensor &ids,
                                  int64_t limit, const char *what) {
  for (int64_t p = 0, e = ids.numElements(); p < e; ++p) {
    int64_t id = ids.integers[p];
    if (id < 0 || id >= limit)
      return op->emitOpError("id ")
             << id << " at position " << formatShape(unflatten(p, ids.shape))
             << " is outside [0, " << limit << "), the " << what;
  }
  return success();
}

std::vector<int64_t> reference::shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().vec();
}

std::string reference::formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

double reference::logistic(double x) { return 1 / (1 + std::exp(-x)); }

//===----------------------------------------------------------------------===//
// The driver
//===----------------------------------------------------------------------===//

namespace {

/// Whether `type` is a ranked tensor with a static shape.
bool isStaticTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape();
}

/// Checks `tensor` against `type`: its kind (real or integer) and shape.
/// Returns a description of the difference, empty when they agree.
std::string describeMismatch(const Tensor &tensor, Type type) {
  auto tensorType = cast<RankedTensorType>(type);
  bool integer = tensorType.getElementType().isInteger();
  if (tensor.isInteger != integer)
    return std::string("holds ") + (tensor.isInteger ? "integers" : "reals") +
           " but the type is " + (integer ? "an integer" : "a real") +
           " tensor";
  if (ArrayRef<int64_t>(tensor.shape) != tensorType.getShape())
    return "has shape " + formatShape(tensor.shape) + " but the type's is " +
           formatShape(tensorType.getShape());
  size_t count =
      tensor.isInteger ? tensor.integers.size() : tensor.reals.size();
  if (static_cast<int64_t>(count) != tensor.numElements())
    return "has " + std::to_string(count) + " elements for shape " +
           formatShape(tensor.shape);
  return "";
}

LogicalResult checkArguments(func::FuncOp func, ArrayRef<Tensor> args) {
  if (args.size() != func.getNumArguments())
    return func.emitError("expects ")
           << func.getNumArguments() << " arguments, got " << args.size();
  for (auto [index, arg] : llvm::enumerate(args)) {
    Type type = func.getArgumentTypes()[index];
    std::string name = getArgumentName(func, index);
    if (!isStaticTensor(type))
      return func.emitError("argument '")
             << name << "' has type " << type
             << "; the reference evaluator needs tensors of static shapes "
                "(run kiln-shape-inference first)";
    std::string mismatch = describeMismatch(arg, type);
    if (!mismatch.empty())
      return func.emitError("argument '") << name << "' " << mismatch;
  }
  return success();
}

LogicalResult dispatch(Operation *op, Frame &frame) {
  static const KernelTable table = [] {
    KernelTable kernels;
    registerTensorKernels(kernels);
    registerMathKernels(kernels);
    registerConvKernels(kernels);
    registerNNKernels(kernels);
    registerBatchNormKernels(kernels);
    registerLSTMKernels(kernels);
    registerGRUKernels(kernels);
    registerOptimizerKernels(kernels);
    return kernels;
  }();
  if (const KernelTable::Kernel *kernel = table.find(op))
    return (*kernel)(op, frame);
  return op->emitError("the reference evaluator does not implement '")
         << op->getName() << "'";
}

/// Evaluates one op, checking first that its shapes are static and then that
/// it produced what its result types declare.
LogicalResult evaluateOne(Operation &op, Frame &frame) {
  for (Type type : op.getResultTypes())
    if (!isStaticTensor(type))
      return op.emitError("has result type ")
             << type
             << "; the reference evaluator needs static shapes (run "
                "kiln-shape-inference first)";
  if (failed(dispatch(&op, frame)))
    return failure();
  for (OpResult result : op.getResults()) {
    std::string mismatch = describeMismatch(frame[result], result.getType());
    if (!mismatch.empty())
      return op.emitError("the reference evaluator's result #")
             << result.getResultNumber() << " " << mismatch;
  }
  return success();
}

} // namespace

FailureOr<std::vector<Tensor>> reference::evaluate(func::FuncOp func,
                                                   ArrayRef<Tensor> args,
                                                   Precision precision) {
  // The ops' implementations rely on what the verifier checks.
  if (failed(verify(func)))
    return failure();
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return func.emitError("the reference evaluator needs a function body of "
                          "one block");
  if (failed(checkArguments(func, args)))
    return failure();
  Frame frame(precision);
  for (auto [arg, tensor] : llvm::zip(func.getArguments(), args))
    frame.set(arg, tensor);
  Block &body = func.getBody().front();
  for (Operation &op : body.without_terminator())
    if (failed(evaluateOne(op, frame)))
      return failure();
  std::vector<Tensor> results;
  for (Value value : cast<func::ReturnOp>(body.getTerminator()).getOperands())
    results.push_back(frame[value]);
  return results;
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

Tensor reference::fromTensorData(const io::TensorData &data) {
  std::vector<int64_t> shape = data.shape;
  int64_t count = data.numElements();
  switch (data.dtype) {
  case io::DType::F32:
    return Tensor::real(shape, std::vector<double>(data.data<float>(),
                                                   data.data<float>() + count));
  case io::DType::F64:
    return Tensor::real(
        shape,
        std::vector<double>(data.data<double>(), data.data<double>() + count));
  case io::DType::I64:
    return Tensor::integer(shape,
                           std::vector<int64_t>(data.data<int64_t>(),
                                                data.data<int64_t>() + count));
  }
  llvm_unreachable("unknown dtype");
}

io::TensorData reference::toTensorData(const Tensor &tensor, Type elementType) {
  io::DType dtype = tensor.isInteger      ? io::DType::I64
                    : elementType.isF32() ? io::DType::F32
                                          : io::DType::F64;
  io::TensorData data = io::TensorData::zeros(dtype, tensor.shape);
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i) {
    if (dtype == io::DType::I64)
      data.data<int64_t>()[i] = tensor.integers[i];
    else if (dtype == io::DType::F32)
      data.data<float>()[i] = static_cast<float>(tensor.reals[i]);
    else
      data.data<double>()[i] = tensor.reals[i];
  }
  return data;
}
