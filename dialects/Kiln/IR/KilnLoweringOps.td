//===- KilnLoweringOps.td - Operations of the lowering to the runtime -----===//
//
// Not written by front ends: these appear while kiln is lowered to code that
// runs on the Kiln runtime.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LOWERING_OPS_TD
#define KILN_LOWERING_OPS_TD

include "Kiln/IR/KilnBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

// The values must equal enum kiln_op_kind of runtime/include/kiln/kiln_runtime.h
// (checked by a static_assert in KilnLowering.cpp).
def Kiln_RuntimeOpKind : I32EnumAttr<"RuntimeOpKind",
    "a heavy operation that the runtime implements", [
      I32EnumAttrCase<"conv2d_forward", 1>,
      I32EnumAttrCase<"conv2d_backward_data", 2>,
      I32EnumAttrCase<"conv2d_backward_weights", 3>,
      I32EnumAttrCase<"pool2d_forward", 4>,
      I32EnumAttrCase<"pool2d_backward", 5>,
      I32EnumAttrCase<"matmul", 6>,
      I32EnumAttrCase<"softmax_forward", 7>,
      I32EnumAttrCase<"softmax_backward", 8>,
      I32EnumAttrCase<"layer_norm_forward", 9>,
      I32EnumAttrCase<"layer_norm_backward", 10>,
      I32EnumAttrCase<"lstm_forward", 11>,
      I32EnumAttrCase<"lstm_backward", 12>,
      I32EnumAttrCase<"attention_forward", 13>,
      I32EnumAttrCase<"attention_backward", 14>,
      I32EnumAttrCase<"batch_norm_forward", 15>,
      I32EnumAttrCase<"batch_norm_backward", 16>,
      I32EnumAttrCase<"all_reduce_start", 17>,
      I32EnumAttrCase<"all_reduce_wait", 18>,
      I32EnumAttrCase<"gru_forward", 19>,
      I32EnumAttrCase<"gru_backward", 20>
    ]> {
  let cppNamespace = "::kiln";
  let genSpecializedAttr = 0;
}
def Kiln_RuntimeOpKindAttr
    : EnumAttr<Kiln_Dialect, Kiln_RuntimeOpKind, "runtime_kind"> {
  let assemblyFormat = "`<` $value `>`";
}

def Kiln_RuntimeCallOp : Op<Kiln_Dialect, "runtime_call", [
    AttrSizedOperandSegments, DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    Kiln_FlopCountOpInterface]> {
  let summary = "A heavy operation that the runtime executes";
  let description = [{
    Call site `site` of the runtime, of `kind`, with the static configuration
    `config` (laid out as `kiln_runtime.h` documents for the kind). The runtime
    creates the site once, when the program starts, and executes it with the
    buffers of `inputs` and `outputs` (destination style: each result is the
    final value of the output it is tied to, which the runtime overwrites
    without reading it).

    On tensors it is pure; once bufferized, it has no results and writes its
    output buffers.

    Example:

    ```mlir
    %y = kiln.runtime_call #kiln.runtime_kind<conv2d_forward> site 0
        config [64, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]
        ins(%x, %w, %b : tensor<64x1x28x28xf32>, tensor<32x1x3x3xf32>, tensor<32xf32>)
        outs(%init : tensor<64x32x28x28xf32>) -> tensor<64x32x28x28xf32>
    ```
  }];
  let arguments = (ins Kiln_RuntimeOpKindAttr:$kind, I64Attr:$site,
                       DenseI64ArrayAttr:$config,
                       Variadic<AnyShaped>:$inputs,
                       Variadic<AnyShaped>:$outputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kind `site` $site `config` $config
    (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    `outs` `(` $outputs `:` type($outputs) `)` attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
  }];
  let hasVerifier = 1;
}

#endif // KILN_LOWERING_OPS_TD
