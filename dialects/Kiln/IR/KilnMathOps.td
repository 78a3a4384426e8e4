//===- KilnMathOps.td - Elementwise math, reductions and matmul -----------===//

#ifndef KILN_MATH_OPS_TD
#define KILN_MATH_OPS_TD

include "Kiln/IR/KilnBase.td"

//===----------------------------------------------------------------------===//
// Broadcasting binary operations
//===----------------------------------------------------------------------===//

class Kiln_BroadcastingOp<string mnemonic, string summaryText, string formula,
                          string torchName, list<Trait> traits = []>
    : Kiln_BinaryOp<mnemonic, traits> {
  let summary = summaryText;
  let description = [{
    Computes `}] # formula # [{` elementwise after broadcasting both
    operands to a common shape by NumPy's rules (as `torch.}] # torchName # [{`):
    shapes are aligned at their last dimension, and two sizes agree when they
    are equal or one of them is 1.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x, %b
        : (tensor<64x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
    ```
  }];
}

class Kiln_ArithOp<string mnemonic, string symbol, string torchName,
                   list<Trait> traits = []>
    : Kiln_BroadcastingOp<mnemonic, "Elementwise " # symbol # " with broadcasting",
                          "lhs " # symbol # " rhs", torchName, traits>;

def Kiln_AddOp : Kiln_ArithOp<"add", "+", "add", [Commutative]> {
  let hasFolder = 1;
}
def Kiln_SubOp : Kiln_ArithOp<"sub", "-", "sub"> {
  let hasFolder = 1;
}
def Kiln_MulOp : Kiln_ArithOp<"mul", "*", "mul", [Commutative]> {
  let hasFolder = 1;
}
def Kiln_DivOp : Kiln_ArithOp<"div", "/", "div"> {
  let hasFolder = 1;
}
def Kiln_MinimumOp
    : Kiln_BroadcastingOp<"minimum", "Elementwise minimum with broadcasting",
                          "min(lhs, rhs)", "minimum", [Commutative]>;
def Kiln_MaximumOp
    : Kiln_BroadcastingOp<"maximum", "Elementwise maximum with broadcasting",
                          "max(lhs, rhs)", "maximum", [Commutative]>;
def Kiln_PowOp
    : Kiln_BroadcastingOp<"pow", "Elementwise power with broadcasting",
                          "lhs ^ rhs", "pow">;

// A comparison gives 1 where it holds and 0 elsewhere, in the operands'
// float type, so that it can scale or select other tensors.
class Kiln_CompareOp<string mnemonic, string symbol, string torchName,
                     list<Trait> traits = []>
    : Kiln_BroadcastingOp<mnemonic, "Elementwise " # symbol # " as 1 or 0",
                          "lhs " # symbol # " rhs ? 1 : 0", torchName, traits>;

def Kiln_GreaterOp : Kiln_CompareOp<"greater", ">", "gt">;
def Kiln_LessOp : Kiln_CompareOp<"less", "<", "lt">;
def Kiln_GreaterEqualOp : Kiln_CompareOp<"greater_equal", ">=", "ge">;
def Kiln_LessEqualOp : Kiln_CompareOp<"less_equal", "<=", "le">;
def Kiln_EqualOp : Kiln_CompareOp<"equal", "==", "eq", [Commutative]>;
def Kiln_NotEqualOp : Kiln_CompareOp<"not_equal", "!=", "ne", [Commutative]>;

def Kiln_WhereOp : Kiln_InferredOp<"where", [Kiln_Differentiable,
                                             Kiln_Elementwise]> {
  let summary = "Elementwise choice between two tensors";
  let description = [{
    Computes `condition != 0 ? x : y` elementwise after broadcasting the
    three operands to a common shape (as `torch.where(condition != 0, x, y)`).
    The condition is a float tensor, such as a comparison's result.

    Example:

    ```mlir
    %y = kiln.where %mask, %x, %zero
        : (tensor<64x128xf32>, tensor<64x128xf32>, tensor<f32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$condition, Kiln_FloatTensor:$x,
                       Kiln_FloatTensor:$y);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$condition `,` $x `,` $y attr-dict `:` "
                       "functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Unary elementwise operations
//===----------------------------------------------------------------------===//

class Kiln_MathOp<string mnemonic, string formula, list<Trait> traits = []>
    : Kiln_UnaryOp<mnemonic, traits> {
  let summary = "Elementwise " # formula;
  let description = [{
    Computes `}] # formula # [{` for every element.

    Example:

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x : tensor<64x128xf32>
    ```
  }];
}

def Kiln_NegOp : Kiln_MathOp<"neg", "-x"> {
  let hasFolder = 1;
}
def Kiln_ReluOp : Kiln_MathOp<"relu", "max(x, 0)", [Kiln_SelectsElements]>;
def Kiln_TanhOp : Kiln_MathOp<"tanh", "tanh(x)">;
def Kiln_SigmoidOp : Kiln_MathOp<"sigmoid", "1 / (1 + exp(-x))">;
def Kiln_SiluOp : Kiln_MathOp<"silu", "x / (1 + exp(-x))">;
def Kiln_ExpOp : Kiln_MathOp<"exp", "exp(x)">;
def Kiln_LogOp : Kiln_MathOp<"log", "log(x)">;
def Kiln_SqrtOp : Kiln_MathOp<"sqrt", "sqrt(x)">;
def Kiln_AbsOp : Kiln_MathOp<"abs", "|x|">;

// Activations with parameters, as F64 attributes with PyTorch's defaults.
def Kiln_LeakyReluOp
    : Kiln_MathOp<"leaky_relu", "x > 0 ? x : negative_slope * x"> {
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "0.01">:$negative_slope);
}
def Kiln_EluOp : Kiln_MathOp<"elu", "x > 0 ? x : alpha * (exp(x) - 1)"> {
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "1.0">:$alpha);
}
def Kiln_SoftplusOp
    : Kiln_MathOp<"softplus",
                  "beta * x > threshold ? x : log(1 + exp(beta * x)) / beta"> {
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F64Attr, "1.0">:$beta,
                       DefaultValuedAttr<F64Attr, "20.0">:$threshold);
  let hasVerifier = 1;
}
def Kiln_ClampOp : Kiln_MathOp<"clamp", "min(max(x, min), max)"> {
  let description = [{
    Computes `min(max(x, min), max)` for every element, as `torch.clamp`.
    Either bound may be absent, not both.

    Example:

    ```mlir
    %y = kiln.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, OptionalAttr<F64Attr>:$min,
                       OptionalAttr<F64Attr>:$max);
  let hasVerifier = 1;
}

def Kiln_ReducePrecisionOp
    : Kiln_MathOp<"reduce_precision", "x rounded to a narrower float type"> {
  let description = [{
    Rounds every element to the nearest value of the narrower float type
    `precision` (ties to even; NaN stays NaN, and values beyond its range
    become infinities), keeping the element type, as
    `x.to(torch.bfloat16).float()`.
    Mixed precision (kiln-autocast) puts it on the operands and results of
    the ops that run on bfloat16 values, so that the IR states which values
    are bfloat16 and a backend may store or multiply them as such. Its
    adjoint is PyTorch's for the cast: the gradient, rounded the same way,
    since the gradient of a bfloat16 tensor is a bfloat16 tensor.

    The precision is `bf16`, and the operand `f32` (autocast leaves float64
    alone).

    Example:

    ```mlir
    %y = kiln.reduce_precision %x {precision = bf16} : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                       TypeAttrOf<BF16>:$precision);
  let hasFolder = 1;
}

def Kiln_GeluOp : Kiln_Op<"gelu", [Kiln_Differentiable, Kiln_Elementwise,
                                   SameOperandsAndResultType,
                                   InferTypeOpInterface]> {
  let summary = "Elementwise Gaussian error linear unit";
  let description = [{
    Computes `x * Phi(x)`, where `Phi` is the standard normal distribution
    function: exactly (`approximate = none`, the default) or with PyTorch's
    tanh approximation (`approximate = tanh`).

    Example:

    ```mlir
    %y = kiln.gelu %x : tensor<64x1024xf32>
    %z = kiln.gelu %x {approximate = #kiln.gelu_approximation<tanh>}
        : tensor<64x1024xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_GeluApproximationAttr,
                                         "::kiln::GeluApproximation::none">:$approximate);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Normalized exponentials
//===----------------------------------------------------------------------===//

class Kiln_SoftmaxLikeOp<string mnemonic, string formula>
    : Kiln_InferredOp<mnemonic, [Kiln_Differentiable, Kiln_RuntimeKernel]> {
  let summary = formula # " along one axis";
  let description = [{
    Computes `}] # formula # [{` along `axis` (the last one by default),
    subtracting the maximum first so that large inputs do not overflow.

    Example:

    ```mlir
    %p = kiln.}] # mnemonic # [{ %logits {axis = 1 : i64}
        : (tensor<64x10xf32>) -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_SoftmaxOp
    : Kiln_SoftmaxLikeOp<"softmax", "exp(x_i) / sum_j exp(x_j)">;
def Kiln_LogSoftmaxOp
    : Kiln_SoftmaxLikeOp<"log_softmax", "x_i - log(sum_j exp(x_j))">;

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Kiln_ReduceOp<string mnemonic, string what>
    : Kiln_ReductionOp<mnemonic> {
  let summary = "The " # what # " over a set of axes";
  let description = [{
    Reduces `input` to the }] # what # [{ of its elements over every axis in
    `axes` (distinct, possibly negative). The reduced axes are removed, or kept
    with size 1 when `keep_dims` is true.

    Example:

    ```mlir
    %m = kiln.}] # mnemonic # [{ %x {axes = array<i64: 1>}
        : (tensor<64x16x256xf32>) -> tensor<64x256xf32>
    ```
  }];
}

def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "sum">;
def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "mean">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "maximum">;

def Kiln_ArgmaxOp : Kiln_InferredOp<"argmax"> {
  let summary = "The index of the largest element along one axis";
  let description = [{
    Returns, along `axis`, the index of the largest element (the first one on
    ties), as `torch.argmax(input, axis, keep_dims)`. The result is `i64`.

    Example:

    ```mlir
    %pred = kiln.argmax %logits {axis = 1 : i64}
        : (tensor<64x10xf32>) -> tensor<64xi64>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$keep_dims);
  let results = (outs Kiln_IndexTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_CountEqualOp : Kiln_InferredOp<"count_equal"> {
  let summary = "How many positions of two integer tensors hold equal values";
  let description = [{
    Compares `lhs` and `rhs`, of one shape, position by position and returns
    the number of equal pairs as an `i64` scalar: with predictions and labels,
    the number of correct predictions.

    Example:

    ```mlir
    %correct = kiln.count_equal %predicted, %labels
        : (tensor<64xi64>, tensor<64xi64>) -> tensor<i64>
    ```
  }];
  let arguments = (ins Kiln_IndexTensor:$lhs, Kiln_IndexTensor:$rhs);
  let results = (outs Kiln_IndexScalar:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

def Kiln_MatmulOp
    : Kiln_InferredOp<"matmul", [Kiln_Differentiable, Kiln_CountsFlops,
                                Kiln_RuntimeKernel,
                                Kiln_LowerPrecisionCompute]> {
  let summary = "Batched matrix product with broadcast batch dimensions";
  let description = [{
    Multiplies `lhs` of shape `[B1..., M, K]` by `rhs` of shape `[B2..., K, N]`
    into `[B..., M, N]`, where the batch dimensions `B1` and `B2` broadcast to
    `B` as in `torch.matmul`. Both operands have rank 2 or more.
    `transpose_lhs` and `transpose_rhs` use the transpose of the last two
    dimensions of an operand instead, without materializing it.

    Example:

    ```mlir
    %s = kiln.matmul %q, %k {transpose_rhs = true}
        : (tensor<64x8x16x32xf32>, tensor<64x8x16x32xf32>) -> tensor<64x8x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$lhs, Kiln_FloatTensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_lhs,
                       DefaultValuedAttr<BoolAttr, "false">:$transpose_rhs);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_MATH_OPS_TD
