//===- Passes.td - Conversions of kiln to the runtime and to LLVM ---------===//

#ifndef KILN_CONVERSION_PASSES_TD
#define KILN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnMaskReluGradients : Pass<"kiln-mask-relu-gradients", "mlir::ModuleOp"> {
  let summary = "Make relu gradients read what the runtime's calls produce";
  let description = [{
    Runs before kiln-lower-to-runtime. Relu gradients read the relu's result
    rather than its input (the same mask), so that the input is not kept
    alive for them: a relu that is then the only use of a convolution's or a
    product's result becomes the call's post-op. A relu gradient of a max
    pooling's input gradient masks the pooling's output gradient by the
    pooled values instead (the same values, on a tensor a window's size
    smaller), before the pooling's backward.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnLowerToRuntime : Pass<"kiln-lower-to-runtime", "mlir::ModuleOp"> {
  let summary = "Turn heavy kiln ops into calls of the runtime's primitives";
  let description = [{
    The ops of trait `RuntimeKernel` (convolutions, pooling, matrix products
    and linear layers, softmax, layer and batch normalization, LSTMs and
    attention, forward and backward) become `kiln.runtime_call` ops:
    destination-style calls whose static configuration the runtime reads
    once, when the program starts; an op of that trait left unlowered is an
    error. Sites are numbered across the module. A backward site that needs
    what its forward computed (max pooling's argmax workspace, the LSTM's,
    batch normalization's batch statistics) is paired with the forward site
    on the same operands, and a max pooling's forward site keeps its
    workspace only when a backward site pairs with it.

    A training batch normalization's site returns the batch's mean and
    biased variance; the running statistics' update around it stays kiln
    ops (`BatchNormOp::buildRunningStatistics`).

    A `kiln.all_reduce` becomes two sites, so that the bucket travels while
    the step goes on: `all_reduce_start` where it was (right after the
    bucket's last gradient), whose results are the buffers that
    `all_reduce_wait`, placed right before the first use of a mean, fills
    in place; the memory plan then keeps them live in between.

    Calls absorb the ops that oneDNN computes in the same pass: a relu that
    is the only use of a convolution's, a product's or a batch
    normalization's result becomes the call's relu post-op (for batch
    normalization in training, with a workspace that its backward site
    masks the gradient by, absorbing the relu's gradient), and the sum of a
    convolution's output gradient over N, H and W (its bias gradient) a
    second result of the weight gradient's call.
  }];
  let dependentDialects = ["::kiln::KilnDialect", "::mlir::tensor::TensorDialect"];
}

def KilnAssignRuntimeLayouts
    : Pass<"kiln-assign-runtime-layouts", "mlir::ModuleOp"> {
  let summary = "Keep tensors between convolutions, poolings and batch norms blocked";
  let description = [{
    Runs after kiln-lower-to-runtime. Tensors of a multiple of 8 channels
    that only go from one convolution or pooling call to another, directly
    or through elementwise ops whose operands all have the result's type,
    stay in oneDNN's blocked layout (`kiln_runtime.h`), which spares the
    reorders around each call. Each convolution and pooling call gets the
    mask of its blocked arguments as the last value of its configuration;
    function arguments and results, and whatever another op reads, stay
    plain.
  }];
}

def KilnLowerToLinalg : Pass<"kiln-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower the remaining kiln ops to linalg, tensor, arith and math";
  let description = [{
    Elementwise ops (with broadcasting; each op's ElementwiseOpInterface
    builds the body), reductions, data movement, losses, dropout, the
    optimizer updates, the learning-rate schedule and gradient clipping
    become linalg.generic and friends on tensors, ready for elementwise
    fusion and bufferization. Optimizer updates write into their parameter
    and state operands, so that they bufferize in place.
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

def KilnCollapseLoops : Pass<"kiln-collapse-loops", "mlir::ModuleOp"> {
  let summary = "Merge consecutive loops of linalg ops on contiguous buffers";
  let description = [{
    Runs on linalg ops on buffers (named ops are generalized first). Two
    consecutive loops of one kind merge when every operand indexes both, as
    consecutive dimensions of its buffer that are contiguous with each other
    (the outer dimension's stride is the inner one's times its size), or
    neither. An elementwise op on a [64, 32, 32, 32] buffer becomes one loop
    of 2M iterations: after kiln-outline-parallel-loops and lowering to
    loops, a contiguous innermost loop that LLVM vectorizes with unit stride,
    instead of short loops that it unrolls and vectorizes across with
    gathers.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnOutlineParallelLoops
    : Pass<"kiln-outline-parallel-loops", "mlir::ModuleOp"> {
  let summary = "Move large linalg ops into bodies that threads share";
  let description = [{
    A linalg op on buffers of at least 16384 iterations moves into a new
    private function `<step>_parallel_<n>(begin, end, captures...)` with the
    attribute `kiln.parallel_body`, which runs the op on [begin, end) of one
    of its parallel loops (among those that each operand indexes by a plain
    dimension or not at all and every output indexes, so that threads write
    apart, the outermost of at least 64 iterations, or else the longest):
    the buffers
    that the loop indexes are sliced with memref.subview, and linalg.index
    of the loop is offset by begin. The step calls the function over the
    whole loop, passing the scalars and buffers that the op uses; views and
    constants that cannot be passed with bare pointers (a dynamic layout)
    are copied into the function instead. kiln-lower-parallel-calls then
    splits the calls across the runtime's threads. Every output element is
    still computed by one thread, in its original order.

    A step with more than `max-inline-ops` linalg ops also moves each of
    its other ops into a private function `<step>_op_<n>(captures...)`,
    called once in its place and marked `noinline`: LLVM's loop analyses
    take time quadratic in the loops of one function (a 200-layer MLP's
    step took 14 s to compile in one function, 10 s in one per op, and the
    gap grows with the depth), while a short step keeps its loops together.

    Each buffer argument of a new function that overlaps none of its other
    buffer arguments (or only ones that neither it nor they write) is
    `llvm.noalias`. Buffers are proved apart from the step's slots
    (`kiln.<step>_slots`, kiln-describe-program: each slot is allocated on
    its own, but an inference library's inputs and outputs are the
    caller's) and from the byte offsets of kiln-plan-memory's views of the
    arena. LLVM then vectorizes the op without run-time overlap checks and
    the scalar copies of the loops that they guard: the Transformer's LLVM
    IR shrinks by a fifth.
  }];
  let options = [
    Option<"maxInlineOps", "max-inline-ops", "unsigned", /*default=*/"64",
           "The most linalg ops that a step keeps in its own body">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnLowerParallelCalls
    : Pass<"kiln-lower-parallel-calls", "mlir::ModuleOp"> {
  let summary = "Run the calls of parallel bodies with kiln_rt_parallel_for";
  let description = [{
    Runs on the LLVM dialect, after the bodies that
    kiln-outline-parallel-loops made were converted with bare pointers. Each
    body gets a task `<body>_task(context, begin, end)` that loads the
    body's arguments from a struct at `context` and calls the body on
    [start + begin, start + end), start being the struct's begin. Each call
    of a body stores its arguments into such a struct on the caller's stack
    and calls `kiln_rt_parallel_for(task, struct, end - start)`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnNameConstants : Pass<"kiln-name-constants", "mlir::ModuleOp"> {
  let summary = "Name and place constant globals by their first use";
  let description = [{
    Renames the private constant `memref.global`s that One-Shot Bufferize
    made (`__constant_<type>`, then `_0`, `_1`, ... for more of one type) in
    the order of their first `memref.get_global` in the module, and moves
    them, in that order, to the top of the module. One-Shot Bufferize names
    them in the order it bufferizes the functions, which MLIR 22 draws from a
    DenseMap of function pointers: without this pass, the same input
    bufferized twice may name and place the globals differently.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
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
    pointers for buffers. Adds a frame entry for each step that
    kiln-describe-program described (`kiln_train_step`, `kiln_eval_step`,
    `kiln_predict_step`), which takes the frame (one pointer per slot) and
    calls the step with the pointers of its slots, and the global
    `kiln_compiled_program` with the description and the entry points (null
    for the steps that the module lacks).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnEmitLibraryApi : Pass<"kiln-emit-library-api", "mlir::ModuleOp"> {
  let summary = "Define the exported C API of an inference library";
  let description = [{
    Runs after kiln-emit-program on a program whose only step is
    `predict_step` (kilnc --emit=lib). Defines `<prefix>_load(path,
    threads)`, `<prefix>_run(model, inputs..., outputs...)`,
    `<prefix>_last_error()` and `<prefix>_free(model)`, which call the
    runtime's `kiln_model_*` with the program, and makes
    `kiln_compiled_program` internal, so that an application may link the
    libraries of several models. The inputs and outputs of `_run` are those
    of the prediction step in the description, in order; kilnc writes the
    matching C header from the same description.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"prefix", "prefix", "std::string", /*default=*/"",
           "The prefix of the functions (default: the model's name)">
  ];
}

#endif // KILN_CONVERSION_PASSES_TD
