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

#endif // KILN_TRANSFORMS_PASSES_TD
