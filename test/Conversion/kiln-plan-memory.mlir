// kiln-plan-memory places every buffer of a step in one arena argument at an
// offset fixed at compile time, reusing bytes between buffers that are never
// used by the same operation; every offset and size is a multiple of 64.
// RUN: kiln-opt %s -kiln-plan-memory -split-input-file \
// RUN:   | FileCheck %s --implicit-check-not=memref.alloc --implicit-check-not=memref.dealloc

// Buffers are placed largest first, each at the lowest offset free during
// its life (from its allocation to its last use). C (128 bytes) goes first, at
// 0; A (64) lives before C is allocated, so it shares offset 0 with it; B (64)
// is alive with both, so it goes after C, at 128. The peak is B and C, 192.
// CHECK-LABEL: func.func @reuse(
// CHECK-SAME: %[[X:.*]]: memref<16xf32>, %[[ARENA:.*]]: memref<192xi8> {kiln.arena})
// CHECK-SAME: attributes {kiln.arena_bytes = 192 : i64, kiln.peak_bytes = 192 : i64}
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[OA]]][] : memref<192xi8> to memref<16xf32>
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[A]] : memref<16xf32>)
// CHECK-NEXT: %[[OB:.*]] = arith.constant 128 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[OB]]][] : memref<192xi8> to memref<16xf32>
// CHECK-NEXT: memref.copy %[[A]], %[[B]]
// CHECK-NEXT: %[[OC:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C:.*]] = memref.view %[[ARENA]][%[[OC]]][] : memref<192xi8> to memref<32xf32>
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[C]] : memref<32xf32>)
// CHECK-NEXT: memref.copy %[[B]], %[[X]]
// CHECK-NEXT: memref.subview %[[C]]
func.func @reuse(%x: memref<16xf32>) {
  %cst = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  %c = memref.alloc() : memref<32xf32>
  linalg.fill ins(%cst : f32) outs(%c : memref<32xf32>)
  memref.copy %b, %x : memref<16xf32> to memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  %s = memref.subview %c[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  memref.copy %s, %x : memref<16xf32, strided<[1]>> to memref<16xf32>
  return
}

// -----

// Views extend the life of their buffer: A's last direct use comes before B
// is allocated, but a reshape of A is read after, so B cannot take A's bytes.
// CHECK-LABEL: func.func @aliases(
// CHECK-SAME: attributes {kiln.arena_bytes = 128 : i64, kiln.peak_bytes = 128 : i64}
// CHECK: %[[OA:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %{{.*}}[%[[OA]]][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.expand_shape %[[A]]
// CHECK: %[[OB:.*]] = arith.constant 64 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[OB]]][] : memref<128xi8> to memref<16xf32>
func.func @aliases(%x: memref<4x4xf32>) {
  %cst = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%cst : f32) outs(%a : memref<16xf32>)
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 4] : memref<16xf32> into memref<4x4xf32>
  %b = memref.alloc() : memref<16xf32>
  linalg.fill ins(%cst : f32) outs(%b : memref<16xf32>)
  memref.copy %v, %x : memref<4x4xf32> to memref<4x4xf32>
  return
}

// A use inside a region counts at the op that holds the region: C is read in
// the loop, after B is allocated, so B goes after C.
// CHECK-LABEL: func.func @regions(
// CHECK-SAME: attributes {kiln.arena_bytes = 192 : i64, kiln.peak_bytes = 192 : i64}
// CHECK: %[[OC:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[OC]]][] : memref<192xi8> to memref<32xf32>
// CHECK: %[[OB:.*]] = arith.constant 128 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[OB]]][] : memref<192xi8> to memref<16xf32>
func.func @regions(%y: memref<32xf32>, %c0: index, %c1: index) {
  %cst = arith.constant 1.0 : f32
  %c = memref.alloc() : memref<32xf32>
  linalg.fill ins(%cst : f32) outs(%c : memref<32xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.fill ins(%cst : f32) outs(%b : memref<16xf32>)
  scf.for %i = %c0 to %c1 step %c1 {
    memref.copy %c, %y : memref<32xf32> to memref<32xf32>
  }
  return
}

// -----

// Sizes are whole bytes per element (an i1 takes one, an index eight),
// rounded up to 64: 1000 x i1 takes 1024 bytes, 4 x index 64, one f32 64.
// CHECK-LABEL: func.func @sizes(
// CHECK-SAME: %{{.*}}: memref<1152xi8> {kiln.arena}) attributes {kiln.arena_bytes = 1152 : i64, kiln.peak_bytes = 1152 : i64}
// CHECK: %[[O1:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[O1]]][] : memref<1152xi8> to memref<1000xi1>
// CHECK: %[[O2:.*]] = arith.constant 1024 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[O2]]][] : memref<1152xi8> to memref<4xindex>
// CHECK: %[[O3:.*]] = arith.constant 1088 : index
// CHECK-NEXT: memref.view %{{.*}}[%[[O3]]][] : memref<1152xi8> to memref<f32>
func.func @sizes(%x: memref<1000xi1>, %y: memref<4xindex>, %z: memref<f32>) {
  %a = memref.alloc() : memref<1000xi1>
  memref.copy %x, %a : memref<1000xi1> to memref<1000xi1>
  %b = memref.alloc() : memref<4xindex>
  memref.copy %y, %b : memref<4xindex> to memref<4xindex>
  %c = memref.alloc() : memref<f32>
  memref.copy %z, %c : memref<f32> to memref<f32>
  memref.copy %a, %x : memref<1000xi1> to memref<1000xi1>
  memref.copy %b, %y : memref<4xindex> to memref<4xindex>
  memref.copy %c, %z : memref<f32> to memref<f32>
  return
}

// -----

// Each function gets its own arena, at least 64 bytes even with no buffer;
// declarations get none.
// CHECK: func.func private @declared(memref<4xf32>)
// CHECK-LABEL: func.func @empty(
// CHECK-SAME: %{{.*}}: memref<4xf32>, %{{.*}}: memref<64xi8> {kiln.arena}) attributes {kiln.arena_bytes = 64 : i64, kiln.peak_bytes = 0 : i64}
// CHECK-LABEL: func.func @one(
// CHECK-SAME: %{{.*}}: memref<128xi8> {kiln.arena}) attributes {kiln.arena_bytes = 128 : i64, kiln.peak_bytes = 128 : i64}
func.func private @declared(memref<4xf32>)
func.func @empty(%x: memref<4xf32>) {
  return
}
func.func @one(%x: memref<20xf32>) {
  %a = memref.alloc() : memref<20xf32>
  memref.copy %x, %a : memref<20xf32> to memref<20xf32>
  return
}
