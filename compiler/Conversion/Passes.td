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

#endif // KILN_CONVERSION_PASSES_TD
