// kiln-mask-relu-gradients makes relu gradients read the values that the
// runtime's calls produce anyway.
// RUN: kiln-opt %s -kiln-mask-relu-gradients -split-input-file | FileCheck %s

// relu(x) > 0 exactly where x > 0: a relu gradient reads the relu's result
// instead of its input, which is left to the relu alone (a convolution's
// post-op, after kiln-lower-to-runtime). Without a relu of the input, the
// gradient stays.
// CHECK-LABEL: func.func @relu_result(
// CHECK-SAME: %[[X:.*]]: tensor<2x5xf32>, %[[G:.*]]: tensor<2x5xf32>, %[[Z:.*]]: tensor<2x5xf32>)
// CHECK: %[[R:.*]] = kiln.relu %[[X]]
// CHECK: %[[D:.*]] = kiln.relu_backward %[[G]], %[[R]]
// CHECK: %[[E:.*]] = kiln.relu_backward %[[G]], %[[Z]]
// CHECK: return %[[R]], %[[D]], %[[E]]
func.func @relu_result(%x: tensor<2x5xf32>, %g: tensor<2x5xf32>, %z: tensor<2x5xf32>)
    -> (tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) {
  %r = kiln.relu %x : tensor<2x5xf32>
  %d = kiln.relu_backward %g, %x : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  %e = kiln.relu_backward %g, %z : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  return %r, %d, %e : tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>
}

// -----

// A relu gradient of a max pooling's input gradient becomes a relu gradient
// of its output gradient, masked by the pooled values (equal to the input
// where the pooling took its maxima), before the pooling's backward. Only
// the pooling of the same window qualifies.
// CHECK-LABEL: func.func @mask_before_pooling(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x8x8xf32>, %[[G:.*]]: tensor<2x4x4x4xf32>, %[[G3:.*]]: tensor<2x4x2x2xf32>)
// CHECK: %[[P:.*]] = kiln.max_pool2d %[[X]] {kernel = array<i64: 2, 2>}
// CHECK: %[[M:.*]] = kiln.relu_backward %[[G]], %[[P]] : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
// CHECK: %[[D:.*]] = kiln.max_pool2d_backward %[[M]], %[[X]] {kernel = array<i64: 2, 2>}
// CHECK: %[[D3:.*]] = kiln.max_pool2d_backward %[[G3]], %[[X]] {kernel = array<i64: 3, 3>}
// CHECK: %[[M3:.*]] = kiln.relu_backward %[[D3]], %[[X]] : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
// CHECK: return %[[P]], %[[D]], %[[M3]]
func.func @mask_before_pooling(%x: tensor<2x4x8x8xf32>, %g: tensor<2x4x4x4xf32>, %g3: tensor<2x4x2x2xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) {
  %p = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %d = kiln.max_pool2d_backward %g, %x {kernel = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %m = kiln.relu_backward %d, %x : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %d3 = kiln.max_pool2d_backward %g3, %x {kernel = array<i64: 3, 3>} : (tensor<2x4x2x2xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %m3 = kiln.relu_backward %d3, %x : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p, %m, %m3 : tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>
}

