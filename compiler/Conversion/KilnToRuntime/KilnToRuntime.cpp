//===- KilnToRuntime.cpp - Heavy kiln ops as calls of the runtime ---------===//
//
// Each heavy op becomes a kiln.runtime_call whose configuration follows the
// layout that runtime/include/kiln/kiln_runtime.h documents for its kind.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/ADT/bit.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERTORUNTIME
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

int64_t bitsOf(double value) { return llvm::bit_cast<int64_t>(value); }

/// Builds runtime calls with consecutive site numbers.
class RuntimeCallBuilder {
public:
  explicit RuntimeCallBuilder(MLIRContext *context) : rewriter(context) {}

  /// Replaces `op` by a call of `kind` with `inputs`, writing new tensors of
  /// `op`'s result types, then of `fused`'s, which it replaces too. The call
  /// goes where `op` is, or where `fused` is when `fused` comes first.
  RuntimeCallOp replace(Operation *op, RuntimeOpKind kind,
                        ArrayRef<int64_t> config, ValueRange inputs,
                        Operation *fused = nullptr) {
    rewriter.setInsertionPoint(fused && fused->isBeforeInBlock(op) ? fused
                                                                   : op);
    SmallVector<Type> types(op->getResultTypes());
    if (fused)
      llvm::append_range(types, fused->getResultTypes());
    SmallVector<Value> outputs;
    for (Type type : types) {
      auto tensor = cast<RankedTensorType>(type);
      outputs.push_back(tensor::EmptyOp::create(
          rewriter, op->getLoc(), tensor.getShape(), tensor.getElementType()));
    }
    int64_t site = nextSite++;
    auto call = RuntimeCallOp::create(
        rewriter, op->getLoc(), types,
        RuntimeOpKindAttr::get(rewriter.getContext(), kind),
        rewriter.getI64IntegerAttr(site), rewriter.getDenseI64ArrayAttr(config),
        inputs, outputs);
    unsigned count = op->getNumResults();
    rewriter.replaceOp(op, call.getResults().take_front(count));
    if (fused)
      replaceFused(fused, call.getResults().drop_front(count));
    return call;
  }

  /// A call of `kind` with `inputs`, before `at`, writing new tensors of
  /// `types`; replaces nothing.
  RuntimeCallOp create(Operation *at, RuntimeOpKind kind,
                       ArrayRef<int64_t> config, ValueRange inputs,
                       TypeRange types) {
    rewriter.setInsertionPoint(at);
    SmallVector<Value> outputs;
    for (Type type : types) {
      auto tensor = cast<RankedTensorType>(type);
      outputs.push_back(tensor::EmptyOp::create(
          rewriter, at->getLoc(), tensor.getShape(), tensor.getElementType()));
    }
    return RuntimeCallOp::create(
        rewriter, at->getLoc(), types,
        RuntimeOpKindAttr::get(rewriter.getContext(), kind),
        rewriter.getI64IntegerAttr(nextSite++),
        rewriter.getDenseI64ArrayAttr(config), inputs, outputs);
  }

  /// Replaces `fused`, an op that a call computes too. It is erased after
  /// the walk, which still holds it.
  void replaceFused(Operation *fused, ValueRange values) {
    rewriter.replaceAllUsesWith(fused->getResults(), values);
    erased.push_back(fused);
  }

  IRRewriter rewriter;
  int64_t nextSite = 0;
  /// Forward sites whose workspace a backward site can use: max pooling by
  /// its input (several poolings may read one input), an LSTM or GRU by its
  /// output sequence.
  llvm::DenseMap<Value, SmallVector<RuntimeCallOp>> maxPoolSites;
  llvm::DenseMap<Value, int64_t> recurrentSites;
  /// Attention forward sites, whose probabilities the backward site of the
  /// same query, key, value and configuration reuses, by the query.
  struct AttentionSite {
    Value key, value, counter;
    SmallVector<int64_t> config;
    int64_t site;
  };
  llvm::DenseMap<Value, SmallVector<AttentionSite>> attentionSites;
  /// Layer norm forward sites, whose statistics the backward site of the
  /// same input and configuration reuses, by the input.
  struct LayerNormSite {
    SmallVector<int64_t> config;
    int64_t site;
  };
  llvm::DenseMap<Value, SmallVector<LayerNormSite>> layerNormSites;
  /// What a training batch normalization's backward site needs from its
  /// forward site, by the normalized input.
  struct BatchNormSite {
    Value mean, variance, workspace; // workspace: null unless relu is fused
    Value output;                    // y, or relu(y) when fused
    double epsilon;
    int64_t ranks;
  };
  llvm::DenseMap<Value, BatchNormSite> batchNormSites;
  /// Ops that calls compute as well (a relu, a bias gradient).
  SmallVector<Operation *> erased;
};

