//===- KilnNNOps.td - Layers and losses of neural networks ----------------===//

#ifndef KILN_NN_OPS_TD
#define KILN_NN_OPS_TD

include "Kiln/IR/KilnBase.td"

def Kiln_Conv2DOp
    : Kiln_InferredOp<"conv2d", [Kiln_Differentiable, Kiln_CountsFlops,
                                Kiln_RuntimeKernel,
                                Kiln_LowerPrecisionCompute]> {
  let summary = "2-D convolution of NCHW images with OIHW filters";
  let description = [{
    Convolves `input` `[N, C, H, W]` with `weight` `[O, C, KH, KW]` and adds
    the optional `bias` `[O]`, as `torch.nn.functional.conv2d`. `padding`
    zero-pads both sides of H and W; `stride` and `dilation` are per spatial
    dimension. The result is `[N, O, OH, OW]` with
    `OH = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0] + 1`
    (and likewise OW).

    Example:

    ```mlir
    %y = kiln.conv2d %x, %w, %b {padding = array<i64: 1, 1>}
        : (tensor<64x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>)
        -> tensor<64x32x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       Kiln_DefaultPair<"{1, 1}">:$stride,
                       Kiln_DefaultPair<"{0, 0}">:$padding,
                       Kiln_DefaultPair<"{1, 1}">:$dilation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

class Kiln_Pool2DOp<string mnemonic, string what, dag extraArgs = (ins),
                    string extraDescription = "">
    : Kiln_InferredOp<mnemonic, [Kiln_Differentiable, Kiln_CountsFlops,
                                 Kiln_RuntimeKernel]> {
  let summary = "2-D " # what # " pooling of NCHW images";
  let description = [{
    Takes the }] # what # [{ of each `kernel` window of `input` `[N, C, H, W]`,
    moving by `stride` (the kernel size when absent) over the input zero-padded
    (for max pooling: padded with -infinity) by `padding` on both sides. Padding
    may be at most half the kernel. Output sizes round down, as PyTorch's with
    `ceil_mode=False`.}] # extraDescription # [{

    Example:

    ```mlir
    %p = kiln.}] # mnemonic # [{ %x {kernel = array<i64: 2, 2>}
        : (tensor<64x32x28x28xf32>) -> tensor<64x32x14x14xf32>
    ```
  }];
  let arguments = !con((ins Kiln_FloatTensor:$input,
                            Kiln_Pair:$kernel,
                            Kiln_OptionalPair:$stride,
                            Kiln_DefaultPair<"{0, 0}">:$padding), extraArgs);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// The stride, which defaults to the kernel size.
    ::llvm::ArrayRef<int64_t> getEffectiveStride() {
      return getStride() ? *getStride() : getKernel();
    }
  }];
}

def Kiln_MaxPool2DOp : Kiln_Pool2DOp<"max_pool2d", "maximum">;
def Kiln_AvgPool2DOp : Kiln_Pool2DOp<"avg_pool2d", "average",
    (ins DefaultValuedAttr<BoolAttr, "true">:$count_include_pad), [{ With
    `count_include_pad` (the default, as in PyTorch) the average divides by the
    full kernel size; without it, by the number of unpadded elements.}]>;

def Kiln_LinearOp
    : Kiln_InferredOp<"linear", [Kiln_Differentiable, Kiln_CountsFlops,
                                Kiln_RuntimeKernel,
                                Kiln_LowerPrecisionCompute]> {
  let summary = "Affine map y = x W^T + b";
  let description = [{
    Applies `weight` `[OUT, IN]` and the optional `bias` `[OUT]` to the last
    dimension of `input` `[..., IN]`, giving `[..., OUT]`, as
    `torch.nn.functional.linear`.

    Example:

    ```mlir
    %h = kiln.linear %x, %w, %b
        : (tensor<64x3136xf32>, tensor<128x3136xf32>, tensor<128xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$weight,
                       Optional<Kiln_FloatTensor>:$bias);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_LayerNormOp
    : Kiln_InferredOp<"layer_norm", [AttrSizedOperandSegments,
                                     Kiln_Differentiable, Kiln_CountsFlops,
                                     Kiln_RuntimeKernel]> {
  let summary = "Layer normalization over the trailing dimensions";
  let description = [{
    Normalizes `input` to zero mean and unit variance (biased variance, plus
    `epsilon`) over the dimensions from `axis` to the last, then applies the
    optional elementwise `weight` and `bias`, whose shape is those dimensions,
    as `torch.nn.functional.layer_norm` with `normalized_shape = shape[axis:]`.
    A bias needs a weight (one extra operand is the weight).

    Example:

    ```mlir
    %y = kiln.layer_norm %x, %gamma, %beta {epsilon = 1.0e-05 : f64}
        : (tensor<64x16x256xf32>, tensor<256xf32>, tensor<256xf32>) -> tensor<64x16x256xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Optional<Kiln_FloatTensor>:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_DropoutOp : Kiln_InferredOp<"dropout", [Kiln_Differentiable,
    Kiln_RandomOpInterface,
    DeclareOpInterfaceMethods<Kiln_TrainingModeOpInterface>]> {
  let summary = "Seeded, counter-based dropout";
  let description = [{
    Zeroes each element with probability `p` and scales the others by
    `1 / (1 - p)`. Element `i` (in row-major order) is kept when
    `kiln_uniform(seed, counter, i) >= p`, a pure function of `seed`, the
    scalar `counter` (the training step, so that each step draws a new mask)
    and `i` defined in the runtime's `kiln/Random.h`: the same program and
    inputs always give the same result, on any backend. Applying the same
    dropout to a gradient is its adjoint.

    Example:

    ```mlir
    %y = kiln.dropout %x, %step {p = 1.0e-01 : f64, seed = 7 : i64}
        : (tensor<64x16x256xf32>, tensor<i64>) -> tensor<64x16x256xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_IndexScalar:$counter,
                       F64Attr:$p, DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $counter attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_BatchNormOp : Kiln_InferredOp<"batch_norm", [AttrSizedOperandSegments,
    Kiln_Differentiable, Kiln_RuntimeKernel,
    DeclareOpInterfaceMethods<Kiln_TrainingModeOpInterface>]> {
  let summary = "Batch normalization with running statistics";
  let description = [{
    Normalizes each channel of `input` `[N, C, ...]` (dimension 1) to zero
    mean and unit variance, then applies the optional per-channel `weight`
    and `bias` `[C]`, as `torch.nn.BatchNorm1d/2d` (`affine` when the weight
    and bias are given; a bias needs a weight).

    In training (`training = true`, the default) the statistics are the
    batch's: the mean and biased variance over every dimension but the
    channel. The running statistics are updated as PyTorch does:
    `running_mean' = (1 - momentum) * running_mean + momentum * mean`, the
    same for `running_var` with the unbiased variance (`n / (n - 1)` times the
    biased one, `n` the elements per channel), and
    `num_batches_tracked' = num_batches_tracked + 1`.

    In evaluation (`training = false`) the input is normalized with
    `running_mean` and `running_var`, which are returned unchanged.

    With `ranks` > 1 the batch normalization is synchronized, as PyTorch's
    `SyncBatchNorm`, over a data-parallel run of `ranks` processes, each
    normalizing an `input` of this shape: the training statistics are those
    of all the ranks' batches together (the runtime adds each channel's sums
    over the ranks), `n` counts the elements of them all, and
    `kiln.batch_norm_backward` adds its sums over the ranks too. In
    evaluation it normalizes with the running statistics, as without.

    Example:

    ```mlir
    %y, %mean, %var, %count = kiln.batch_norm %x, %rm, %rv, %n, %w, %b
        {epsilon = 1.0e-05 : f64, momentum = 1.0e-01 : f64}
        : (tensor<64x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<i64>,
           tensor<16xf32>, tensor<16xf32>)
        -> (tensor<64x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<i64>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Kiln_FloatTensor:$running_mean,
                       Kiln_FloatTensor:$running_var,
                       Kiln_IndexScalar:$num_batches_tracked,
                       Optional<Kiln_FloatTensor>:$weight,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon,
                       DefaultValuedAttr<F64Attr, "0.1">:$momentum,
                       DefaultValuedAttr<BoolAttr, "true">:$training,
                       Kiln_StatisticsRanks:$ranks);
  let results = (outs Kiln_FloatTensor:$result,
                      Kiln_FloatTensor:$new_running_mean,
                      Kiln_FloatTensor:$new_running_var,
                      Kiln_IndexScalar:$new_num_batches_tracked);
  let assemblyFormat = [{
    $input `,` $running_mean `,` $running_var `,` $num_batches_tracked
    (`,` $weight^)? (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];  let extraClassDeclaration = [{
    /// The running statistics and count after a training step whose batch
    /// had `mean` and biased `variance` ([C]): PyTorch's momentum update,
    /// with the unbiased variance. Every backend builds them here.
    std::tuple<::mlir::Value, ::mlir::Value, ::mlir::Value>
    buildRunningStatistics(::mlir::OpBuilder &builder, ::mlir::Value mean,
                           ::mlir::Value variance);
  }];
}

def Kiln_LSTMOp
    : Kiln_InferredOp<"lstm", [Kiln_Differentiable, Kiln_CountsFlops,
                              Kiln_RuntimeKernel, Kiln_LowerPrecisionCompute]> {
  let summary = "Multi-layer LSTM over batch-first sequences";
  let description = [{
    Runs `num_layers` stacked LSTM layers of `hidden_size` units over `input`
    `[B, T, I]`, from zero initial states, as `torch.nn.LSTM(I, hidden_size,
    num_layers, batch_first=True)`. `weights` holds, for each layer `l` in
    order, `weight_ih_l{l}` `[4H, in]`, `weight_hh_l{l}` `[4H, H]`,
    `bias_ih_l{l}` `[4H]` and `bias_hh_l{l}` `[4H]`, with the gates ordered
    i, f, g, o as in PyTorch. Results: the last layer's hidden state at every
    step `[B, T, H]`, and the final hidden and cell states `[L, B, H]`.

    Example:

    ```mlir
    %out, %h, %c = kiln.lstm %x, %wi0, %wh0, %bi0, %bh0
        {hidden_size = 256 : i64, num_layers = 1 : i64}
        : (tensor<64x16x100xf32>, tensor<1024x100xf32>, tensor<1024x256xf32>,
           tensor<1024xf32>, tensor<1024xf32>)
        -> (tensor<64x16x256xf32>, tensor<1x64x256xf32>, tensor<1x64x256xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Variadic<Kiln_FloatTensor>:$weights,
                       I64Attr:$hidden_size, I64Attr:$num_layers);
  let results = (outs Kiln_FloatTensor:$output, Kiln_FloatTensor:$final_hidden,
                      Kiln_FloatTensor:$final_cell);
  let assemblyFormat = [{
    $input `,` $weights attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_GRUOp
    : Kiln_InferredOp<"gru", [Kiln_Differentiable, Kiln_CountsFlops,
                             Kiln_RuntimeKernel, Kiln_LowerPrecisionCompute]> {
  let summary = "Multi-layer GRU over batch-first sequences";
  let description = [{
    Runs `num_layers` stacked GRU layers of `hidden_size` units over `input`
    `[B, T, I]`, from a zero initial state, as `torch.nn.GRU(I, hidden_size,
    num_layers, batch_first=True)`. `weights` holds, for each layer `l` in
    order, `weight_ih_l{l}` `[3H, in]`, `weight_hh_l{l}` `[3H, H]`,
    `bias_ih_l{l}` `[3H]` and `bias_hh_l{l}` `[3H]`, with the gates ordered
    r, z, n as in PyTorch:

    ```
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
    ```

    Results: the last layer's hidden state at every step `[B, T, H]`, and
    the final hidden state of every layer `[L, B, H]`.

    Example:

    ```mlir
    %out, %h = kiln.gru %x, %wi0, %wh0, %bi0, %bh0
        {hidden_size = 256 : i64, num_layers = 1 : i64}
        : (tensor<64x16x100xf32>, tensor<768x100xf32>, tensor<768x256xf32>,
           tensor<768xf32>, tensor<768xf32>)
        -> (tensor<64x16x256xf32>, tensor<1x64x256xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       Variadic<Kiln_FloatTensor>:$weights,
                       I64Attr:$hidden_size, I64Attr:$num_layers);
  let results = (outs Kiln_FloatTensor:$output, Kiln_FloatTensor:$final_hidden);
  let assemblyFormat = [{
    $input `,` $weights attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_AttentionOp
    : Kiln_InferredOp<"attention", [Kiln_Differentiable, Kiln_CountsFlops,
                                   Kiln_RuntimeKernel, Kiln_LowerPrecisionCompute,
                                   Kiln_RandomOpInterface,
        DeclareOpInterfaceMethods<Kiln_TrainingModeOpInterface>]> {
  let summary = "Scaled dot-product attention";
  let description = [{
    Computes `softmax(query key^T * scale) value` over the last two dimensions,
    for `query` `[B..., L, E]`, `key` `[B..., S, E]` and `value` `[B..., S, EV]`
    with equal batch dimensions, giving `[B..., L, EV]`. `scale` defaults to
    `1 / sqrt(E)`. With `causal`, position `l` attends only to positions
    `s <= l`, as `torch.nn.functional.scaled_dot_product_attention` with
    `is_causal=True`.

    With `dropout` `p > 0`, the probabilities are dropped out before they
    weigh the values, as `scaled_dot_product_attention(dropout_p=p)` and
    `torch.nn.MultiheadAttention(dropout=p)` do in training: probability `i`
    of the `[B..., L, S]` weights (in row-major order) is kept when
    `kiln_uniform(seed, counter, i) >= p`, exactly as `kiln.dropout` draws,
    and scaled by `1 / (1 - p)`. The scalar `counter` (the training step) is
    given exactly when `p > 0`. In evaluation the op attends without dropout.

    Example:

    ```mlir
    %o = kiln.attention %q, %k, %v
        : (tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>)
        -> tensor<64x8x16x32xf32>
    %d = kiln.attention %q, %k, %v, %step {dropout = 1.0e-01 : f64, seed = 7 : i64}
        : (tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>,
           tensor<i64>) -> tensor<64x8x16x32xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key,
                       Kiln_FloatTensor:$value,
                       Optional<Kiln_IndexScalar>:$counter,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       OptionalAttr<F64Attr>:$scale,
                       DefaultValuedAttr<F64Attr, "0.0">:$dropout,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`,` $counter^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_CrossEntropyOp : Kiln_InferredOp<"cross_entropy", [Kiln_Differentiable]> {
  let summary = "Mean cross-entropy of logits against class labels";
  let description = [{
    For `logits` `[N, C]` and `labels` `[N]` with values in `[0, C)` or equal
    to `ignore_index`, returns the mean over the rows whose label is not
    `ignore_index` of
    `logsumexp(logits[n]) - (1 - s) logits[n, labels[n]] - s mean_c(logits[n, c])`
    with `s` the `label_smoothing`, as
    `torch.nn.functional.cross_entropy(logits, labels, ignore_index=...,
    label_smoothing=...)`: the ignored rows add nothing and are not counted,
    and when every row is ignored the mean is 0 / 0, NaN, as PyTorch's.

    Example:

    ```mlir
    %loss = kiln.cross_entropy %logits, %labels
        : (tensor<64x10xf32>, tensor<64xi64>) -> tensor<f32>
    %smoothed = kiln.cross_entropy %logits, %labels
        {ignore_index = 0 : i64, label_smoothing = 1.0e-01 : f64}
        : (tensor<64x10xf32>, tensor<64xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$logits, Kiln_IndexTensor:$labels,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs Kiln_FloatScalar:$result);
  let assemblyFormat = [{
    $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

#endif // KILN_NN_OPS_TD
