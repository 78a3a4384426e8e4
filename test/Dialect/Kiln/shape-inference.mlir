// kiln-shape-inference refines dynamic sizes from operands and attributes.
// RUN: kiln-opt %s -kiln-shape-inference -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-LABEL: func @cnn_head
// CHECK-SAME: -> tensor<8x10xf32>
func.func @cnn_head(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %fw: tensor<10x6272xf32>) -> tensor<?x?xf32> {
  // CHECK: kiln.conv2d {{.*}} -> tensor<8x32x28x28xf32>
  %0 = kiln.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32>) -> tensor<?x?x?x?xf32>
  // CHECK: kiln.relu {{.*}} : tensor<8x32x28x28xf32>
  %1 = kiln.relu %0 : tensor<?x?x?x?xf32>
  // CHECK: kiln.max_pool2d {{.*}} (tensor<8x32x28x28xf32>) -> tensor<8x32x14x14xf32>
  %2 = kiln.max_pool2d %1 {kernel = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x32x?x?xf32>
  // CHECK: kiln.flatten {{.*}} (tensor<8x32x14x14xf32>) -> tensor<8x6272xf32>
  %3 = kiln.flatten %2 {start_dim = 1 : i64} : (tensor<?x32x?x?xf32>) -> tensor<?x?xf32>
  // CHECK: kiln.linear {{.*}} -> tensor<8x10xf32>
  %4 = kiln.linear %3, %fw : (tensor<?x?xf32>, tensor<10x6272xf32>) -> tensor<?x?xf32>
  // CHECK: return {{.*}} : tensor<8x10xf32>
  return %4 : tensor<?x?xf32>
}

// -----

// A reshape's -1 is solved once the input size is known.
// CHECK-LABEL: func @reshape_solves
// CHECK: kiln.reshape {{.*}} -> tensor<6x4xf32>
func.func @reshape_solves(%x: tensor<2x3x4xf32>) -> tensor<?x4xf32> {
  %0 = kiln.reshape %x {shape = array<i64: -1, 4>} : (tensor<2x3x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Uses outside the kiln dialect keep the type they had, through a cast.
// CHECK-LABEL: func @foreign_user
// CHECK: %[[E:.*]] = kiln.exp %{{.*}} : tensor<4xf32>
// CHECK: %[[C:.*]] = tensor.cast %[[E]] : tensor<4xf32> to tensor<?xf32>
// CHECK: tensor.dim %[[C]]
func.func @foreign_user(%x: tensor<4xf32>) -> index {
  %c0 = arith.constant 0 : index
  %0 = kiln.reshape %x {shape = array<i64: -1>} : (tensor<4xf32>) -> tensor<?xf32>
  %1 = kiln.exp %0 : tensor<?xf32>
  %2 = tensor.dim %1, %c0 : tensor<?xf32>
  return %2 : index
}

// -----

// A size that depends on a dynamic argument stays dynamic.
// CHECK-LABEL: func @stays_dynamic
// CHECK: -> tensor<?x5xf32>
func.func @stays_dynamic(%x: tensor<?x16xf32>, %w: tensor<5x16xf32>) -> tensor<?x?xf32> {
  %0 = kiln.linear %x, %w : (tensor<?x16xf32>, tensor<5x16xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}