/// A bucket's average over the ranks as two sites, so that it runs while the
/// step goes on: the start where the all-reduce is (right after the
/// bucket's last gradient), the wait right before the first use of a mean.
/// The start's results are the buffers the wait fills, in place, so the
/// memory plan keeps them live from the start to the wait and on.
LogicalResult lowerAllReduce(RuntimeCallBuilder &b, AllReduceOp reduce) {
  SmallVector<int64_t> config{static_cast<int64_t>(reduce.getInputs().size())};
  for (Value input : reduce.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (!type.getElementType().isF32())
      return reduce.emitOpError("the CPU runtime averages f32 tensors only");
    config.push_back(type.getNumElements());
  }
  Block *block = reduce->getBlock();
  Operation *firstUse = block->getTerminator();
  for (Operation *user : reduce->getUsers())
    if (Operation *op = block->findAncestorOpInBlock(*user);
        op && op->isBeforeInBlock(firstUse))
      firstUse = op;
  Location loc = reduce.getLoc();
  RuntimeCallOp start = b.replace(reduce, RuntimeOpKind::all_reduce_start,
                                  config, reduce.getInputs());
  config.push_back(start.getSite());
  b.rewriter.setInsertionPoint(firstUse);
  auto wait = RuntimeCallOp::create(
      b.rewriter, loc, start.getResultTypes(),
      RuntimeOpKindAttr::get(b.rewriter.getContext(),
                             RuntimeOpKind::all_reduce_wait),
      b.rewriter.getI64IntegerAttr(b.nextSite++),
      b.rewriter.getDenseI64ArrayAttr(config), ValueRange(),
      start.getResults());
  for (auto [pending, mean] : llvm::zip(start.getResults(), wait.getResults()))
    b.rewriter.replaceAllUsesExcept(pending, mean, wait);
  return success();
}

/// When the only use of `call`'s result is a relu, makes the call apply it
/// (the relu flag, the last value of the configurations of convolutions and
/// products) in its place.
void fuseRelu(RuntimeCallBuilder &b, RuntimeCallOp call) {
  Value result = call.getResult(0);
  auto relu = result.hasOneUse() ? dyn_cast<ReluOp>(*result.getUsers().begin())
                                 : nullptr;
  if (!relu)
    return;
  SmallVector<int64_t> config(call.getConfig());
  config.back() = 1;
  call.setConfig(config);
  b.replaceFused(relu, result);
}

/// The bias gradient of a convolution whose output gradient is `grad`
/// ([N O OH OW]): its sum over N, OH and OW, which oneDNN's weight gradient
/// computes in the same pass. Null when there is none, or when the call
/// could not go where the sum is (it comes first, and `input` after it).
ReduceSumOp convolutionBiasGradient(Value grad, Value input) {
  for (Operation *user : grad.getUsers()) {
    auto sum = dyn_cast<ReduceSumOp>(user);
    if (!sum || sum.getKeepDims())
      continue;
    SmallVector<int64_t> axes;
    for (int64_t axis : sum.getAxes())
      axes.push_back(axis < 0 ? axis + 4 : axis);
    llvm::sort(axes);
    if (axes != ArrayRef<int64_t>{0, 2, 3})
      continue;
    Operation *def = input.getDefiningOp();
    if (def && def->getBlock() == sum->getBlock() && sum->isBeforeInBlock(def))
      continue;
    return sum;
  }
  return nullptr;
}

