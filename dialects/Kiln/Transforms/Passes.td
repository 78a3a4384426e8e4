//===- Passes.td - Passes over the kiln dialect ---------------------------===//

#ifndef KILN_TRANSFORMS_PASSES_TD
#define KILN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnShapeInference : Pass<"kiln-shape-inference", "mlir::func::FuncOp"> {
  let summary = "Refine dynamic sizes of kiln results to the inferred ones";
  let description = [{
    Walks each function in order and gives every kiln result the most static
    type its operands allow (the op's `inferReturnTypes`), then updates the
    function's result types to what it returns. Lowering needs static shapes,
    so hand-written IR can leave sizes as `?` and let this pass fill them in.
    With `require-static`, a result that stays dynamic is an error.
  }];
  let dependentDialects = ["::kiln::KilnDialect", "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"requireStatic", "require-static", "bool", /*default=*/"false",
           "Fail when a kiln result keeps a dynamic size">
  ];
}

def KilnAutocast : Pass<"kiln-autocast", "mlir::ModuleOp"> {
  let summary = "Mixed precision: the heavy ops run on bfloat16 values";
  let description = [{
    With the module's `kiln.recipe` saying `precision = "bf16"` (a Kiln
    file's `precision = bf16`, or `kilnc --precision=bf16`), rounds the
    float32 operands and results of every op with the LowerPrecisionCompute
    trait (convolutions, matrix products, LSTM, GRU, attention) to bfloat16
    with `kiln.reduce_precision`, in the model function, as
    `torch.autocast("cpu", dtype=torch.bfloat16)` casts them: their products
    multiply bfloat16 values and accumulate in float32. Everything else
    (elementwise code, normalizations, softmax, the loss) stays float32, and
    so do the parameters, their gradients and the optimizer's state: the
    rounded weights are copies, the master weights are not touched.

    It runs before kiln-autodiff, so the backward follows from the adjoint of
    `kiln.reduce_precision`: the gradient products take the rounded values,
    and each gradient of a rounded value is rounded, as the gradient of a
    bfloat16 tensor is one in PyTorch. A value is rounded once, however many
    ops use it, and a value that is bfloat16 already is not rounded again: a
    rounding, or what an op with the SelectsElements trait (reshapes,
    transposes, slices, concatenation, relu) selects of such values, since
    rounding commutes with those ops and their adjoints. The pass may run
    twice.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnAutodiff : Pass<"kiln-autodiff", "mlir::ModuleOp"> {
  let summary = "Build the gradient function of every function with a loss";
  let description = [{
    For each function with a result named `kiln.output = "loss"`, adds
    `<name>_grad`: the same arguments and results, followed by the gradient of
    the loss with respect to each differentiated argument (`kiln.grad` names
    it). Reverse mode at compile time: each op states its adjoint through
    `DifferentiableOpInterface`, one generic driver applies the rules in
    reverse order, summing the gradients of values used more than once and
    asking each op only for the operand gradients that are needed.

    A function that has a gradient function already (`kiln.gradient_of`) is
    left alone, and so is a module that has its `train_step` (whose
    backward is in it), so that the pass may run again on a later stage
    read back.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"wrt", "wrt", "std::string", /*default=*/"\"params\"",
           "Differentiate with respect to 'params' (arguments with "
           "kiln.param) or 'all' (every float argument)">
  ];
}

def KilnBuildPredictStep : Pass<"kiln-build-predict-step", "mlir::ModuleOp"> {
  let summary = "Build the forward of a trained model, without loss or metric";
  let description = [{
    From the model function (the one function that is neither a step nor a
    gradient), builds `@predict_step(params..., inputs...)` returning the
    model's outputs (its results other than `kiln.output = "loss"` and
    `"correct"`), with dropout off. The inputs that only the loss and the
    metric read (the labels) are not arguments, so that a trained model runs
    on unlabelled inputs: `trainer predict`, `trainer generate` and the
    inference library (`kilnc --emit=lib`) run this function.

    With `erase-model`, the model function itself is removed. A module that
    has its `@predict_step` already (a later stage read back, as
    `kilnc s.mlir` does) is left as it is, but for that removal.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"eraseModel", "erase-model", "bool", /*default=*/"false",
           "Remove the model function once the step is built">
  ];
}

def KilnBuildTrainStep : Pass<"kiln-build-train-step", "mlir::ModuleOp"> {
  let summary = "Build the training step and the evaluation step";
  let description = [{
    From the model function (the one with a result named
    `kiln.output = "loss"`) and the module's `kiln.recipe`, builds:

    * `@train_step(params..., state..., step, total_steps, inputs...)` returning
      the updated parameters and optimizer state, the loss, the number of
      correct predictions and the learning rate used: forward, loss, backward
      (as kiln-autodiff), the
      learning rate of the schedule at `step`, gradient clipping by global
      norm, and the optimizer update, all with torch.optim's semantics.
      Parameters are updated in place in the sense that each new parameter is
      returned under the name of the old one (`kiln.param`); optimizer state
      is named `kiln.state = "<param>.momentum_buffer"` (SGD with momentum) or
      `"<param>.exp_avg"` and `"<param>.exp_avg_sq"` (Adam, AdamW). `step`
      counts updates from 1 and also drives dropout.

      With the recipe's `accumulate = k` (k > 1), each input holds k
      micro-batches of the model's batch size, one after another: the step
      slices them, runs forward and backward on each in turn (batch norm's
      running statistics pass from one to the next), and updates once with
      the mean of their gradients, as PyTorch does with k backward passes of
      `loss / k` before `optimizer.step()`.

      The backward is the model's gradient function when the module has one
      (`kiln.gradient_of`, as kiln-autodiff builds it with respect to the
      parameters, perhaps changed since by a pass of one's own); else the
      pass builds it. The loss is the micro-batches'
      mean and `correct` counts over all of them; dropout draws a mask of
      its own for each micro-batch.
    * `@eval_step(params..., inputs...)` returning the loss, the number of
      correct predictions and the predicted class of each example, with
      dropout off.

    With `erase-model`, the model function itself is removed: a trainer needs
    only the two steps. A module that has its `@train_step` already is left
    as it is, but for that removal.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"eraseModel", "erase-model", "bool", /*default=*/"false",
           "Remove the model function once the steps are built">
  ];
}

def KilnReduceGradients
    : Pass<"kiln-reduce-gradients", "mlir::func::FuncOp"> {
  let summary = "Average the gradients of a training step over data-parallel ranks";
  let description = [{
    For data-parallel training: in a function with optimizer updates (the
    training step), every gradient that reaches an update, or the
    `kiln.clip_grad_norm` before the updates (whose norm is then that of the
    averaged gradients, as with PyTorch's DistributedDataParallel), goes
    through `kiln.all_reduce` first. The gradients are packed into buckets
    of at most `bucket-bytes` (one larger gradient makes a bucket of its
    own), in the order the backward pass computes them, and each bucket is
    placed right after its last gradient, so that its reduction can run while
    the rest of the backward pass does: PyTorch DDP's gradient buckets and
    Horovod's tensor fusion. The function's `kiln.reduced_bytes` and
    `kiln.reduced_buckets` record the bytes and the buckets that one call
    reduces.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
  let options = [
    Option<"bucketBytes", "bucket-bytes", "int64_t", /*default=*/"25 << 20",
           "The most bytes of gradients reduced in one message">
  ];
}

def KilnAnnotateSteps : Pass<"kiln-annotate-steps", "mlir::ModuleOp"> {
  let summary = "Record what the runtime needs to know of the steps";
  let description = [{
    Gives every function `kiln.flops`, the floating-point operations of one
    call (KilnFlops.cpp says how they are counted); `kiln.bf16_bytes` to a
    function with mixed precision, the bytes of the values it rounds to
    bfloat16 (`kiln.reduce_precision`) as bfloat16 would store them; and
    each i64 input
    argument `kiln.range`: the exclusive upper bound of the values its uses
    accept (class labels of a loss, ids of an embedding or one-hot encoding),
    which the trainer checks when it loads the data; and `kiln.ignore_index`
    when every use also accepts that value outside the range: the label that
    cross_entropy ignores (PyTorch's default -100), where the values are only
    labels.
  }];
}

#endif // KILN_TRANSFORMS_PASSES_TD
