//===- Passes.td - Conversions of kiln to the runtime and to LLVM ---------===//

#ifndef KILN_CONVERSION_PASSES_TD
#define KILN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnLowerToRuntime : Pass<"kiln-lower-to-runtime", "mlir::ModuleOp"> {
  let summary = "Turn heavy kiln ops into calls of the runtime's primitives";
  let description = [{
    Convolutions, pooling, matrix products (and linear layers), softmax,
    layer normalization, LSTMs and attention, forward and backward, become
    `kiln.runtime_call` ops: destination-style calls whose static
    configuration the runtime reads once, when the program starts. Sites are
    numbered across the module. A backward site that needs what its forward
    computed (max pooling's argmax workspace, the LSTM's) is paired with the
    forward site on the same operands.
  }];
  let dependentDialects = ["::kiln::KilnDialect", "::mlir::tensor::TensorDialect"];
}

def KilnLowerToLinalg : Pass<"kiln-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the remaining kiln ops to linalg, tensor, arith and math";
  let description = [{
    Elementwise ops (with broadcasting), reductions, data movement, losses,
    dropout, the optimizer updates, the learning-rate schedule and gradient
    clipping become linalg.generic and friends on tensors, ready for
    elementwise fusion and bufferization. Optimizer updates write into their
    parameter and state operands, so that they bufferize in place.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def KilnResultsToSlots : Pass<"kiln-results-to-slots", "mlir::ModuleOp"> {
  let summary = "Make the steps write their results into caller buffers";
  let description = [{
    After bufferization, a step returns either one of its own arguments (a
    parameter or optimizer state updated in place) or a new buffer (the loss,
    the count of correct predictions). Results of the first kind are dropped;
    each of the second kind becomes a new argument, named by its result's
    attributes, that the step writes. The steps then return nothing and every
    buffer they touch is a slot of the program or scratch memory.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def KilnContiguousRuntimeOperands
    : Pass<"kiln-contiguous-runtime-operands", "mlir::ModuleOp"> {
  let summary = "Copy strided operands of runtime calls into contiguous buffers";
  let description = [{
    The runtime takes plain row-major buffers. A runtime call operand with
    another layout (a strided slice) is copied into a new buffer before the
    call, or, for an output, copied back after it.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def KilnStridedCopiesToLinalg
    : Pass<"kiln-strided-copies-to-linalg", "mlir::ModuleOp"> {
  let summary = "Turn copies between strided buffers into linalg.copy";
  let description = [{
    memref.copy between buffers of identity layout lowers to a memcpy, but
    one with a strided side lowers to a call of `memrefCopy`, a function of
    MLIR's C runner utilities that trainers do not link. Such copies become
    linalg.copy, which lowers to loops with the rest of linalg.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnPlanMemory : Pass<"kiln-plan-memory", "mlir::ModuleOp"> {
  let summary = "Place every buffer of a step in one arena, at fixed offsets";
  let description = [{
    Replaces each memref.alloc of a step by a view of one arena argument at an
    offset fixed at compile time. Offsets are reused by liveness: two buffers
    share bytes only if no operation uses both (aliases, such as reshapes and
    subviews, extend a buffer's life). The step gets the attributes
    `kiln.arena_bytes` (the arena's size) and `kiln.peak_bytes` (the most bytes
    live at once, a lower bound of any plan).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnLowerRuntimeCalls : Pass<"kiln-lower-runtime-calls", "mlir::ModuleOp"> {
  let summary = "Turn runtime calls into C calls and build the init function";
  let description = [{
    Each bufferized `kiln.runtime_call` becomes `kiln_rt_execute(site, args)`
    with the buffers' pointers in an array on the stack, and the new function
    `kiln_init` calls `kiln_rt_create(site, kind, n, config)` once for every
    site, with the configuration in a constant global.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def KilnDescribeProgram : Pass<"kiln-describe-program", "mlir::ModuleOp"> {
  let summary = "Describe the program's slots for the runtime";
  let description = [{
    Runs on the bufferized `train_step` and `eval_step`. The slots of the
    program are the training step's arguments in order (parameters, optimizer
    state, step counters, inputs, outputs, the arena), then the evaluation
    step's arguments that it lacks; the arena is as large as either step
    needs. Records the JSON description that kiln_runtime.h specifies as the
    module attribute `kiln.description`, and the slot of each argument of
    each step as `kiln.train_slots` and `kiln.eval_slots`.
  }];
}

def KilnEmitProgram : Pass<"kiln-emit-program", "mlir::ModuleOp"> {
  let summary = "Define kiln_compiled_program and the steps' frame entries";
  let description = [{
    Runs on the LLVM dialect, after the steps were converted with bare
    pointers for buffers. Adds `kiln_train_step` and `kiln_eval_step`, which
    take the frame (one pointer per slot) and call the steps with the
    pointers of their slots, and the global `kiln_compiled_program` with the
    description and the entry points.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // KILN_CONVERSION_PASSES_TD