/// The [N C H W O KH KW SH SW PH PW DH DW] prefix of convolution configs.
SmallVector<int64_t> convolutionConfig(ArrayRef<int64_t> input,
                                       ArrayRef<int64_t> weight,
                                       ArrayRef<int64_t> stride,
                                       ArrayRef<int64_t> padding,
                                       ArrayRef<int64_t> dilation) {
  return {input[0],   input[1],    input[2],   input[3],  weight[0],
          weight[2],  weight[3],   stride[0],  stride[1], padding[0],
          padding[1], dilation[0], dilation[1]};
}

/// The [N C H W KH KW SH SW PH PW algorithm] prefix of pooling configs.
SmallVector<int64_t> poolConfig(ArrayRef<int64_t> input,
                                ArrayRef<int64_t> kernel,
                                ArrayRef<int64_t> stride,
                                ArrayRef<int64_t> padding, int64_t algorithm) {
  return {input[0],  input[1],  input[2],   input[3],   kernel[0], kernel[1],
          stride[0], stride[1], padding[0], padding[1], algorithm};
}

/// [outer size inner log] of a softmax along `axis`.
SmallVector<int64_t> softmaxConfig(ArrayRef<int64_t> shape, int64_t axis,
                                   bool log) {
  int64_t rank = shape.size();
  axis = axis < 0 ? axis + rank : axis;
  return {product(shape.take_front(axis)), shape[axis],
          product(shape.drop_front(axis + 1)), log ? 1 : 0};
}

/// [batch L S E EV causal scale dropout seed] of an attention or its
/// gradient.
template <typename Op> SmallVector<int64_t> attentionConfig(Op op) {
  ArrayRef<int64_t> q = shapeOf(op.getQuery()), k = shapeOf(op.getKey()),
                    v = shapeOf(op.getValue());
  std::optional<APFloat> scale = op.getScale();
  double factor = scale ? scale->convertToDouble()
                        : 1 / std::sqrt(static_cast<double>(q.back()));
  return {product(q.drop_back(2)),
          q[q.size() - 2],
          k[k.size() - 2],
          q.back(),
          v.back(),
          op.getCausal() ? 1 : 0,
          bitsOf(factor),
          bitsOf(op.getDropout().convertToDouble()),
          static_cast<int64_t>(op.getSeed())};
}

/// The inputs of an attention's call: `tensors`, then its step counter when
/// it draws a dropout mask.
template <typename Op>
SmallVector<Value> attentionInputs(Op op, ValueRange tensors) {
  SmallVector<Value> inputs(tensors);
  if (op.getCounter())
    inputs.push_back(op.getCounter());
  return inputs;
}

void lowerAttention(RuntimeCallBuilder &b, AttentionOp op) {
  SmallVector<int64_t> config = attentionConfig(op);
  RuntimeCallOp call =
      b.replace(op, RuntimeOpKind::attention_forward, config,
                attentionInputs(op, {op.getQuery(), op.getKey(), op.getValue()}));
  b.attentionSites[op.getQuery()].push_back(
      {op.getKey(), op.getValue(), op.getCounter(), config,
       static_cast<int64_t>(call.getSite())});
}

/// The backward site reuses the probabilities of the forward site of the
/// same query, key, value and configuration (the last value of its config;
/// -1 when there is none, and it computes them again).
void lowerAttentionBackward(RuntimeCallBuilder &b, AttentionBackwardOp op) {
  SmallVector<int64_t> config = attentionConfig(op);
  int64_t forwardSite = -1;
  for (const RuntimeCallBuilder::AttentionSite &site :
       b.attentionSites.lookup(op.getQuery()))
    if (site.key == op.getKey() && site.value == op.getValue() &&
        site.counter == op.getCounter() && site.config == config)
      forwardSite = site.site;
  config.push_back(forwardSite);
  b.replace(op, RuntimeOpKind::attention_backward, config,
            attentionInputs(op, {op.getGrad(), op.getQuery(), op.getKey(),
                                 op.getValue()}));
}

