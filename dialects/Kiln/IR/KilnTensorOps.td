//===- KilnTensorOps.td - Constants and data movement ---------------------===//

#ifndef KILN_TENSOR_OPS_TD
#define KILN_TENSOR_OPS_TD

include "Kiln/IR/KilnBase.td"

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "A tensor given by its elements";
  let description = [{
    Produces a tensor whose shape, element type and elements are those of the
    `value` attribute.

    Example:

    ```mlir
    %half = kiln.constant dense<0.5> : tensor<f32>
    %ids = kiln.constant dense<[1, 2, 3]> : tensor<3xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Kiln_ReshapeOp : Kiln_InferredOp<"reshape",
    [Kiln_Differentiable, Kiln_SelectsElements]> {
  let summary = "The same elements, in row-major order, in a new shape";
  let description = [{
    Reinterprets `input` with the dimensions given by `shape`, keeping the
    row-major order of the elements (PyTorch's `reshape`). At most one entry of
    `shape` may be -1; it stands for the size that keeps the number of elements.

    Example:

    ```mlir
    %flat = kiln.reshape %x {shape = array<i64: 64, -1>}
        : (tensor<64x32x7x7xf32>) -> tensor<64x1568xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_FlattenOp : Kiln_InferredOp<"flatten",
    [Kiln_Differentiable, Kiln_SelectsElements]> {
  let summary = "Merges a range of dimensions into one";
  let description = [{
    Merges dimensions `start_dim` to `end_dim` (both included) into one, as
    `torch.flatten(input, start_dim, end_dim)` does. Canonicalization rewrites
    it into `kiln.reshape`.

    Example:

    ```mlir
    %f = kiln.flatten %x {start_dim = 1 : i64}
        : (tensor<64x32x7x7xf32>) -> tensor<64x1568xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$input,
                       DefaultValuedAttr<I64Attr, "0">:$start_dim,
                       DefaultValuedAttr<I64Attr, "-1">:$end_dim);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_InferredOp<"transpose",
    [Kiln_Differentiable, Kiln_SelectsElements]> {
  let summary = "Permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`, as in
    `torch.permute(input, permutation)`.

    Example:

    ```mlir
    %t = kiln.transpose %x {permutation = array<i64: 0, 2, 1, 3>}
        : (tensor<64x16x8x32xf32>) -> tensor<64x8x16x32xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_ConcatOp : Kiln_InferredOp<"concat",
    [Kiln_Differentiable, Kiln_SelectsElements]> {
  let summary = "Joins tensors along one axis";
  let description = [{
    Concatenates `inputs` along `axis`; all other dimensions must agree, as in
    `torch.cat(inputs, axis)`.

    Example:

    ```mlir
    %c = kiln.concat %a, %b {axis = 1 : i64}
        : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_SliceOp : Kiln_InferredOp<"slice",
    [Kiln_Differentiable, Kiln_SelectsElements]> {
  let summary = "A strided window of a tensor";
  let description = [{
    Takes `sizes[d]` elements along each dimension `d`, starting at
    `offsets[d]` and stepping by `strides[d]` (all static). The window must lie
    inside the input.

    Example:

    ```mlir
    %q = kiln.slice %qkv {offsets = array<i64: 0, 0>, sizes = array<i64: 64, 256>,
                          strides = array<i64: 1, 1>}
        : (tensor<64x768xf32>) -> tensor<64x256xf32>
    ```
  }];
  let arguments = (ins Kiln_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs Kiln_AnyTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_EmbeddingOp : Kiln_InferredOp<"embedding", [Kiln_Differentiable]> {
  let summary = "Rows of a table selected by integer ids";
  let description = [{
    For ids of shape `S` and a table `[V, D]`, returns the `[S..., D]` tensor
    whose entry at ids position `p` is row `ids[p]` of the table, as
    `torch.nn.functional.embedding(ids, table)`. Ids outside `[0, V)` are a
    run-time error of the program that supplies them.

    Example:

    ```mlir
    %e = kiln.embedding %ids, %table
        : (tensor<64x16xi64>, tensor<100x256xf32>) -> tensor<64x16x256xf32>
    ```
  }];
  let arguments = (ins Kiln_IndexTensor:$ids, Kiln_FloatTensor:$table);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$ids `,` $table attr-dict `:` functional-type(operands, results)";
}

def Kiln_OneHotOp : Kiln_InferredOp<"one_hot"> {
  let summary = "One-hot vectors of integer ids";
  let description = [{
    For ids of shape `S`, returns the `[S..., num_classes]` tensor that is 1
    where the last index equals the id and 0 elsewhere, as
    `torch.nn.functional.one_hot(ids, num_classes).float()`. The element type
    is `element_type`, f32 when absent.

    Example:

    ```mlir
    %x = kiln.one_hot %ids {num_classes = 100 : i64}
        : (tensor<64x16xi64>) -> tensor<64x16x100xf32>
    ```
  }];
  let arguments = (ins Kiln_IndexTensor:$ids, I64Attr:$num_classes,
                       OptionalAttr<TypeAttrOf<Kiln_Float>>:$element_type);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$ids attr-dict `:` functional-type(operands, results)";
}

def Kiln_SinusoidalPositionsOp : Kiln_InferredOp<"sinusoidal_positions"> {
  let summary = "The sinusoidal position table of the Transformer";
  let description = [{
    Returns the `[length, dim]` table of "Attention Is All You Need":
    `pe[p, 2i] = sin(p * w_i)` and `pe[p, 2i + 1] = cos(p * w_i)` with
    `w_i = exp(-2i * ln(10000) / dim)`. `dim` must be even. The element type
    is `element_type`, f32 when absent.

    Example:

    ```mlir
    %pe = kiln.sinusoidal_positions {length = 16 : i64, dim = 256 : i64}
        : tensor<16x256xf32>
    ```
  }];
  let arguments = (ins I64Attr:$length, I64Attr:$dim,
                       OptionalAttr<TypeAttrOf<Kiln_Float>>:$element_type);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

#endif // KILN_TENSOR_OPS_TD
