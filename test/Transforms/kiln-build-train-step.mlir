// kiln-build-train-step builds @train_step and @eval_step from the model and
// the module's recipe.
// RUN: kiln-opt %s -kiln-build-train-step -split-input-file | FileCheck %s

// SGD with momentum: one momentum buffer per parameter; dropout draws from
// the step counter while training and is off while evaluating.
module attributes {kiln.recipe = {batch_size = 2 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"},
    optimizer = {kind = "sgd", lr = 1.0e-01 : f64, momentum = 9.0e-01 : f64, dampening = 0.0 : f64,
                 weight_decay = 1.0e-04 : f64, nesterov = true},
    schedule = {kind = "step", warmup = 0 : i64, every = 100 : i64, gamma = 5.0e-01 : f64}}} {
  func.func @m(%w: tensor<3x4xf32> {kiln.param = "fc.weight"}, %b: tensor<3xf32> {kiln.param = "fc.bias"},
               %x: tensor<2x4xf32> {kiln.input = "x"}, %y: tensor<2xi64> {kiln.input = "y"},
               %step: tensor<i64> {kiln.step})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"}, tensor<2x3xf32> {kiln.output = "logits"}) {
    %d = kiln.dropout %x, %step {p = 0.5 : f64} : (tensor<2x4xf32>, tensor<i64>) -> tensor<2x4xf32>
    %logits = kiln.linear %d, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %loss = kiln.cross_entropy %logits, %y : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %p = kiln.argmax %logits {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2xi64>
    %c = kiln.count_equal %p, %y : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
    return %loss, %c, %logits : tensor<f32>, tensor<i64>, tensor<2x3xf32>
  }
}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %[[EW:.*]]: tensor<3x4xf32> {kiln.param = "fc.weight"}, %{{.*}}: tensor<3xf32> {kiln.param = "fc.bias"}, %[[EX:.*]]: tensor<2x4xf32> {kiln.input = "x"}, %{{.*}}: tensor<2xi64> {kiln.input = "y"})
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"}, tensor<2xi64> {kiln.output = "predictions"})
// CHECK-NOT: kiln.dropout
// CHECK: kiln.linear %[[EX]], %[[EW]]
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W:.*]]: tensor<3x4xf32> {kiln.param = "fc.weight"}, %[[B:.*]]: tensor<3xf32> {kiln.param = "fc.bias"},
// CHECK-SAME: %[[WM:.*]]: tensor<3x4xf32> {kiln.state = "fc.weight.momentum_buffer"}, %[[BM:.*]]: tensor<3xf32> {kiln.state = "fc.bias.momentum_buffer"},
// CHECK-SAME: %[[STEP:.*]]: tensor<i64> {kiln.step}, %[[TOTAL:.*]]: tensor<i64> {kiln.total_steps},
// CHECK-SAME: %[[X:.*]]: tensor<2x4xf32> {kiln.input = "x"}, %{{.*}}: tensor<2xi64> {kiln.input = "y"})
// CHECK-SAME: -> (tensor<3x4xf32> {kiln.param = "fc.weight"}, tensor<3xf32> {kiln.param = "fc.bias"},
// CHECK-SAME: tensor<3x4xf32> {kiln.state = "fc.weight.momentum_buffer"}, tensor<3xf32> {kiln.state = "fc.bias.momentum_buffer"},
// CHECK-SAME: tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"}, tensor<f32> {kiln.output = "lr"})
// CHECK: kiln.dropout %[[X]], %[[STEP]]
// CHECK: %[[LR:.*]] = kiln.learning_rate %[[STEP]], %[[TOTAL]] {every = 100 : i64, gamma = 5.000000e-01 : f64, lr = 1.000000e-01 : f64, schedule = "step"}
// CHECK-NOT: kiln.clip_grad_norm
// CHECK: %[[NW:.*]], %[[NWM:.*]] = kiln.sgd %[[W]], %{{.*}}, %[[LR]], %[[STEP]], %[[WM]] {momentum = 9.000000e-01 : f64, nesterov = true, weight_decay = 1.000000e-04 : f64}
// CHECK: %[[NB:.*]], %[[NBM:.*]] = kiln.sgd %[[B]], %{{.*}}, %[[LR]], %[[STEP]], %[[BM]]
// CHECK: return %[[NW]], %[[NB]], %[[NWM]], %[[NBM]], %{{.*}}, %{{.*}}, %[[LR]] :

// -----

// Adam: two moments per parameter; clipping by global norm before the update.
module attributes {kiln.recipe = {batch_size = 2 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"}, clip_grad_norm = 1.0 : f64,
    optimizer = {kind = "adamw", lr = 1.0e-03 : f64, beta1 = 9.0e-01 : f64, beta2 = 9.5e-01 : f64,
                 eps = 1.0e-08 : f64, weight_decay = 1.0e-02 : f64},
    schedule = {kind = "cosine", warmup = 10 : i64, min_lr = 0.0 : f64}}} {
  func.func @m(%w: tensor<4xf32> {kiln.param = "w"}, %v: tensor<4xf32> {kiln.param = "v"})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %p = kiln.mul %w, %v : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %loss = kiln.reduce_sum %p {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: -> (tensor<f32> {kiln.output = "loss"})
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {kiln.state = "w.exp_avg"}, %{{.*}}: tensor<4xf32> {kiln.state = "w.exp_avg_sq"}, %{{.*}}: tensor<4xf32> {kiln.state = "v.exp_avg"}, %{{.*}}: tensor<4xf32> {kiln.state = "v.exp_avg_sq"}
// CHECK: kiln.learning_rate {{.*}} {lr = 1.000000e-03 : f64, schedule = "cosine", warmup = 10 : i64}
// CHECK: %[[CLIPPED:.*]]:2 = kiln.clip_grad_norm %{{.*}}, %{{.*}} {max_norm = 1.000000e+00 : f64}
// CHECK: kiln.adamw %{{.*}}, %[[CLIPPED]]#0, {{.*}} {beta2 = 0.94999999999999996 : f64}
// CHECK: kiln.adamw %{{.*}}, %[[CLIPPED]]#1