void lowerMatmul(RuntimeCallBuilder &b, MatmulOp op) {
  // Batches must be equal or one operand must be a single shared matrix;
  // any other broadcast is materialized first.
  Value lhs = op.getLhs(), rhs = op.getRhs();
  ArrayRef<int64_t> result = shapeOf(op.getResult());
  ArrayRef<int64_t> batch = result.drop_back(2);
  auto batchOf = [](Value v) { return shapeOf(v).drop_back(2); };
  auto expand = [&](Value v) -> Value {
    if (batchOf(v) == batch || product(batchOf(v)) == 1)
      return v;
    SmallVector<int64_t> shape(batch);
    llvm::append_range(shape, shapeOf(v).take_back(2));
    b.rewriter.setInsertionPoint(op);
    return BroadcastToOp::create(b.rewriter, op.getLoc(), v, shape);
  };
  lhs = expand(lhs);
  rhs = expand(rhs);
  int64_t m = result[result.size() - 2], n = result.back();
  int64_t k = op.getTransposeLhs() ? shapeOf(lhs)[shapeOf(lhs).size() - 2]
                                   : shapeOf(lhs).back();
  int64_t count = product(batch);
  bool lhsBatched = product(batchOf(lhs)) == count && count > 1;
  bool rhsBatched = product(batchOf(rhs)) == count && count > 1;
  fuseRelu(b, b.replace(op, RuntimeOpKind::matmul,
                        {count, m, n, k, op.getTransposeLhs(),
                         op.getTransposeRhs(), lhsBatched, rhsBatched, 0, 0},
                        {lhs, rhs}));
}

void lowerLinear(RuntimeCallBuilder &b, LinearOp op) {
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  ArrayRef<int64_t> weight = shapeOf(op.getWeight());
  SmallVector<Value> inputs = {op.getInput(), op.getWeight()};
  if (op.getBias())
    inputs.push_back(op.getBias());
  // Rows of x times W^T: one matrix, the weight shared.
  fuseRelu(b, b.replace(op, RuntimeOpKind::matmul,
                        {1, product(input.drop_back()), weight[0], weight[1], 0,
                         1, 0, 0, op.getBias() ? 1 : 0, 0},
                        inputs));
}

/// `bias`, or zeros like `weight` before `op`: the runtime takes the weight
/// and the bias of a normalization together.
Value biasOrZeros(RuntimeCallBuilder &b, Operation *op, Value weight,
                  Value bias) {
  if (bias)
    return bias;
  b.rewriter.setInsertionPoint(op);
  auto type = cast<RankedTensorType>(weight.getType());
  return ConstantOp::create(
      b.rewriter, op->getLoc(),
      DenseElementsAttr::get(type,
                             b.rewriter.getZeroAttr(type.getElementType())));
}

/// [rows cols epsilon has_weight] of a layer norm or its gradient.
template <typename Op> SmallVector<int64_t> layerNormConfig(Op op) {
  ArrayRef<int64_t> shape = shapeOf(op.getInput());
  int64_t rank = shape.size(), axis = op.getAxis();
  axis = axis < 0 ? axis + rank : axis;
  return {product(shape.take_front(axis)), product(shape.drop_front(axis)),
          bitsOf(op.getEpsilon().convertToDouble()), op.getWeight() ? 1 : 0};
}

void lowerLayerNorm(RuntimeCallBuilder &b, LayerNormOp op) {
  SmallVector<int64_t> config = layerNormConfig(op);
  SmallVector<Value> inputs = {op.getInput()};
  if (op.getWeight()) {
    inputs.push_back(op.getWeight());
    inputs.push_back(biasOrZeros(b, op, op.getWeight(), op.getBias()));
  }
  RuntimeCallOp call =
      b.replace(op, RuntimeOpKind::layer_norm_forward, config, inputs);
  b.layerNormSites[op.getInput()].push_back(
      {config, static_cast<int64_t>(call.getSite())});
}

