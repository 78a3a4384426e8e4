// kiln-reduce-gradients averages over the ranks every gradient that reaches
// an optimizer update (or the clipping before the updates), in buckets of at
// most bucket-bytes taken in the order the gradients are computed, each
// placed right after its last gradient.
// RUN: kiln-opt %s -kiln-reduce-gradients -split-input-file | FileCheck %s
// RUN: kiln-opt %s -kiln-reduce-gradients=bucket-bytes=48 -split-input-file \
// RUN:   | FileCheck %s --check-prefix=SMALL

// The bias's gradient is computed first: one bucket of both, in that order,
// right after the weight's, which both updates then use. With buckets of 48
// bytes, the 12 bytes of the bias and the 48 of the weight go separately,
// each right after its own gradient. The function records the 60 bytes and
// the buckets.
// CHECK-LABEL: func.func @sgd(
// CHECK-SAME: attributes {kiln.reduced_buckets = 1 : i64, kiln.reduced_bytes = 60 : i64}
// CHECK: %[[DB:.*]] = kiln.neg %{{.*}} : tensor<3xf32>
// CHECK-NEXT: %[[DW:.*]] = kiln.mul
// CHECK-NEXT: %[[R:.*]]:2 = kiln.all_reduce %[[DB]], %[[DW]] {bucket = 0 : i64}
// CHECK-NEXT: kiln.exp
// CHECK: kiln.sgd %{{.*}}, %[[R]]#1,
// CHECK: kiln.sgd %{{.*}}, %[[R]]#0,
// SMALL-LABEL: func.func @sgd(
// SMALL-SAME: attributes {kiln.reduced_buckets = 2 : i64, kiln.reduced_bytes = 60 : i64}
// SMALL: %[[DB:.*]] = kiln.neg
// SMALL-NEXT: %[[RB:.*]] = kiln.all_reduce %[[DB]] {bucket = 0 : i64} : (tensor<3xf32>) -> tensor<3xf32>
// SMALL-NEXT: %[[DW:.*]] = kiln.mul
// SMALL-NEXT: %[[RW:.*]] = kiln.all_reduce %[[DW]] {bucket = 1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
// SMALL: kiln.sgd %{{.*}}, %[[RW]],
// SMALL: kiln.sgd %{{.*}}, %[[RB]],
func.func @sgd(%w: tensor<4x3xf32>, %b: tensor<3xf32>, %x: tensor<4x3xf32>,
               %lr: tensor<f32>, %step: tensor<i64>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %db = kiln.neg %b : tensor<3xf32>
  %dw = kiln.mul %w, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %other = kiln.exp %b : tensor<3xf32>
  %w1 = kiln.sgd %w, %dw, %lr, %step : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> tensor<4x3xf32>
  %b1 = kiln.sgd %b, %db, %lr, %step : (tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> tensor<3xf32>
  return %w1, %b1, %other : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Clipping takes the averaged gradients, so that every rank computes the same
// norm: its operands are reduced, and the updates keep the clipped values.
// CHECK-LABEL: func.func @clipped(
// CHECK: %[[DW:.*]] = kiln.mul
// CHECK-NEXT: %[[DB:.*]] = kiln.neg
// CHECK-NEXT: %[[R:.*]]:2 = kiln.all_reduce %[[DW]], %[[DB]] {bucket = 0 : i64}
// CHECK-NEXT: %[[C:.*]]:2 = kiln.clip_grad_norm %[[R]]#0, %[[R]]#1
// CHECK: kiln.adam %{{.*}}, %[[C]]#0,
// CHECK: kiln.adam %{{.*}}, %[[C]]#1,
func.func @clipped(%w: tensor<4x3xf32>, %b: tensor<3xf32>, %x: tensor<4x3xf32>,
                   %m: tensor<4x3xf32>, %v: tensor<4x3xf32>, %mb: tensor<3xf32>, %vb: tensor<3xf32>,
                   %lr: tensor<f32>, %step: tensor<i64>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %dw = kiln.mul %w, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %db = kiln.neg %b : tensor<3xf32>
  %c:2 = kiln.clip_grad_norm %dw, %db {max_norm = 1.0 : f64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  %w1, %m1, %v1 = kiln.adam %w, %c#0, %m, %v, %lr, %step : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  %b1, %mb1, %vb1 = kiln.adam %b, %c#1, %mb, %vb, %lr, %step : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %w1, %b1 : tensor<4x3xf32>, tensor<3xf32>
}

// -----

// An update that comes before the next gradient closes the bucket, however
// small: its gradient must be reduced before it. A gradient that two updates
// share is reduced once.
// CHECK-LABEL: func.func @interleaved(
// CHECK: %[[DB:.*]] = kiln.neg
// CHECK-NEXT: %[[R0:.*]] = kiln.all_reduce %[[DB]] {bucket = 0 : i64}
// CHECK-NEXT: kiln.sgd %{{.*}}, %[[R0]],
// CHECK-NEXT: kiln.sgd %{{.*}}, %[[R0]],
// CHECK-NEXT: %[[DW:.*]] = kiln.mul
// CHECK-NEXT: %[[R1:.*]] = kiln.all_reduce %[[DW]] {bucket = 1 : i64}
// CHECK-NEXT: kiln.sgd %{{.*}}, %[[R1]],
func.func @interleaved(%w: tensor<4x3xf32>, %b: tensor<3xf32>, %x: tensor<4x3xf32>,
                       %lr: tensor<f32>, %step: tensor<i64>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %db = kiln.neg %b : tensor<3xf32>
  %b1 = kiln.sgd %b, %db, %lr, %step : (tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> tensor<3xf32>
  %b2 = kiln.sgd %b1, %db, %lr, %step : (tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> tensor<3xf32>
  %dw = kiln.mul %w, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %w1 = kiln.sgd %w, %dw, %lr, %step : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> tensor<4x3xf32>
  return %w1, %b1, %b2 : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// A gradient that is an argument is reduced at the start; a function without
// updates is left alone.
// CHECK-LABEL: func.func @argument(
// CHECK-NEXT: %[[R:.*]] = kiln.all_reduce %arg1 {bucket = 0 : i64}
// CHECK-NEXT: kiln.sgd %arg0, %[[R]],
// CHECK-LABEL: func.func @no_updates(
// CHECK-NOT: kiln.reduced_b
// CHECK-NOT: kiln.all_reduce
func.func @argument(%w: tensor<3xf32>, %g: tensor<3xf32>, %lr: tensor<f32>, %step: tensor<i64>) -> tensor<3xf32> {
  %w1 = kiln.sgd %w, %g, %lr, %step : (tensor<3xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> tensor<3xf32>
  return %w1 : tensor<3xf32>
}
func.func @no_updates(%x: tensor<3xf32>) -> tensor<3xf32> {
  %y = kiln.neg %x : tensor<3xf32>
  return %y : tensor<3xf32>
}
