// kiln-collapse-loops merges consecutive loops of linalg ops on buffers when
// every operand indexes both as contiguous dimensions, or neither.
// RUN: kiln-opt %s -kiln-collapse-loops -split-input-file | FileCheck %s

// An elementwise op becomes one loop over the flattened buffers; a bias that
// only the channel loop indexes keeps that loop apart and merges the rest.
// CHECK-LABEL: func.func @elementwise(
// CHECK-SAME: %[[A:.*]]: memref<2x3x4x5xf32>, %[[B:.*]]: memref<2x3x4x5xf32>, %[[C:.*]]: memref<3xf32>)
// CHECK: %[[A1:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0, 1, 2, 3]] : memref<2x3x4x5xf32> into memref<120xf32>
// CHECK: %[[B1:.*]] = memref.collapse_shape %[[B]] {{\[\[}}0, 1, 2, 3]] : memref<2x3x4x5xf32> into memref<120xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[A1]] : memref<120xf32>) outs(%[[B1]] : memref<120xf32>)
// CHECK: %[[A3:.*]] = memref.collapse_shape %[[A]] {{\[\[}}0], [1], [2, 3]] : memref<2x3x4x5xf32> into memref<2x3x20xf32>
// CHECK: %[[B3:.*]] = memref.collapse_shape %[[B]] {{\[\[}}0], [1], [2, 3]] : memref<2x3x4x5xf32> into memref<2x3x20xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[A3]], %[[C]] : memref<2x3x20xf32>, memref<3xf32>) outs(%[[B3]] : memref<2x3x20xf32>)
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @elementwise(%a: memref<2x3x4x5xf32>, %b: memref<2x3x4x5xf32>, %c: memref<3xf32>) {
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a : memref<2x3x4x5xf32>) outs(%b : memref<2x3x4x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.negf %in : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id4, #channel, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%a, %c : memref<2x3x4x5xf32>, memref<3xf32>) outs(%b : memref<2x3x4x5xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %0 = arith.addf %in, %bias : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Loops of different kinds stay apart: a sum over all but the channels
// merges only its two innermost reductions.
// CHECK-LABEL: func.func @reduction(
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] : memref<2x3x4x5xf32> into memref<2x3x20xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel", "reduction"]}
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#channel = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @reduction(%a: memref<2x3x4x5xf32>, %sum: memref<3xf32>) {
  linalg.generic {indexing_maps = [#id4, #channel], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%a : memref<2x3x4x5xf32>) outs(%sum : memref<3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// A strided operand whose rows are not contiguous keeps its loops; a named
// op is generalized, then collapsed.
// CHECK-LABEL: func.func @strided_and_named(
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : memref<4x8xf32, strided<[16, 1]>>) outs(%{{.*}} : memref<4x8xf32>)
// CHECK: %[[F:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1]] : memref<4x8xf32> into memref<32xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%{{.*}} : f32) outs(%[[F]] : memref<32xf32>)
// CHECK-NOT: linalg.fill
func.func @strided_and_named(%a: memref<4x8xf32, strided<[16, 1]>>, %b: memref<4x8xf32>, %x: f32) {
  linalg.copy ins(%a : memref<4x8xf32, strided<[16, 1]>>) outs(%b : memref<4x8xf32>)
  linalg.fill ins(%x : f32) outs(%b : memref<4x8xf32>)
  return
}

// -----

// linalg.index of merged loops is recovered from the merged index.
// CHECK-LABEL: func.func @indexed(
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]}
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK: %[[EIGHT:.*]] = arith.constant 8 : index
// CHECK: %[[J:.*]] = arith.remsi %[[I]], %[[EIGHT]] : index
// CHECK: arith.index_cast %[[J]] : index to i64
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @indexed(%b: memref<4x8xi64>) {
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%b : memref<4x8xi64>) {
  ^bb0(%out: i64):
    %j = linalg.index 1 : index
    %0 = arith.index_cast %j : index to i64
    linalg.yield %0 : i64
  }
  return
}

// -----

// A reduction into a trailing dimension of 1, indexed by a constant, stays
// as it is: its loops are not collapsed (upstream's collapsing would build an
// invalid reassociation for the constant).
// CHECK-LABEL: func.func @constant_index(
// CHECK-NOT: memref.collapse_shape
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
#identity = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#kept = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
func.func @constant_index(%a: memref<2x3x4x5xf32>, %m: memref<2x3x4x1xf32>) {
  linalg.generic {indexing_maps = [#identity, #kept],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a : memref<2x3x4x5xf32>) outs(%m : memref<2x3x4x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.maximumf %x, %acc : f32
    linalg.yield %r : f32
  }
  return
}