/// The backward site reuses the mean and variance of the forward site of
/// the same input and configuration (the last value of its config; -1 when
/// there is none, and it computes them again).
void lowerLayerNormBackward(RuntimeCallBuilder &b, LayerNormBackwardOp op) {
  SmallVector<int64_t> config = layerNormConfig(op);
  int64_t forwardSite = -1;
  for (const RuntimeCallBuilder::LayerNormSite &site :
       b.layerNormSites.lookup(op.getInput()))
    if (site.config == config)
      forwardSite = site.site;
  config.push_back(forwardSite);
  SmallVector<Value> inputs = {op.getGrad(), op.getInput()};
  if (op.getWeight())
    inputs.push_back(op.getWeight());
  b.replace(op, RuntimeOpKind::layer_norm_backward, config, inputs);
}

/// B T I H L of a recurrent op (kiln.lstm, kiln.gru or their gradients).
template <typename Op> SmallVector<int64_t> recurrentConfig(Op op) {
  ArrayRef<int64_t> input = shapeOf(op.getInput());
  return {input[0], input[1], input[2],
          static_cast<int64_t>(op.getHiddenSize()),
          static_cast<int64_t>(op.getNumLayers())};
}

template <typename Op>
void lowerRecurrent(RuntimeCallBuilder &b, Op op, RuntimeOpKind kind) {
  SmallVector<Value> inputs = {op.getInput()};
  llvm::append_range(inputs, op.getWeights());
  RuntimeCallOp call = b.replace(op, kind, recurrentConfig(op), inputs);
  b.recurrentSites[call.getResult(0)] = call.getSite();
}

/// The backward site takes `inputs` (the forward's input and results and
/// their gradients) and the weights; it pairs with the forward site of the
/// same output.
template <typename Op>
void lowerRecurrentBackward(RuntimeCallBuilder &b, Op op, RuntimeOpKind kind,
                            SmallVector<Value> inputs) {
  SmallVector<int64_t> config = recurrentConfig(op);
  auto paired = b.recurrentSites.find(op.getOutput());
  config.push_back(paired == b.recurrentSites.end() ? -1 : paired->second);
  llvm::append_range(inputs, op.getWeights());
  b.replace(op, kind, config, inputs);
}

/// [N C S] of a batch normalization's input [N, C, ...].
SmallVector<int64_t> batchNormSizes(Value input) {
  ArrayRef<int64_t> shape = shapeOf(input);
  return {shape[0], shape[1], product(shape.drop_front(2))};
}

/// A training forward site for `input`: y (or relu(y) with `fuseRelu`), the
/// batch's mean and biased variance (over `ranks` ranks' batches), and the
/// workspace of a fused relu.
RuntimeCallBuilder::BatchNormSite
createTrainingSite(RuntimeCallBuilder &b, Operation *at, Value input,
                   Value weight, Value bias, double epsilon, int64_t ranks,
                   bool fuseRelu) {
  SmallVector<int64_t> config = batchNormSizes(input);
  config.append({weight ? 1 : 0, 1, fuseRelu ? 1 : 0, bitsOf(epsilon), ranks});
  SmallVector<Value> inputs = {input};
  if (weight)
    inputs.append({weight, biasOrZeros(b, at, weight, bias)});
  auto inputType = cast<RankedTensorType>(input.getType());
  auto perChannel =
      RankedTensorType::get({config[1]}, inputType.getElementType());
  SmallVector<Type> types = {inputType, perChannel, perChannel};
  if (fuseRelu)
    types.push_back(RankedTensorType::get(
        {product(ArrayRef<int64_t>(config).take_front(3))},
        b.rewriter.getI8Type()));
  RuntimeCallOp call =
      b.create(at, RuntimeOpKind::batch_norm_forward, config, inputs, types);
  return {call.getResult(1),
          call.getResult(2),
          fuseRelu ? call.getResult(3) : Value(),
          call.getResult(0),
          epsilon,
          ranks};
}

