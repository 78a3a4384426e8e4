// kiln-autodiff adds <name>_grad: the results, then the gradient of the loss
// with respect to each parameter.
// RUN: kiln-opt %s -kiln-autodiff -split-input-file | FileCheck %s
// RUN: kiln-opt %s -kiln-autodiff=wrt=all -split-input-file | FileCheck %s --check-prefix=ALL

// A value used twice sums its two gradients; the input batch gets none.
// CHECK-LABEL: func.func @linear_model(
// CHECK-LABEL: func.func @linear_model_grad(
// CHECK-SAME: %[[W:.*]]: tensor<3x4xf32> {kiln.param = "w"}, %[[X:.*]]: tensor<2x4xf32> {kiln.input = "x"})
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<3x4xf32> {kiln.grad = "w"})
// CHECK-SAME: attributes {kiln.gradient_of = @linear_model}
// CHECK: %[[H:.*]] = kiln.linear %[[X]], %[[W]]
// CHECK: %[[T:.*]] = kiln.tanh %[[H]]
// CHECK: %[[P:.*]] = kiln.mul %[[T]], %[[H]]
// CHECK: %[[LOSS:.*]] = kiln.reduce_sum %[[P]]
// CHECK: %[[ONE:.*]] = kiln.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DP:.*]] = kiln.broadcast_to
// CHECK: %[[DT:.*]] = kiln.mul %[[DP]], %[[H]]
// CHECK: %[[DH1:.*]] = kiln.mul %[[DP]], %[[T]]
// CHECK: %[[DH2:.*]] = kiln.mul %[[DT]],
// CHECK: %[[DH:.*]] = kiln.add %[[DH1]], %[[DH2]]
// CHECK: %[[DW:.*]] = kiln.matmul %[[DH]], %[[X]] {transpose_lhs = true}
// CHECK-NOT: kiln.matmul
// CHECK: return %[[LOSS]], %[[DW]]
// ALL-LABEL: func.func @linear_model_grad(
// ALL-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<3x4xf32> {kiln.grad = "w"}, tensor<2x4xf32> {kiln.grad = "x"})
func.func @linear_model(%w: tensor<3x4xf32> {kiln.param = "w"}, %x: tensor<2x4xf32> {kiln.input = "x"})
    -> (tensor<f32> {kiln.output = "loss"}) {
  %h = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %t = kiln.tanh %h : tensor<2x3xf32>
  %p = kiln.mul %t, %h : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %loss = kiln.reduce_sum %p {axes = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A parameter the loss does not depend on has a zero gradient; integer
// operands (labels) get no gradient; ops off the path get no adjoint.
// CHECK-LABEL: func.func @unused_grad(
// CHECK: %[[DL:.*]] = kiln.cross_entropy_backward
// CHECK-NOT: kiln.reduce_mean
// CHECK: %[[ZERO:.*]] = kiln.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: return {{.*}}, %[[DL]], %[[ZERO]]
func.func @unused(%logits: tensor<2x4xf32> {kiln.param = "logits"}, %unused: tensor<4xf32> {kiln.param = "unused"},
                  %labels: tensor<2xi64> {kiln.input = "labels"})
    -> (tensor<f32> {kiln.output = "loss"}, tensor<2xf32> {kiln.output = "other"}) {
  %loss = kiln.cross_entropy %logits, %labels : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  %other = kiln.reduce_mean %logits {axes = array<i64: 1>} : (tensor<2x4xf32>) -> tensor<2xf32>
  return %loss, %other : tensor<f32>, tensor<2xf32>
}

// -----

// Functions without a loss are left alone.
// CHECK-LABEL: func.func @no_loss(
// CHECK-NOT: func.func @no_loss_grad
func.func @no_loss(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A function with a gradient function already (a kiln-grad stage read back)
// gets no second one.
// CHECK-LABEL: func.func @has_grad(
// CHECK: func.func @has_grad_grad(
// CHECK-NOT: func.func
module {
  func.func @has_grad(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
  func.func @has_grad_grad(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}, tensor<f32> {kiln.grad = "w"}) attributes {kiln.gradient_of = @has_grad} {
    return %w, %w : tensor<f32>, tensor<f32>
  }
}

// -----

// A module with its train step (a train-step stage read back) has its
// backward in the step: nothing is differentiated.
// CHECK-LABEL: func.func @model(
// CHECK: func.func @train_step(
// CHECK-NOT: func.func
module {
  func.func @model(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
  func.func @train_step(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
}
