// kiln-strided-copies-to-linalg turns each memref.copy with a strided side
// into linalg.copy (loops later), so that no call of memrefCopy is left;
// copies between row-major buffers stay (they become a memcpy).
// RUN: kiln-opt %s -kiln-strided-copies-to-linalg -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @copies(
// CHECK-SAME: %[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x4xf32>, %[[C:.*]]: memref<4x4xf32>)
// CHECK: %[[S:.*]] = memref.subview %[[A]]
// CHECK-NEXT: linalg.copy ins(%[[S]] : memref<4x4xf32, strided<[8, 2]>>) outs(%[[B]] : memref<4x4xf32>)
// CHECK-NEXT: linalg.copy ins(%[[C]] : memref<4x4xf32>) outs(%[[S]] : memref<4x4xf32, strided<[8, 2]>>)
// CHECK-NEXT: memref.copy %[[B]], %[[C]] : memref<4x4xf32> to memref<4x4xf32>
// CHECK-NEXT: return
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  %s = memref.subview %a[0, 0] [4, 4] [1, 2] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 2]>>
  memref.copy %s, %b : memref<4x4xf32, strided<[8, 2]>> to memref<4x4xf32>
  memref.copy %c, %s : memref<4x4xf32> to memref<4x4xf32, strided<[8, 2]>>
  memref.copy %b, %c : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

// Copies nested in regions are found too.
// CHECK-LABEL: func.func @nested(
// CHECK: scf.for
// CHECK-NEXT: linalg.copy ins(%{{.*}} : memref<2xf32, strided<[1], offset: 2>>) outs(%{{.*}} : memref<2xf32>)
func.func @nested(%a: memref<4xf32>, %b: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %s = memref.subview %a[2] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1], offset: 2>>
  scf.for %i = %c0 to %c3 step %c1 {
    memref.copy %s, %b : memref<2xf32, strided<[1], offset: 2>> to memref<2xf32>
  }
  return
}

// -----

// An unranked copy has no loops to become: it stays.
// CHECK-LABEL: func.func @unranked(
// CHECK-NEXT: memref.copy %{{.*}}, %{{.*}} : memref<*xf32> to memref<*xf32>
func.func @unranked(%a: memref<*xf32>, %b: memref<*xf32>) {
  memref.copy %a, %b : memref<*xf32> to memref<*xf32>
  return
}