void lowerBatchNorm(RuntimeCallBuilder &b, BatchNormOp op) {
  Value y = op.getResult();
  auto relu = y.hasOneUse() ? dyn_cast<ReluOp>(*y.getUsers().begin()) : nullptr;
  double epsilon = op.getEpsilon().convertToDouble();
  if (!op.getTraining()) {
    SmallVector<int64_t> config = batchNormSizes(op.getInput());
    config.append({op.getWeight() ? 1 : 0, 0, relu ? 1 : 0, bitsOf(epsilon),
                   static_cast<int64_t>(op.getRanks())});
    SmallVector<Value> inputs = {op.getInput()};
    if (op.getWeight())
      inputs.append(
          {op.getWeight(), biasOrZeros(b, op, op.getWeight(), op.getBias())});
    inputs.append({op.getRunningMean(), op.getRunningVar()});
    RuntimeCallOp call = b.create(op, RuntimeOpKind::batch_norm_forward, config,
                                  inputs, {y.getType()});
    if (relu)
      b.replaceFused(relu, call.getResult(0));
    b.rewriter.replaceOp(op, {call.getResult(0), op.getRunningMean(),
                              op.getRunningVar(), op.getNumBatchesTracked()});
    return;
  }
  RuntimeCallBuilder::BatchNormSite site = createTrainingSite(
      b, op, op.getInput(), op.getWeight(), op.getBias(), epsilon,
      static_cast<int64_t>(op.getRanks()), static_cast<bool>(relu));
  b.batchNormSites[op.getInput()] = site;
  if (relu)
    b.replaceFused(relu, site.output);
  auto [mean, variance, count] =
      op.buildRunningStatistics(b.rewriter, site.mean, site.variance);
  b.rewriter.replaceOp(op, {site.output, mean, variance, count});
}

void lowerBatchNormBackward(RuntimeCallBuilder &b, BatchNormBackwardOp op) {
  double epsilon = op.getEpsilon().convertToDouble();
  auto ranks = static_cast<int64_t>(op.getRanks());
  auto paired = b.batchNormSites.find(op.getInput());
  RuntimeCallBuilder::BatchNormSite site =
      paired != b.batchNormSites.end() && paired->second.epsilon == epsilon &&
              paired->second.ranks == ranks
          ? paired->second
          : createTrainingSite(b, op, op.getInput(), op.getWeight(), Value(),
                               epsilon, ranks, false);
  bool fuseRelu = static_cast<bool>(site.workspace);
  Value grad = op.getGrad();
  // With the relu fused, the site masks the gradient by the workspace: the
  // relu's own gradient, when it feeds only this, is the site's work.
  auto mask = grad.getDefiningOp<ReluBackwardOp>();
  if (fuseRelu && mask && mask.getInput() == site.output && grad.hasOneUse()) {
    grad = mask.getGrad();
    b.erased.push_back(mask);
  }
  SmallVector<int64_t> config = batchNormSizes(op.getInput());
  config.append(
      {op.getWeight() ? 1 : 0, fuseRelu ? 1 : 0, bitsOf(epsilon), ranks});
  SmallVector<Value> inputs = {op.getInput(), grad};
  if (op.getWeight())
    inputs.push_back(op.getWeight());
  inputs.append({site.mean, site.variance});
  if (fuseRelu)
    inputs.push_back(site.workspace);
  b.replace(op, RuntimeOpKind::batch_norm_backward, config, inputs);
}

/// Appends a flag to the configuration of each `forward` site: 1 when a
/// `backward` site (the last value of whose config is its forward site)
/// pairs with it, so that it keeps what the backward site reuses; the others
/// (the forward of an evaluation or prediction step) run in inference mode.
/// Pooling's flag is keeps_workspace; layer norm's, keeps_statistics.
void markPairedForwards(func::FuncOp func, RuntimeOpKind forward,
                        RuntimeOpKind backward) {
  llvm::SmallDenseSet<int64_t> paired;
  SmallVector<RuntimeCallOp> forwards;
  func.walk([&](RuntimeCallOp call) {
    if (call.getKind() == forward)
      forwards.push_back(call);
    if (call.getKind() == backward)
      paired.insert(call.getConfig().back());
  });
  for (RuntimeCallOp call : forwards) {
    SmallVector<int64_t> config(call.getConfig());
    config.push_back(paired.contains(call.getSite()) ? 1 : 0);
    call.setConfig(config);
  }
}

