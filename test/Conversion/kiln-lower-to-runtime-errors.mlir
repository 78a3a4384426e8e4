// What kiln-lower-to-runtime refuses, with the op to blame.
// RUN: kiln-opt %s -kiln-lower-to-runtime -split-input-file -verify-diagnostics

// The CPU runtime's all-reduce averages float32 buffers.
func.func @all_reduce_f64(%a: tensor<3xf64>) -> tensor<3xf64> {
  // expected-error @+1 {{'kiln.all_reduce' op the CPU runtime averages f32 tensors only}}
  %r = kiln.all_reduce %a {bucket = 0} : (tensor<3xf64>) -> tensor<3xf64>
  return %r : tensor<3xf64>
}
