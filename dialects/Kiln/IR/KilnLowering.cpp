//===- KilnLowering.cpp - The runtime call op: checks, effects, bufferizing ===//

#include "Kiln/IR/KilnOps.h"
#include "kiln/kiln_runtime.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace kiln;

static_assert(static_cast<int>(RuntimeOpKind::conv2d_forward) ==
                      KILN_CONV2D_FORWARD &&
                  static_cast<int>(RuntimeOpKind::matmul) == KILN_MATMUL &&
                  static_cast<int>(RuntimeOpKind::attention_backward) ==
                      KILN_ATTENTION_BACKWARD &&
                  static_cast<int>(RuntimeOpKind::batch_norm_forward) ==
                      KILN_BATCH_NORM_FORWARD &&
                  static_cast<int>(RuntimeOpKind::batch_norm_backward) ==
                      KILN_BATCH_NORM_BACKWARD &&
                  static_cast<int>(RuntimeOpKind::all_reduce_wait) ==
                      KILN_ALL_REDUCE_WAIT,
              "RuntimeOpKind must number the kinds as kiln_runtime.h does");

LogicalResult RuntimeCallOp::verify() {
  bool onTensors = llvm::all_of(getOutputs(), [](Value v) {
    return isa<RankedTensorType>(v.getType());
  });
  bool onBuffers = llvm::all_of(getOutputs(), [](Value v) {
    return isa<MemRefType>(v.getType());
  });
  if (!onTensors && !onBuffers)
    return emitOpError("outputs must be all tensors or all buffers");
  if (onTensors && getNumResults() != getOutputs().size())
    return emitOpError("has ") << getOutputs().size()
                               << " tensor outputs, so it needs as many results";
  if (onBuffers && getNumResults() != 0)
    return emitOpError("writes buffers, so it has no results");
  for (auto [result, output] : llvm::zip(getResults(), getOutputs()))
    if (result.getType() != output.getType())
      return emitOpError("result types must equal the output types");
  return success();
}

void RuntimeCallOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getInputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand);
  for (OpOperand &operand : getOutputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Write::get(), &operand);
}

namespace {

/// Bufferizes a runtime call in place of its outputs. The runtime never reads
/// an output, so their previous contents need not be kept.
struct RuntimeCallBufferization
    : bufferization::DstBufferizableOpInterfaceExternalModel<
          RuntimeCallBufferization, RuntimeCallOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const bufferization::AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const bufferization::BufferizationOptions &options,
                          bufferization::BufferizationState &state) const {
    auto call = cast<RuntimeCallOp>(op);
    auto buffersOf = [&](ValueRange values,
                         SmallVectorImpl<Value> &buffers) -> LogicalResult {
      for (Value value : values) {
        if (!isa<TensorType>(value.getType())) {
          buffers.push_back(value);
          continue;
        }
        FailureOr<Value> buffer =
            bufferization::getBuffer(rewriter, value, options, state);
        if (failed(buffer))
          return failure();
        buffers.push_back(*buffer);
      }
      return success();
    };
    SmallVector<Value> inputs, outputs;
    if (failed(buffersOf(call.getInputs(), inputs)) ||
        failed(buffersOf(call.getOutputs(), outputs)))
      return failure();
    rewriter.setInsertionPoint(op);
    RuntimeCallOp::create(rewriter, op->getLoc(), TypeRange(),
                          call.getKindAttr(), call.getSiteAttr(),
                          call.getConfigAttr(), inputs, outputs);
    bufferization::replaceOpWithBufferizedValues(rewriter, op, outputs);
    return success();
  }
};

} // namespace

void kiln::registerBufferizationInterfaces(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    RuntimeCallOp::attachInterface<RuntimeCallBufferization>(*context);
  });
}