struct LowerToRuntimePass
    : kiln::impl::KilnLowerToRuntimeBase<LowerToRuntimePass> {
  void runOnOperation() override {
    refused = false;
    RuntimeCallBuilder b(&getContext());
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) { ops.push_back(op); });
      for (Operation *op : ops)
        if (!llvm::is_contained(b.erased, op))
          lower(b, op);
      for (Operation *op : b.erased)
        op->erase();
      b.erased.clear();
      b.batchNormSites.clear();
      markPairedForwards(func, RuntimeOpKind::pool2d_forward,
                         RuntimeOpKind::pool2d_backward);
      markPairedForwards(func, RuntimeOpKind::layer_norm_forward,
                         RuntimeOpKind::layer_norm_backward);
    }
    if (refused)
      return signalPassFailure();
    // Every op that declares a runtime kernel has its case above.
    WalkResult missed = getOperation().walk([](Operation *op) {
      if (!op->hasTrait<RuntimeKernel>())
        return WalkResult::advance();
      op->emitOpError("is marked RuntimeKernel but kiln-lower-to-runtime "
                      "does not lower it");
      return WalkResult::interrupt();
    });
    if (missed.wasInterrupted())
      signalPassFailure();
  }

  /// Whether an op was refused, with its error.
  bool refused = false;

  void lower(RuntimeCallBuilder &b, Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](Conv2DOp conv) {
          SmallVector<int64_t> config = convolutionConfig(
              shapeOf(conv.getInput()), shapeOf(conv.getWeight()),
              conv.getStride(), conv.getPadding(), conv.getDilation());
          config.append({conv.getBias() ? 1 : 0, 0});
          fuseRelu(b, b.replace(conv, RuntimeOpKind::conv2d_forward, config,
                                conv->getOperands()));
        })
        .Case([&](Conv2DBackwardInputOp conv) {
          b.replace(conv, RuntimeOpKind::conv2d_backward_data,
                    convolutionConfig(conv.getInputShape(),
                                      shapeOf(conv.getWeight()),
                                      conv.getStride(), conv.getPadding(),
                                      conv.getDilation()),
                    {conv.getGrad(), conv.getWeight()});
        })
        .Case([&](Conv2DBackwardWeightOp conv) {
          SmallVector<int64_t> weight = {
              shapeOf(conv.getGrad())[1], shapeOf(conv.getInput())[1],
              conv.getKernel()[0], conv.getKernel()[1]};
          SmallVector<int64_t> config = convolutionConfig(
              shapeOf(conv.getInput()), weight, conv.getStride(),
              conv.getPadding(), conv.getDilation());
          ReduceSumOp bias =
              convolutionBiasGradient(conv.getGrad(), conv.getInput());
          config.push_back(bias ? 1 : 0);
          b.replace(conv, RuntimeOpKind::conv2d_backward_weights, config,
                    {conv.getGrad(), conv.getInput()}, bias);
        })
        .Case([&](MaxPool2DOp pool) {
          Value input = pool.getInput();
          RuntimeCallOp call = b.replace(
              pool, RuntimeOpKind::pool2d_forward,
              poolConfig(shapeOf(input), pool.getKernel(),
                         pool.getEffectiveStride(), pool.getPadding(), 0),
              {input});
          b.maxPoolSites[input].push_back(call);
        })
        .Case([&](AvgPool2DOp pool) {
          b.replace(pool, RuntimeOpKind::pool2d_forward,
                    poolConfig(shapeOf(pool.getInput()), pool.getKernel(),
                               pool.getEffectiveStride(), pool.getPadding(),
                               pool.getCountIncludePad() ? 1 : 2),
                    {pool.getInput()});
        })
        .Case([&](MaxPool2DBackwardOp pool) {
          ArrayRef<int64_t> kernel = pool.getKernel();
          SmallVector<int64_t> config = poolConfig(
              shapeOf(pool.getInput()), kernel,
              pool.getStride().value_or(kernel), pool.getPadding(), 0);
          // Only a forward site of the same configuration has the workspace
          // this site needs; the runtime refuses any other.
          int64_t forwardSite = -1;
          for (RuntimeCallOp forward : b.maxPoolSites.lookup(pool.getInput()))
            if (forward.getConfig() == ArrayRef<int64_t>(config))
              forwardSite = forward.getSite();
          config.push_back(forwardSite);
          b.replace(pool, RuntimeOpKind::pool2d_backward, config,
                    {pool.getGrad(), pool.getInput()});
        })
        .Case([&](AvgPool2DBackwardOp pool) {
          // Average pooling reads no input; the runtime ignores it, so the
          // gradient buffer stands in for it.
          ArrayRef<int64_t> kernel = pool.getKernel();
          SmallVector<int64_t> config = poolConfig(
              pool.getInputShape(), kernel, pool.getStride().value_or(kernel),
              pool.getPadding(), pool.getCountIncludePad() ? 1 : 2);
          config.push_back(-1);
          b.replace(pool, RuntimeOpKind::pool2d_backward, config,
                    {pool.getGrad(), pool.getGrad()});
        })
        .Case([&](AllReduceOp reduce) {
          if (failed(lowerAllReduce(b, reduce)))
            refused = true;
        })
        .Case([&](MatmulOp matmul) { lowerMatmul(b, matmul); })
        .Case([&](LinearOp linear) { lowerLinear(b, linear); })
        .Case([&](SoftmaxOp softmax) {
          b.replace(softmax, RuntimeOpKind::softmax_forward,
                    softmaxConfig(shapeOf(softmax.getInput()),
                                  softmax.getAxis(), false),
                    {softmax.getInput()});
        })
        .Case([&](LogSoftmaxOp softmax) {
          b.replace(softmax, RuntimeOpKind::softmax_forward,
                    softmaxConfig(shapeOf(softmax.getInput()),
                                  softmax.getAxis(), true),
                    {softmax.getInput()});
        })
        .Case([&](SoftmaxBackwardOp softmax) {
          b.replace(softmax, RuntimeOpKind::softmax_backward,
                    softmaxConfig(shapeOf(softmax.getOutput()),
                                  softmax.getAxis(), false),
                    {softmax.getGrad(), softmax.getOutput()});
        })
        .Case([&](LogSoftmaxBackwardOp softmax) {
          b.replace(softmax, RuntimeOpKind::softmax_backward,
                    softmaxConfig(shapeOf(softmax.getOutput()),
                                  softmax.getAxis(), true),
                    {softmax.getGrad(), softmax.getOutput()});
        })
        .Case([&](LayerNormOp norm) { lowerLayerNorm(b, norm); })
        .Case(
            [&](LayerNormBackwardOp norm) { lowerLayerNormBackward(b, norm); })
        .Case([&](BatchNormOp norm) { lowerBatchNorm(b, norm); })
        .Case(
            [&](BatchNormBackwardOp norm) { lowerBatchNormBackward(b, norm); })
        .Case([&](LSTMOp lstm) {
          lowerRecurrent(b, lstm, RuntimeOpKind::lstm_forward);
        })
        .Case([&](LSTMBackwardOp lstm) {
          lowerRecurrentBackward(
              b, lstm, RuntimeOpKind::lstm_backward,
              {lstm.getInput(), lstm.getOutput(), lstm.getFinalHidden(),
               lstm.getFinalCell(), lstm.getOutputGrad(),
               lstm.getFinalHiddenGrad(), lstm.getFinalCellGrad()});
        })
        .Case([&](GRUOp gru) {
          lowerRecurrent(b, gru, RuntimeOpKind::gru_forward);
        })
        .Case([&](GRUBackwardOp gru) {
          lowerRecurrentBackward(b, gru, RuntimeOpKind::gru_backward,
                                 {gru.getInput(), gru.getOutput(),
                                  gru.getFinalHidden(), gru.getOutputGrad(),
                                  gru.getFinalHiddenGrad()});
        })
        .Case([&](AttentionOp attention) { lowerAttention(b, attention); })
        .Case([&](AttentionBackwardOp attention) {
          lowerAttentionBackward(b, attention);
        });
  }
};

} // namespace
