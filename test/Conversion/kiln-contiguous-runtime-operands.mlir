// kiln-contiguous-runtime-operands gives the runtime row-major buffers: a
// strided input is copied into a new buffer before the call, a strided output
// is written to a new buffer that is copied back after it.
// RUN: kiln-opt %s -kiln-contiguous-runtime-operands -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @strided(
// CHECK-SAME: %[[X:.*]]: memref<4x8xf32>, %[[W:.*]]: memref<3x4xf32>, %[[OUT:.*]]: memref<4x6xf32>)
// CHECK: %[[XS:.*]] = memref.subview %[[X]]
// CHECK: %[[OS:.*]] = memref.subview %[[OUT]]
// CHECK-NEXT: %[[XC:.*]] = memref.alloc() : memref<4x4xf32>
// CHECK-NEXT: memref.copy %[[XS]], %[[XC]] : memref<4x4xf32, strided<[8, 2]>> to memref<4x4xf32>
// CHECK-NEXT: %[[OC:.*]] = memref.alloc() : memref<4x3xf32>
// CHECK-NEXT: kiln.runtime_call <matmul> site 0 config [1, 4, 3, 4, 0, 1, 0, 0, 0, 0] ins(%[[XC]], %[[W]] : memref<4x4xf32>, memref<3x4xf32>) outs(%[[OC]] : memref<4x3xf32>)
// CHECK-NEXT: memref.copy %[[OC]], %[[OS]] : memref<4x3xf32> to memref<4x3xf32, strided<[6, 1], offset: 1>>
// CHECK-NEXT: return
func.func @strided(%x: memref<4x8xf32>, %w: memref<3x4xf32>, %out: memref<4x6xf32>) {
  %xs = memref.subview %x[0, 0] [4, 4] [1, 2] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 2]>>
  %os = memref.subview %out[0, 1] [4, 3] [1, 1] : memref<4x6xf32> to memref<4x3xf32, strided<[6, 1], offset: 1>>
  kiln.runtime_call <matmul> site 0 config [1, 4, 3, 4, 0, 1, 0, 0, 0, 0]
      ins(%xs, %w : memref<4x4xf32, strided<[8, 2]>>, memref<3x4xf32>)
      outs(%os : memref<4x3xf32, strided<[6, 1], offset: 1>>)
  return
}

// -----

// A contiguous slice at an offset is not at the start of its buffer: it is
// copied too. Each strided output is copied back after the call.
// CHECK-LABEL: func.func @offsets(
// CHECK-SAME: %[[X:.*]]: memref<8x4xf32>, %[[G:.*]]: memref<2x4xf32>, %[[DX:.*]]: memref<4x4xf32>, %[[DW:.*]]: memref<4xf32>, %[[DB:.*]]: memref<4xf32>)
// CHECK: %[[XS:.*]] = memref.subview %[[X]][4, 0] [2, 4] [1, 1]
// CHECK: %[[DXS:.*]] = memref.subview %[[DX]][2, 0] [2, 4] [1, 1]
// CHECK: %[[XC:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK-NEXT: memref.copy %[[XS]], %[[XC]]
// CHECK-NEXT: %[[DXC:.*]] = memref.alloc() : memref<2x4xf32>
// CHECK-NEXT: kiln.runtime_call <layer_norm_backward> site 3 config [2, 4, 4532020583610935537, 1, -1] ins(%[[G]], %[[XC]], %[[DW]] : memref<2x4xf32>, memref<2x4xf32>, memref<4xf32>) outs(%[[DXC]], %[[DW]], %[[DB]] : memref<2x4xf32>, memref<4xf32>, memref<4xf32>)
// CHECK-NEXT: memref.copy %[[DXC]], %[[DXS]] : memref<2x4xf32> to memref<2x4xf32, strided<[4, 1], offset: 8>>
// CHECK-NEXT: return
func.func @offsets(%x: memref<8x4xf32>, %g: memref<2x4xf32>, %dx: memref<4x4xf32>, %dw: memref<4xf32>, %db: memref<4xf32>) {
  %xs = memref.subview %x[4, 0] [2, 4] [1, 1] : memref<8x4xf32> to memref<2x4xf32, strided<[4, 1], offset: 16>>
  %dxs = memref.subview %dx[2, 0] [2, 4] [1, 1] : memref<4x4xf32> to memref<2x4xf32, strided<[4, 1], offset: 8>>
  kiln.runtime_call <layer_norm_backward> site 3 config [2, 4, 4532020583610935537, 1, -1]
      ins(%g, %xs, %dw : memref<2x4xf32>, memref<2x4xf32, strided<[4, 1], offset: 16>>, memref<4xf32>)
      outs(%dxs, %dw, %db : memref<2x4xf32, strided<[4, 1], offset: 8>>, memref<4xf32>, memref<4xf32>)
  return
}

// -----

// Row-major buffers are passed as they are.
// CHECK-LABEL: func.func @contiguous(
// CHECK-NEXT: kiln.runtime_call
// CHECK-NEXT: return
func.func @contiguous(%x: memref<2x4xf32>, %w: memref<3x4xf32>, %y: memref<2x3xf32>) {
  kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0]
      ins(%x, %w : memref<2x4xf32>, memref<3x4xf32>) outs(%y : memref<2x3xf32>)
  return
}

// -----

// Calls on tensors have no layout to fix: they are left alone.
// CHECK-LABEL: func.func @tensors(
// CHECK-NEXT: tensor.empty
// CHECK-NEXT: kiln.runtime_call <matmul> {{.*}} ins(%{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<3x4xf32>) outs(%{{.*}} : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: return
func.func @tensors(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %y = kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0]
      ins(%x, %w : tensor<2x4xf32>, tensor<3x4xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
