// kiln-results-to-slots turns the results of bufferized steps into buffers
// that the caller passes: the steps then return nothing.
// RUN: kiln-opt %s -kiln-results-to-slots -split-input-file | FileCheck %s

// A returned argument (a parameter updated in place) is dropped; a new buffer
// becomes the slot itself, named by the result's attributes; any other value
// (a view, a global) is copied into its slot.
memref.global "private" constant @classes : memref<2xi64> = dense<[2, 1]>
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %{{.*}}: memref<4xf32> {kiln.param = "w"}, %[[X:.*]]: memref<4xf32> {kiln.input = "x"},
// CHECK-SAME: %[[LOSS:.*]]: memref<f32> {kiln.output = "loss"}, %[[VIEW:.*]]: memref<2x2xf32> {kiln.output = "view"}, %[[CLASSES:.*]]: memref<2xi64> {kiln.output = "classes"}) {
// CHECK-NOT: memref.alloc
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[LOSS]] : memref<f32>)
// CHECK: %[[V:.*]] = memref.expand_shape %[[X]]
// CHECK: %[[G:.*]] = memref.get_global @classes
// CHECK: memref.copy %[[V]], %[[VIEW]] : memref<2x2xf32> to memref<2x2xf32>
// CHECK-NEXT: memref.copy %[[G]], %[[CLASSES]] : memref<2xi64> to memref<2xi64>
// CHECK-NEXT: return{{$}}
func.func @step(%p: memref<4xf32> {kiln.param = "w"}, %x: memref<4xf32> {kiln.input = "x"})
    -> (memref<4xf32> {kiln.param = "w"}, memref<f32> {kiln.output = "loss"},
        memref<2x2xf32> {kiln.output = "view"}, memref<2xi64> {kiln.output = "classes"}) {
  %cst = arith.constant 0.0 : f32
  %loss = memref.alloc() : memref<f32>
  linalg.fill ins(%cst : f32) outs(%loss : memref<f32>)
  %v = memref.expand_shape %x [[0, 1]] output_shape [2, 2] : memref<4xf32> into memref<2x2xf32>
  %g = memref.get_global @classes : memref<2xi64>
  return %p, %loss, %v, %g : memref<4xf32>, memref<f32>, memref<2x2xf32>, memref<2xi64>
}

// -----

// One buffer returned twice fills two slots: the first is the buffer, the
// second a copy of it.
// CHECK-LABEL: func.func @twice(
// CHECK-SAME: %{{.*}}: memref<4xf32> {kiln.input = "x"}, %[[A:.*]]: memref<f32> {kiln.output = "a"}, %[[B:.*]]: memref<f32> {kiln.output = "b"}) {
// CHECK-NEXT: arith.constant
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[A]] : memref<f32>)
// CHECK-NEXT: memref.copy %[[A]], %[[B]] : memref<f32> to memref<f32>
// CHECK-NEXT: return{{$}}
func.func @twice(%x: memref<4xf32> {kiln.input = "x"})
    -> (memref<f32> {kiln.output = "a"}, memref<f32> {kiln.output = "b"}) {
  %cst = arith.constant 0.0 : f32
  %r = memref.alloc() : memref<f32>
  linalg.fill ins(%cst : f32) outs(%r : memref<f32>)
  return %r, %r : memref<f32>, memref<f32>
}

// -----

// Every function of the module is rewritten; declarations are left alone.
// CHECK: func.func private @declared(memref<4xf32>) -> memref<4xf32>
// CHECK-LABEL: func.func @in_place(
// CHECK-SAME: %{{.*}}: memref<4xf32> {kiln.param = "w"}) {
// CHECK-NEXT: return{{$}}
// CHECK-LABEL: func.func @nothing() {
// CHECK-NEXT: return{{$}}
func.func private @declared(memref<4xf32>) -> memref<4xf32>
func.func @in_place(%p: memref<4xf32> {kiln.param = "w"}) -> (memref<4xf32> {kiln.param = "w"}) {
  return %p : memref<4xf32>
}
func.func @nothing() {
  return
}
