// kiln-name-constants renames One-Shot Bufferize's constant globals in the
// order of their first use in the module and moves them, in that order, to
// the top: whatever order bufferization made them in.
// RUN: kiln-opt %s -kiln-name-constants | FileCheck %s

// CHECK: module {
// CHECK-NEXT: memref.global "private" constant @__constant_2xi64 : memref<2xi64> = dense<[64, 1]>
// CHECK-NEXT: memref.global "private" constant @__constant_4xf32 : memref<4xf32> = dense<1.000000e+00>
// CHECK-NEXT: memref.global "private" constant @__constant_2xi64_0 : memref<2xi64> = dense<[64, 3136]>
// A global that is not a private constant keeps its name and place.
// CHECK-NEXT: memref.global @state : memref<2xi64>
// CHECK-LABEL: func.func @first(
// CHECK: memref.get_global @__constant_2xi64 : memref<2xi64>
// CHECK: memref.get_global @__constant_4xf32 : memref<4xf32>
// CHECK: memref.get_global @state
// CHECK-LABEL: func.func @second(
// CHECK: memref.get_global @__constant_2xi64_0 : memref<2xi64>
// CHECK: memref.get_global @__constant_4xf32 : memref<4xf32>
module {
  memref.global "private" constant @__constant_2xi64 : memref<2xi64> = dense<[64, 3136]>
  memref.global "private" constant @__constant_4xf32 : memref<4xf32> = dense<1.0>
  memref.global "private" constant @__constant_2xi64_0 : memref<2xi64> = dense<[64, 1]>
  memref.global @state : memref<2xi64>
  func.func @first() -> (memref<2xi64>, memref<4xf32>, memref<2xi64>) {
    %0 = memref.get_global @__constant_2xi64_0 : memref<2xi64>
    %1 = memref.get_global @__constant_4xf32 : memref<4xf32>
    %2 = memref.get_global @state : memref<2xi64>
    return %0, %1, %2 : memref<2xi64>, memref<4xf32>, memref<2xi64>
  }
  func.func @second() -> (memref<2xi64>, memref<4xf32>) {
    %0 = memref.get_global @__constant_2xi64 : memref<2xi64>
    %1 = memref.get_global @__constant_4xf32 : memref<4xf32>
    return %0, %1 : memref<2xi64>, memref<4xf32>
  }
}
