// kiln-lower-runtime-calls passes buffers to the runtime: the calls must be
// bufferized.
// RUN: kiln-opt %s -kiln-lower-runtime-calls -verify-diagnostics

func.func @on_tensors(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  // expected-error @+1 {{'kiln.runtime_call' op must be bufferized before it becomes a C call}}
  %y = kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%x, %w : tensor<2x4xf32>, tensor<3x4xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
