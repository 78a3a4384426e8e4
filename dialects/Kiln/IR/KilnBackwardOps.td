//===- KilnBackwardOps.td - Gradients that need operations of their own ---===//
//
// The adjoint rules of most ops are compositions of other kiln ops. These
// ops exist where the gradient is a primitive of its own (oneDNN has backward
// primitives for them) or where composing would lose structure that a
// backend wants to see.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_BACKWARD_OPS_TD
#define KILN_BACKWARD_OPS_TD

include "Kiln/IR/KilnBase.td"

def Kiln_BroadcastToOp
    : Kiln_InferredOp<"broadcast_to", [Kiln_Differentiable, Kiln_Elementwise]> {
  let summary = "Broadcasts a tensor to a shape";
  let description = [{
    Repeats `input` to `shape` by NumPy's broadcasting rules: the input's
    dimensions align with the last ones of `shape`, and each must equal the
    target size or be 1. The adjoint of every broadcasting operation.

    Example:

    ```mlir
    %b = kiln.broadcast_to %x {shape = array<i64: 64, 128>}
        : (tensor<128xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_ScatterSliceOp : Kiln_InferredOp<"scatter_slice", [Kiln_Differentiable]> {
  let summary = "A zero tensor with a strided window set from another";
  let description = [{
    Returns a tensor of `shape` that is zero except at the window that
    `kiln.slice` with these `offsets` and `strides` (and sizes the shape of
    `source`) would read, which holds `source`. The adjoint of `kiln.slice`.

    Example:

    ```mlir
    %g = kiln.scatter_slice %dq {offsets = array<i64: 0, 0>,
                                 strides = array<i64: 1, 1>,
                                 shape = array<i64: 64, 768>}
        : (tensor<64x256xf32>) -> tensor<64x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$source, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$shape);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$source attr-dict `:` functional-type(operands, results)";
}

def Kiln_ReduceMaxBackwardOp : Kiln_InferredOp<"reduce_max_backward"> {
  let summary = "Gradient of reduce_max";
  let description = [{
    The gradient, of the shape of `input`, of a `kiln.reduce_max` with these
    `axes` and `keep_dims`: each reduced group's `grad` is shared equally by
    the positions of the group that hold its maximum (as `torch.amax`'s
    gradient), and the other positions get zero.

    Example:

    ```mlir
    %dx = kiln.reduce_max_backward %dy, %x {axes = array<i64: 1>}
        : (tensor<64xf32>, tensor<64x10xf32>) -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "false">:$keep_dims);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ReluBackwardOp : Kiln_InferredOp<"relu_backward", [Kiln_Elementwise]> {
  let summary = "Gradient of relu";
  let description = [{
    `grad * (input > 0)`, elementwise: the gradient of `kiln.relu` at `input`
    (zero at 0, as PyTorch's).

    Example:

    ```mlir
    %dx = kiln.relu_backward %dy, %x
        : (tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def Kiln_GeluBackwardOp : Kiln_InferredOp<"gelu_backward", [Kiln_Elementwise]> {
  let summary = "Gradient of gelu";
  let description = [{
    `grad * d gelu(x) / dx` at `input`, elementwise, for the same
    `approximate` as the forward `kiln.gelu`.

    Example:

    ```mlir
    %dx = kiln.gelu_backward %dy, %x
        : (tensor<64x1024xf32>, tensor<64x1024xf32>) -> tensor<64x1024xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_GeluApproximationAttr,
                                         "::kiln::GeluApproximation::none">:$approximate);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

class Kiln_SoftmaxBackwardLikeOp<string mnemonic, string formula>
    : Kiln_InferredOp<mnemonic, [Kiln_RuntimeKernel]> {
  let summary = "Gradient of " # !subst("_backward", "", mnemonic);
  let description = [{
    Given the forward's `output` `y` and the gradient `g` of that output,
    returns `}] # formula # [{` (sums along `axis`).

    Example:

    ```mlir
    %dx = kiln.}] # mnemonic # [{ %dy, %y {axis = 3 : i64}
        : (tensor<64x8x16x16xf32>, tensor<64x8x16x16xf32>) -> tensor<64x8x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$output,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $output attr-dict `:` functional-type(operands, results)";
}

def Kiln_SoftmaxBackwardOp
    : Kiln_SoftmaxBackwardLikeOp<"softmax_backward", "y * (g - sum(g * y))">;
def Kiln_LogSoftmaxBackwardOp
    : Kiln_SoftmaxBackwardLikeOp<"log_softmax_backward", "g - exp(y) * sum(g)">;

def Kiln_CrossEntropyBackwardOp : Kiln_InferredOp<"cross_entropy_backward"> {
  let summary = "Gradient of cross_entropy with respect to the logits";
  let description = [{
    For the scalar gradient `grad` of the mean loss, returns, of the logits'
    shape `[N, C]`,
    `grad * (softmax(logits) - (1 - s) one_hot(labels) - s / C) / K` in the
    rows whose label is not `ignore_index` and 0 in the others, with `s` the
    `label_smoothing` and `K` the number of rows not ignored.

    Example:

    ```mlir
    %dlogits = kiln.cross_entropy_backward %one, %logits, %labels
        : (tensor<f32>, tensor<64x10xf32>, tensor<64xi64>) -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatScalar:$grad, Kiln_FloatTensor:$logits,
                       Kiln_IndexTensor:$labels,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
                       DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $logits `,` $labels attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_Conv2DBackwardInputOp : Kiln_InferredOp<"conv2d_backward_input",
    [Kiln_Differentiable, Kiln_CountsFlops, Kiln_RuntimeKernel,
     Kiln_LowerPrecisionCompute]> {
  let summary = "Gradient of conv2d with respect to its input";
  let description = [{
    The gradient, of shape `input_shape` `[N, C, H, W]`, of a `kiln.conv2d`
    input, given the gradient `grad` `[N, O, OH, OW]` of its result and its
    `weight` `[O, C, KH, KW]`: the transposed convolution. `stride`,
    `padding` and `dilation` are the forward's. It is also the forward of
    `torch.nn.ConvTranspose2d` (the language's `conv_transpose2d`), so it is
    differentiable.

    Example:

    ```mlir
    %dx = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 64, 32, 14, 14>,
                                              padding = array<i64: 1, 1>}
        : (tensor<64x64x14x14xf32>, tensor<64x32x3x3xf32>) -> tensor<64x32x14x14xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$weight,
                       DenseI64ArrayAttr:$input_shape,
                       Kiln_DefaultPair<"{1, 1}">:$stride,
                       Kiln_DefaultPair<"{0, 0}">:$padding,
                       Kiln_DefaultPair<"{1, 1}">:$dilation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
}

def Kiln_Conv2DBackwardWeightOp
    : Kiln_InferredOp<"conv2d_backward_weight",
                      [Kiln_CountsFlops, Kiln_RuntimeKernel]> {
  let summary = "Gradient of conv2d with respect to its weight";
  let description = [{
    The gradient `[O, C, kernel[0], kernel[1]]` of a `kiln.conv2d` weight,
    given the gradient `grad` `[N, O, OH, OW]` of its result and its `input`
    `[N, C, H, W]`. `stride`, `padding` and `dilation` are the forward's.

    Example:

    ```mlir
    %dw = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>,
                                               padding = array<i64: 1, 1>}
        : (tensor<64x64x14x14xf32>, tensor<64x32x14x14xf32>) -> tensor<64x32x3x3xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       Kiln_Pair:$kernel,
                       Kiln_DefaultPair<"{1, 1}">:$stride,
                       Kiln_DefaultPair<"{0, 0}">:$padding,
                       Kiln_DefaultPair<"{1, 1}">:$dilation);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def Kiln_MaxPool2DBackwardOp : Kiln_InferredOp<"max_pool2d_backward",
                                                     [Kiln_RuntimeKernel]> {
  let summary = "Gradient of max_pool2d";
  let description = [{
    The gradient of a `kiln.max_pool2d` input, of the shape of `input`: each
    window's `grad` goes to the position of the window's maximum in `input`
    (the first one, in row-major order, when several are equal). Windows that
    overlap add up. `kernel`, `stride` and `padding` are the forward's.

    Example:

    ```mlir
    %dx = kiln.max_pool2d_backward %dy, %x {kernel = array<i64: 2, 2>}
        : (tensor<64x32x14x14xf32>, tensor<64x32x28x28xf32>) -> tensor<64x32x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       Kiln_Pair:$kernel, Kiln_OptionalPair:$stride,
                       Kiln_DefaultPair<"{0, 0}">:$padding);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

def Kiln_AvgPool2DBackwardOp : Kiln_InferredOp<"avg_pool2d_backward",
                                                     [Kiln_RuntimeKernel]> {
  let summary = "Gradient of avg_pool2d";
  let description = [{
    The gradient, of shape `input_shape`, of a `kiln.avg_pool2d` input: each
    window's `grad`, divided as the forward divided, goes to every position of
    the window. `kernel`, `stride`, `padding` and `count_include_pad` are the
    forward's.

    Example:

    ```mlir
    %dx = kiln.avg_pool2d_backward %dy {input_shape = array<i64: 64, 32, 28, 28>,
                                        kernel = array<i64: 2, 2>}
        : (tensor<64x32x14x14xf32>) -> tensor<64x32x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, DenseI64ArrayAttr:$input_shape,
                       Kiln_Pair:$kernel, Kiln_OptionalPair:$stride,
                       Kiln_DefaultPair<"{0, 0}">:$padding,
                       DefaultValuedAttr<BoolAttr, "true">:$count_include_pad);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$grad attr-dict `:` functional-type(operands, results)";
}

def Kiln_LayerNormBackwardOp
    : Kiln_InferredOp<"layer_norm_backward",
                      [Kiln_CountsFlops, Kiln_RuntimeKernel]> {
  let summary = "Gradient of layer_norm";
  let description = [{
    Given the gradient `grad` of a `kiln.layer_norm` result, its `input` and
    its optional `weight` (same `axis` and `epsilon`), returns the gradient of
    the input, then, when there is a weight, the gradients of the weight and
    of the bias (the bias's is returned even if the forward had none).

    Example:

    ```mlir
    %dx, %dw, %db = kiln.layer_norm_backward %dy, %x, %w
        : (tensor<64x16x256xf32>, tensor<64x16x256xf32>, tensor<256xf32>)
        -> (tensor<64x16x256xf32>, tensor<256xf32>, tensor<256xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       Optional<Kiln_FloatTensor>:$weight,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs Kiln_FloatTensor:$input_grad,
                      Variadic<Kiln_FloatTensor>:$param_grads);
  let assemblyFormat = [{
    $grad `,` $input (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_BatchNormBackwardOp : Kiln_InferredOp<"batch_norm_backward",
                                                    [Kiln_RuntimeKernel]> {
  let summary = "Gradient of batch_norm in training";
  let description = [{
    Given the gradient `grad` of a training `kiln.batch_norm` result, its
    `input` and its optional `weight` (same `epsilon`), returns the gradient
    of the input through the batch statistics, then, when there is a weight,
    the gradients of the weight and of the bias. With `ranks` > 1 (the
    forward's), the means of the gradient that the input's gradient
    subtracts are over all the ranks' batches, as in PyTorch's
    `SyncBatchNorm`; the weight's and the bias's gradients stay this rank's
    sums, which the run averages with the other gradients.

    Example:

    ```mlir
    %dx, %dw, %db = kiln.batch_norm_backward %dy, %x, %w
        : (tensor<64x16x8x8xf32>, tensor<64x16x8x8xf32>, tensor<16xf32>)
        -> (tensor<64x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$input,
                       Optional<Kiln_FloatTensor>:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon,
                       Kiln_StatisticsRanks:$ranks);
  let results = (outs Kiln_FloatTensor:$input_grad,
                      Variadic<Kiln_FloatTensor>:$param_grads);
  let assemblyFormat = [{
    $grad `,` $input (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Kiln_LSTMBackwardOp
    : Kiln_InferredOp<"lstm_backward", [Kiln_CountsFlops, Kiln_RuntimeKernel]> {
  let summary = "Gradient of lstm";
  let description = [{
    Given a `kiln.lstm`'s `input`, its results (`output`, `final_hidden`,
    `final_cell`), the gradients of those three results and its `weights`,
    returns the gradient of the input and of each weight, in the order of
    `weights`. `hidden_size` and `num_layers` are the forward's. The forward
    results let a backend reuse what the forward computed.

    Example:

    ```mlir
    %dx, %dwi, %dwh, %dbi, %dbh = kiln.lstm_backward %x, %out, %h, %c, %dout, %dh, %dc,
        %wi, %wh, %bi, %bh {hidden_size = 256 : i64, num_layers = 1 : i64}
        : (tensor<64x16x100xf32>, tensor<64x16x256xf32>, tensor<1x64x256xf32>,
           tensor<1x64x256xf32>, tensor<64x16x256xf32>, tensor<1x64x256xf32>,
           tensor<1x64x256xf32>, tensor<1024x100xf32>, tensor<1024x256xf32>,
           tensor<1024xf32>, tensor<1024xf32>)
        -> (tensor<64x16x100xf32>, tensor<1024x100xf32>, tensor<1024x256xf32>,
            tensor<1024xf32>, tensor<1024xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$output,
                       Kiln_FloatTensor:$final_hidden,
                       Kiln_FloatTensor:$final_cell,
                       Kiln_FloatTensor:$output_grad,
                       Kiln_FloatTensor:$final_hidden_grad,
                       Kiln_FloatTensor:$final_cell_grad,
                       Variadic<Kiln_FloatTensor>:$weights,
                       I64Attr:$hidden_size, I64Attr:$num_layers);
  let results = (outs Kiln_FloatTensor:$input_grad,
                      Variadic<Kiln_FloatTensor>:$weight_grads);
  let assemblyFormat = [{
    $input `,` $output `,` $final_hidden `,` $final_cell `,` $output_grad `,`
    $final_hidden_grad `,` $final_cell_grad `,` $weights attr-dict
    `:` functional-type(operands, results)
  }];
}

def Kiln_GRUBackwardOp
    : Kiln_InferredOp<"gru_backward", [Kiln_CountsFlops, Kiln_RuntimeKernel]> {
  let summary = "Gradient of gru";
  let description = [{
    Given a `kiln.gru`'s `input`, its results (`output`, `final_hidden`), the
    gradients of those two results and its `weights`, returns the gradient
    of the input and of each weight, in the order of `weights`.
    `hidden_size` and `num_layers` are the forward's. The forward results let
    a backend reuse what the forward computed.

    Example:

    ```mlir
    %dx, %dwi, %dwh, %dbi, %dbh = kiln.gru_backward %x, %out, %h, %dout, %dh,
        %wi, %wh, %bi, %bh {hidden_size = 256 : i64, num_layers = 1 : i64}
        : (tensor<64x16x100xf32>, tensor<64x16x256xf32>, tensor<1x64x256xf32>,
           tensor<64x16x256xf32>, tensor<1x64x256xf32>, tensor<768x100xf32>,
           tensor<768x256xf32>, tensor<768xf32>, tensor<768xf32>)
        -> (tensor<64x16x100xf32>, tensor<768x100xf32>, tensor<768x256xf32>,
            tensor<768xf32>, tensor<768xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$output,
                       Kiln_FloatTensor:$final_hidden,
                       Kiln_FloatTensor:$output_grad,
                       Kiln_FloatTensor:$final_hidden_grad,
                       Variadic<Kiln_FloatTensor>:$weights,
                       I64Attr:$hidden_size, I64Attr:$num_layers);
  let results = (outs Kiln_FloatTensor:$input_grad,
                      Variadic<Kiln_FloatTensor>:$weight_grads);
  let assemblyFormat = [{
    $input `,` $output `,` $final_hidden `,` $output_grad `,`
    $final_hidden_grad `,` $weights attr-dict
    `:` functional-type(operands, results)
  }];
}

def Kiln_AttentionBackwardOp
    : Kiln_InferredOp<"attention_backward",
                      [Kiln_CountsFlops, Kiln_RuntimeKernel,
                       Kiln_RandomOpInterface]> {
  let summary = "Gradient of attention";
  let description = [{
    Given the gradient `grad` of a `kiln.attention` result and its `query`,
    `key` and `value` (same `causal`, `scale`, `dropout`, `seed` and
    `counter`, so that it draws the forward's mask), returns the gradients
    of the query, the key and the value.

    Example:

    ```mlir
    %dq, %dk, %dv = kiln.attention_backward %do, %q, %k, %v
        : (tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>,
           tensor<64x8x16x32xf32>)
        -> (tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>)
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_FloatTensor:$query,
                       Kiln_FloatTensor:$key, Kiln_FloatTensor:$value,
                       Optional<Kiln_IndexScalar>:$counter,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       OptionalAttr<F64Attr>:$scale,
                       DefaultValuedAttr<F64Attr, "0.0">:$dropout,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Kiln_FloatTensor:$query_grad, Kiln_FloatTensor:$key_grad,
                      Kiln_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $grad `,` $query `,` $key `,` $value (`,` $counter^)? attr-dict
    `:` functional-type(operands, results)
  }];
}

def Kiln_EmbeddingBackwardOp : Kiln_InferredOp<"embedding_backward"> {
  let summary = "Gradient of embedding with respect to its table";
  let description = [{
    The `[num, D]` gradient of a `kiln.embedding` table: row `r` is the sum
    of the rows of `grad` `[S..., D]` at the positions where `ids` `[S...]`
    equals `r` (zero for ids that do not occur).

    Example:

    ```mlir
    %dtable = kiln.embedding_backward %de, %ids {num = 100 : i64}
        : (tensor<64x16x256xf32>, tensor<64x16xi64>) -> tensor<100x256xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$grad, Kiln_IndexTensor:$ids,
                       I64Attr:$num);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$grad `,` $ids attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_BACKWARD_OPS_TD
