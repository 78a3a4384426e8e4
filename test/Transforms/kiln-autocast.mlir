// kiln-autocast rounds the float32 operands and results of the
// lower-precision ops (here kiln.linear) to bfloat16 in the model function,
// each value once, and nothing else. A second run changes nothing. With
// kiln-autodiff after it, the gradient products take rounded values and each
// gradient of a rounded value is rounded, as in torch.autocast.
// RUN: kiln-opt %s -kiln-autocast -split-input-file -verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s -kiln-autocast -kiln-autocast -split-input-file -verify-diagnostics \
// RUN:   | FileCheck %s
// RUN: kiln-opt %s -kiln-autocast -kiln-autodiff -canonicalize -cse -split-input-file \
// RUN:   -verify-diagnostics | FileCheck %s --check-prefix=GRAD

// x feeds both linears but is rounded once; the first linear's result is
// rounded before the relu and the return use it; the float64 op and the
// elementwise ops are left alone.
// CHECK-LABEL: func.func @model(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x3xf32> {kiln.input = "x"}, %[[W:[^:]*]]: tensor<2x3xf32> {kiln.param = "w"}, %[[B:[^:]*]]: tensor<2xf32> {kiln.param = "b"}, %[[V:[^:]*]]: tensor<2x3xf32> {kiln.param = "v"}, %[[D:[^:]*]]: tensor<2x2xf64>
// CHECK-DAG: %[[RV:.*]] = kiln.reduce_precision %[[V]] {precision = bf16} : tensor<2x3xf32>
// CHECK-DAG: %[[RB:.*]] = kiln.reduce_precision %[[B]] {precision = bf16} : tensor<2xf32>
// CHECK-DAG: %[[RW:.*]] = kiln.reduce_precision %[[W]] {precision = bf16} : tensor<2x3xf32>
// CHECK-DAG: %[[RX:.*]] = kiln.reduce_precision %[[X]] {precision = bf16} : tensor<4x3xf32>
// CHECK: %[[Y:.*]] = kiln.linear %[[RX]], %[[RW]], %[[RB]]
// CHECK-NEXT: %[[RY:.*]] = kiln.reduce_precision %[[Y]] {precision = bf16} : tensor<4x2xf32>
// CHECK-NEXT: %[[RELU:.*]] = kiln.relu %[[RY]]
// CHECK-NEXT: %[[Z:.*]] = kiln.linear %[[RX]], %[[RV]] :
// CHECK-NEXT: %[[RZ:.*]] = kiln.reduce_precision %[[Z]] {precision = bf16}
// CHECK-NEXT: kiln.mul %[[RELU]], %[[RZ]]
// CHECK-NEXT: kiln.reduce_sum
// CHECK-NEXT: kiln.matmul %[[D]], %[[D]] : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
// CHECK-NEXT: return %{{.*}}, %[[RY]],
// CHECK-NOT: reduce_precision

