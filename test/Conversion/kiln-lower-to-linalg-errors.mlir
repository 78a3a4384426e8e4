// kiln-lower-to-linalg lowers only the light ops: heavy ones must have become
// runtime calls first (kiln-lower-to-runtime).
// RUN: kiln-opt %s -kiln-lower-to-linalg -split-input-file -verify-diagnostics

func.func @heavy(%x: tensor<4x8xf32>, %w: tensor<8x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{failed to legalize operation 'kiln.matmul' that was explicitly marked illegal}}
  %0 = kiln.matmul %x, %w : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// The light ops before it were lowered, but the pass fails all the same.
func.func @after_light(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32> {
  %r = kiln.relu %x : tensor<2x3x8x8xf32>
  // expected-error @+1 {{failed to legalize operation 'kiln.max_pool2d' that was explicitly marked illegal}}
  %p = kiln.max_pool2d %r {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  return %p : tensor<2x3x4x4xf32>
}
