// With require-static, a size that cannot be inferred is an error.
// RUN: kiln-opt %s -kiln-shape-inference=require-static -verify-diagnostics

func.func @stays_dynamic(%x: tensor<?x16xf32>, %w: tensor<5x16xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'kiln.linear' op result has dynamic shape 'tensor<?x5xf32>' after shape inference}}
  %0 = kiln.linear %x, %w : (tensor<?x16xf32>, tensor<5x16xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