// The weight's gradient is the product of the rounded output gradient and
// the rounded input, rounded; so is the bias's sum.
// GRAD-LABEL: func.func @model_grad(
// GRAD-DAG: %[[RW:.*]] = kiln.reduce_precision %arg1 {precision = bf16}
// GRAD-DAG: %[[RX:.*]] = kiln.reduce_precision %arg0 {precision = bf16}
// GRAD: %[[Y:.*]] = kiln.linear %[[RX]], %[[RW]],
// GRAD-NEXT: %[[RY:.*]] = kiln.reduce_precision %[[Y]]
// GRAD: %[[DRELU:.*]] = kiln.relu_backward %{{.*}}, %[[RY]]
// GRAD-NEXT: %[[DY:.*]] = kiln.reduce_precision %[[DRELU]] {precision = bf16}
// GRAD-NEXT: %[[DW:.*]] = kiln.matmul %[[DY]], %[[RX]] {transpose_lhs = true}
// GRAD-NEXT: %[[DB:.*]] = kiln.reduce_sum %[[DY]] {axes = array<i64: 0>}
// GRAD-DAG: %[[RDW:.*]] = kiln.reduce_precision %[[DW]] {precision = bf16} : tensor<2x3xf32>
// GRAD-DAG: %[[RDB:.*]] = kiln.reduce_precision %[[DB]] {precision = bf16} : tensor<2xf32>
// GRAD: return %{{.*}}, %{{.*}}, %[[RDW]], %[[RDB]],
module attributes {kiln.recipe = {precision = "bf16"}} {
  func.func @model(%x: tensor<4x3xf32> {kiln.input = "x"},
                   %w: tensor<2x3xf32> {kiln.param = "w"},
                   %b: tensor<2xf32> {kiln.param = "b"},
                   %v: tensor<2x3xf32> {kiln.param = "v"},
                   %d: tensor<2x2xf64> {kiln.input = "d"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<4x2xf32> {kiln.output = "y"},
          tensor<2x2xf64> {kiln.output = "d"}) {
    %0 = kiln.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    %1 = kiln.relu %0 : tensor<4x2xf32>
    %2 = kiln.linear %x, %v : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
    %3 = kiln.mul %1, %2 : (tensor<4x2xf32>, tensor<4x2xf32>) -> tensor<4x2xf32>
    %4 = kiln.reduce_sum %3 {axes = array<i64: 0, 1>} : (tensor<4x2xf32>) -> tensor<f32>
    %5 = kiln.matmul %d, %d : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
    return %4, %0, %5 : tensor<f32>, tensor<4x2xf32>, tensor<2x2xf64>
  }
}

// -----

// Ops that only select elements (transpose, relu, concat, ...) of rounded
// values give rounded values: the second linear takes the transpose as it
// is. A concatenation with an unrounded operand is rounded.
// CHECK-LABEL: func.func @selected(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x4xf32>, %[[W:[^:]*]]: tensor<4x4xf32>, %[[U:[^:]*]]: tensor<4x3xf32>, %[[V:[^:]*]]: tensor<2x7xf32>
// CHECK-DAG: %[[RV:.*]] = kiln.reduce_precision %[[V]]
// CHECK-DAG: %[[RW:.*]] = kiln.reduce_precision %[[W]]
// CHECK-DAG: %[[RX:.*]] = kiln.reduce_precision %[[X]]
// CHECK: %[[Y:.*]] = kiln.linear %[[RX]], %[[RW]]
// CHECK-NEXT: %[[RY:.*]] = kiln.reduce_precision %[[Y]]
// CHECK-NEXT: %[[T:.*]] = kiln.transpose %[[RY]]
// CHECK-NEXT: %[[R:.*]] = kiln.relu %[[T]]
// CHECK-NEXT: %[[Z:.*]] = kiln.linear %[[R]], %[[RW]]
// CHECK-NEXT: %[[RZ:.*]] = kiln.reduce_precision %[[Z]]
// CHECK-NEXT: %[[C:.*]] = kiln.concat %[[RZ]], %[[U]]
// CHECK-NEXT: %[[RC:.*]] = kiln.reduce_precision %[[C]]
// CHECK-NEXT: kiln.linear %[[RC]], %[[RV]]
module attributes {kiln.recipe = {precision = "bf16"}} {
  func.func @selected(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>, %u: tensor<4x3xf32>,
                      %v: tensor<2x7xf32>) -> tensor<4x2xf32> {
    %0 = kiln.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %1 = kiln.transpose %0 {permutation = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
    %2 = kiln.relu %1 : tensor<4x4xf32>
    %3 = kiln.linear %2, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    %4 = kiln.concat %3, %u {axis = 1 : i64} : (tensor<4x4xf32>, tensor<4x3xf32>) -> tensor<4x7xf32>
    %5 = kiln.linear %4, %v : (tensor<4x7xf32>, tensor<2x7xf32>) -> tensor<4x2xf32>
    return %5 : tensor<4x2xf32>
  }
}

// -----

// A recipe in float32, or none, changes nothing.
// CHECK-LABEL: func.func @f32(
// CHECK-NOT: reduce_precision
// CHECK: return
module attributes {kiln.recipe = {precision = "f32"}} {
  func.func @f32(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>) -> tensor<4x2xf32> {
    %0 = kiln.linear %x, %w : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// CHECK-LABEL: func.func @none(
// CHECK-NOT: reduce_precision
// CHECK: return
module {
  func.func @none(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>) -> tensor<4x2xf32> {
    %0 = kiln.linear %x, %w : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// expected-error @+1 {{kiln.recipe's precision must be "f32" or "bf16", got "fp8"}}
module attributes {kiln.recipe = {precision = "fp8"}} {
  func.func @fp8(%x: tensor<4x3xf32>, %w: tensor<2x3xf32>) -> tensor<4x2xf32> {
    %0 = kiln.linear %x, %w : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}
