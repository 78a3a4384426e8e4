//===- KilnOptimizerOps.td - Parameter updates of the optimizers ----------===//

#ifndef KILN_OPTIMIZER_OPS_TD
#define KILN_OPTIMIZER_OPS_TD

include "Kiln/IR/KilnBase.td"

def Kiln_SGDOp : Kiln_InferredOp<"sgd", [Kiln_CountsFlops,
                                          Kiln_ParameterUpdateOpInterface]> {
  let summary = "One step of stochastic gradient descent, as torch.optim.SGD";
  let description = [{
    Updates `param` with its gradient `grad` at learning rate `lr`, exactly as
    one `torch.optim.SGD.step()` does (the `maximize=False` case):

    ```
    g = grad + weight_decay * param
    if momentum != 0:
      buf = g if step == 1 else momentum * buf + (1 - dampening) * g
      g = g + momentum * buf if nesterov else buf
    param = param - lr * g
    ```

    `step` counts updates from 1. The momentum buffer is the last operand and
    the second result exactly when `momentum` is not zero. Nesterov momentum needs a positive
    momentum and zero dampening, as in PyTorch.

    Example:

    ```mlir
    %p1, %buf1 = kiln.sgd %p, %g, %lr, %step, %buf {momentum = 9.0e-01 : f64}
        : (tensor<128xf32>, tensor<128xf32>, tensor<f32>, tensor<i64>, tensor<128xf32>)
        -> (tensor<128xf32>, tensor<128xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$param, Kiln_FloatTensor:$grad,
                       Kiln_FloatScalar:$lr, Kiln_IndexScalar:$step,
                       Optional<Kiln_FloatTensor>:$momentum_buffer,
                       DefaultValuedAttr<F64Attr, "0.0">:$momentum,
                       DefaultValuedAttr<F64Attr, "0.0">:$dampening,
                       DefaultValuedAttr<F64Attr, "0.0">:$weight_decay,
                       DefaultValuedAttr<BoolAttr, "false">:$nesterov);
  let results = (outs Kiln_FloatTensor:$new_param,
                      Optional<Kiln_FloatTensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $lr `,` $step (`,` $momentum_buffer^)? attr-dict
    `:` functional-type(operands, results)
  }];
}

class Kiln_AdamLikeOp<string mnemonic, string torchName, string decay,
                      string defaultDecay>
    : Kiln_InferredOp<mnemonic, [Kiln_CountsFlops,
                                 Kiln_ParameterUpdateOpInterface]> {
  let summary = "One step of " # torchName;
  let description = [{
    Updates `param` and its moment estimates `exp_avg` and `exp_avg_sq` with
    the gradient `grad`, exactly as one `torch.optim.}] # torchName # [{.step()`
    does (`amsgrad=False`, `maximize=False`). `step` is the number of this
    update, counting from 1; it drives the bias corrections:

    ```
    }] # decay # [{
    exp_avg    = beta1 * exp_avg + (1 - beta1) * g
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
    denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + epsilon
    param = param - (lr / (1 - beta1^step)) * exp_avg / denom
    ```

    Example:

    ```mlir
    %p1, %m1, %v1 = kiln.}] # mnemonic # [{ %p, %g, %m, %v, %lr, %step
        : (tensor<10x256xf32>, tensor<10x256xf32>, tensor<10x256xf32>,
           tensor<10x256xf32>, tensor<f32>, tensor<i64>)
        -> (tensor<10x256xf32>, tensor<10x256xf32>, tensor<10x256xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$param, Kiln_FloatTensor:$grad,
                       Kiln_FloatTensor:$exp_avg, Kiln_FloatTensor:$exp_avg_sq,
                       Kiln_FloatScalar:$lr, Kiln_IndexScalar:$step,
                       DefaultValuedAttr<F64Attr, "0.9">:$beta1,
                       DefaultValuedAttr<F64Attr, "0.999">:$beta2,
                       DefaultValuedAttr<F64Attr, "1.0e-8">:$epsilon,
                       DefaultValuedAttr<F64Attr, defaultDecay>:$weight_decay);
  let results = (outs Kiln_FloatTensor:$new_param, Kiln_FloatTensor:$new_exp_avg,
                      Kiln_FloatTensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq `,` $lr `,` $step attr-dict
    `:` functional-type(operands, results)
  }];
}

def Kiln_AdamOp : Kiln_AdamLikeOp<"adam", "Adam",
    "g = grad + weight_decay * param", "0.0">;
def Kiln_AdamWOp : Kiln_AdamLikeOp<"adamw", "AdamW",
    "param = param * (1 - lr * weight_decay); g = grad", "1.0e-2">;

def Kiln_LearningRateOp : Kiln_InferredOp<"learning_rate"> {
  let summary = "The learning rate of a schedule at a step";
  let description = [{
    The learning rate for update number `step` (counting from 1) of a run of
    `total_steps` updates, as an f32 scalar. With `k = step - 1`:

    * a linear warm-up first: for `k < warmup`, the rate is multiplied by
      `(k + 1) / warmup`;
    * `constant`: `lr`;
    * `step`: `lr * gamma^floor(k / every)`;
    * `cosine`: after the warm-up, `min_lr + (lr - min_lr) * (1 + cos(pi * t / T)) / 2`
      with `t = k - warmup` and `T = total_steps - warmup`.

    Example:

    ```mlir
    %lr = kiln.learning_rate %step, %total {schedule = "cosine", lr = 1.0e-03 : f64,
                                            warmup = 100 : i64}
        : (tensor<i64>, tensor<i64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Kiln_IndexScalar:$step, Kiln_IndexScalar:$total_steps,
                       StrAttr:$schedule, F64Attr:$lr,
                       DefaultValuedAttr<I64Attr, "0">:$warmup,
                       DefaultValuedAttr<I64Attr, "1">:$every,
                       DefaultValuedAttr<F64Attr, "0.1">:$gamma,
                       DefaultValuedAttr<F64Attr, "0.0">:$min_lr);
  let results = (outs Kiln_FloatScalar:$result);
  let assemblyFormat = [{
    $step `,` $total_steps attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_AccumulateOp : Kiln_Op<"accumulate", [SameOperandsAndResultType,
                                                InferTypeOpInterface]> {
  let summary = "Adds a term to a running sum, in the sum's place";
  let description = [{
    Returns `sum + term`, element by element, as `kiln.add` does for operands
    of one type; the training step sums the gradients of its micro-batches
    with it (the recipe's `accumulate`). It lowers in destination-passing
    style, the sum as the result's destination: bufferization grows the sum
    in one buffer, and elementwise fusion, which fuses the producers of
    inputs only, leaves each addition where it is. A chain of `kiln.add`
    would be fused into one addition at the end, keeping every term alive
    until then.

    Example:

    ```mlir
    %s2 = kiln.accumulate %s1, %g2 : tensor<10x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$sum, Kiln_FloatTensor:$term);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$sum `,` $term attr-dict `:` type($result)";
}

def Kiln_ClipGradNormOp : Kiln_InferredOp<"clip_grad_norm"> {
  let summary = "Scales gradients down to a maximum global norm";
  let description = [{
    Computes the L2 norm of all `grads` taken together and, as
    `torch.nn.utils.clip_grad_norm_` does, multiplies every gradient by
    `min(1, max_norm / (norm + 1e-6))`. Results are the scaled gradients, in
    order.

    Example:

    ```mlir
    %g0, %g1 = kiln.clip_grad_norm %dw, %db {max_norm = 1.0 : f64}
        : (tensor<10x128xf32>, tensor<10xf32>) -> (tensor<10x128xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins Variadic<Kiln_FloatTensor>:$grads, F64Attr:$max_norm);
  let results = (outs Variadic<Kiln_FloatTensor>:$results);
  let assemblyFormat =
      "$grads attr-dict `:` functional-type(operands, results)";
}

def Kiln_AllReduceOp : Kiln_InferredOp<"all_reduce", [Kiln_RuntimeKernel]> {
  let summary = "The mean of tensors over the ranks of a data-parallel run";
  let description = [{
    Each result is the mean, over the N processes (ranks) of a data-parallel
    run, of the rank's value of its operand, as PyTorch's
    DistributedDataParallel averages gradients. The operands are one
    `bucket`: they are reduced together, in one message, which may start as
    soon as all of them are computed and must end before any result is used,
    so that it overlaps with the work in between. In a run of one process it
    is the identity.

    kiln-reduce-gradients makes these from the gradients of a training step.

    Example:

    ```mlir
    %r0, %r1 = kiln.all_reduce %dw, %db {bucket = 0 : i64}
        : (tensor<10x128xf32>, tensor<10xf32>) -> (tensor<10x128xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins Variadic<Kiln_FloatTensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$bucket);
  let results = (outs Variadic<Kiln_FloatTensor>:$results);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_OPTIMIZER_OPS_TD
