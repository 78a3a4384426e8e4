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

// -----

// accumulate = 2: each input holds two micro-batches of the model's batch
// size. Each micro-batch has its own forward and backward pass on its rows,
// starting from the running statistics that the one before left (the buffer
// results matched to the arguments by name) and drawing its own dropout mask;
// the gradients and losses are summed as each pass ends and halved, the
// correct predictions counted over both, and the update is one clipping and
// one SGD step.
module attributes {kiln.recipe = {batch_size = 2 : i64, accumulate = 2 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"}, clip_grad_norm = 1.0 : f64,
    optimizer = {kind = "sgd", lr = 1.0e-01 : f64, momentum = 0.0 : f64, dampening = 0.0 : f64,
                 weight_decay = 0.0 : f64, nesterov = false},
    schedule = {kind = "constant", warmup = 0 : i64}}} {
  func.func @m(%w: tensor<3x4xf32> {kiln.param = "fc.weight"},
               %rm: tensor<4xf32> {kiln.buffer = "bn.running_mean"}, %rv: tensor<4xf32> {kiln.buffer = "bn.running_var"},
               %n: tensor<i64> {kiln.buffer = "bn.num_batches_tracked"},
               %x: tensor<2x4xf32> {kiln.input = "x"}, %y: tensor<2xi64> {kiln.input = "y"},
               %step: tensor<i64> {kiln.step})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"},
          tensor<4xf32> {kiln.buffer = "bn.running_var"}, tensor<4xf32> {kiln.buffer = "bn.running_mean"},
          tensor<i64> {kiln.buffer = "bn.num_batches_tracked"}) {
    %h, %m1, %v1, %n1 = kiln.batch_norm %x, %rm, %rv, %n
        : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<i64>)
    %d = kiln.dropout %h, %step {p = 0.5 : f64, seed = 3 : i64} : (tensor<2x4xf32>, tensor<i64>) -> tensor<2x4xf32>
    %logits = kiln.linear %d, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
    %loss = kiln.cross_entropy %logits, %y : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %p = kiln.argmax %logits {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2xi64>
    %c = kiln.count_equal %p, %y : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
    return %loss, %c, %v1, %m1, %n1 : tensor<f32>, tensor<i64>, tensor<4xf32>, tensor<4xf32>, tensor<i64>
  }
}
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %{{[^:]*}}: tensor<2x4xf32> {kiln.input = "x"}, %{{[^:]*}}: tensor<2xi64> {kiln.input = "y"})
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W:[^:]*]]: tensor<3x4xf32> {kiln.param = "fc.weight"},
// CHECK-SAME: %[[RM:[^:]*]]: tensor<4xf32> {kiln.buffer = "bn.running_mean"}, %[[RV:[^:]*]]: tensor<4xf32> {kiln.buffer = "bn.running_var"},
// CHECK-SAME: %[[N:[^:]*]]: tensor<i64> {kiln.buffer = "bn.num_batches_tracked"},
// CHECK-SAME: %[[STEP:[^:]*]]: tensor<i64> {kiln.step}, %{{[^:]*}}: tensor<i64> {kiln.total_steps},
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x4xf32> {kiln.input = "x"}, %[[Y:[^:]*]]: tensor<4xi64> {kiln.input = "y"})
// CHECK-SAME: -> (tensor<3x4xf32> {kiln.param = "fc.weight"},
// CHECK-SAME: tensor<4xf32> {kiln.buffer = "bn.running_var"}, tensor<4xf32> {kiln.buffer = "bn.running_mean"}, tensor<i64> {kiln.buffer = "bn.num_batches_tracked"},
// CHECK-SAME: tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"}, tensor<f32> {kiln.output = "lr"})
// Micro-batch 0: rows 0 and 1.
// CHECK: %[[X0:.*]] = kiln.slice %[[X]] {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 4>, strides = array<i64: 1, 1>} : (tensor<4x4xf32>) -> tensor<2x4xf32>
// CHECK: %[[Y0:.*]] = kiln.slice %[[Y]] {offsets = array<i64: 0>, sizes = array<i64: 2>, strides = array<i64: 1>} : (tensor<4xi64>) -> tensor<2xi64>
// CHECK: %{{.*}}, %[[M0:.*]], %[[V0:.*]], %[[N0:.*]] = kiln.batch_norm %[[X0]], %[[RM]], %[[RV]], %[[N]] :
// CHECK: kiln.dropout %{{.*}}, %[[STEP]] {p = 5.000000e-01 : f64, seed = 3 : i64}
// CHECK: %[[L0:.*]] = kiln.cross_entropy %{{.*}}, %[[Y0]]
// CHECK: %[[P0:.*]] = kiln.argmax
// CHECK: kiln.cross_entropy_backward %{{.*}}, %{{.*}}, %[[Y0]]
// CHECK: %[[G0:.*]] = kiln.matmul {{.*}} {transpose_lhs = true} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// CHECK-NOT: kiln.count_equal
// Micro-batch 1: rows 2 and 3, from micro-batch 0's statistics, with its own
// dropout sites.
// CHECK: %[[X1:.*]] = kiln.slice %[[X]] {offsets = array<i64: 2, 0>, sizes = array<i64: 2, 4>, strides = array<i64: 1, 1>}
// CHECK: %[[Y1:.*]] = kiln.slice %[[Y]] {offsets = array<i64: 2>, sizes = array<i64: 2>, strides = array<i64: 1>}
// CHECK: %{{.*}}, %[[M1:.*]], %[[V1:.*]], %[[N1:.*]] = kiln.batch_norm %[[X1]], %[[M0]], %[[V0]], %[[N0]] :
// CHECK: kiln.dropout %{{.*}}, %[[STEP]] {p = 5.000000e-01 : f64, seed = 4294967299 : i64}
// CHECK: %[[L1:.*]] = kiln.cross_entropy %{{.*}}, %[[Y1]]
// CHECK: %[[P1:.*]] = kiln.argmax
// CHECK: kiln.cross_entropy_backward %{{.*}}, %{{.*}}, %[[Y1]]
// CHECK: %[[G1:.*]] = kiln.matmul {{.*}} {transpose_lhs = true} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// CHECK-NOT: kiln.count_equal
// CHECK: %[[GS:.*]] = kiln.accumulate %[[G0]], %[[G1]] : tensor<3x4xf32>
// CHECK-NEXT: %[[LS:.*]] = kiln.accumulate %[[L0]], %[[L1]] : tensor<f32>
// The means, the count over both micro-batches, one clipping, one update.
// CHECK-NEXT: %[[HALF:.*]] = kiln.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[G:.*]] = kiln.mul %[[GS]], %[[HALF]] : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
// CHECK-NEXT: %[[LOSS:.*]] = kiln.mul %[[LS]], %[[HALF]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT: %[[PS:.*]] = kiln.concat %[[P0]], %[[P1]] {axis = 0 : i64}
// CHECK-NEXT: %[[YS:.*]] = kiln.concat %[[Y0]], %[[Y1]] {axis = 0 : i64}
// CHECK-NEXT: %[[C:.*]] = kiln.count_equal %[[PS]], %[[YS]] : (tensor<4xi64>, tensor<4xi64>) -> tensor<i64>
// CHECK-NEXT: %[[LR:.*]] = kiln.learning_rate
// CHECK-NEXT: %[[CLIPPED:.*]] = kiln.clip_grad_norm %[[G]] {max_norm = 1.000000e+00 : f64}
// CHECK-NEXT: %[[NW:.*]] = kiln.sgd %[[W]], %[[CLIPPED]], %[[LR]], %[[STEP]] :
// CHECK-NEXT: return %[[NW]], %[[V1]], %[[M1]], %[[N1]], %[[LOSS]], %[[C]], %[[LR]] :

// -----

// Attention with dropout under accumulate = 2: the forward attention and its
// gradient draw one mask in each micro-batch, micro-batch 1 at sites moved
// past every site; the evaluation step attends without dropout.
module attributes {kiln.recipe = {batch_size = 2 : i64, accumulate = 2 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"},
    optimizer = {kind = "sgd", lr = 1.0e-01 : f64, momentum = 0.0 : f64, dampening = 0.0 : f64,
                 weight_decay = 0.0 : f64, nesterov = false},
    schedule = {kind = "constant", warmup = 0 : i64}}} {
  func.func @m(%w: tensor<3x4xf32> {kiln.param = "fc.weight"},
               %x: tensor<2x3x4xf32> {kiln.input = "x"}, %y: tensor<2xi64> {kiln.input = "y"},
               %step: tensor<i64> {kiln.step})
      -> (tensor<f32> {kiln.output = "loss"}) {
    %h = kiln.linear %x, %w : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x3xf32>
    %a = kiln.attention %h, %h, %h, %step {dropout = 0.25 : f64, seed = 6 : i64} : (tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<i64>) -> tensor<2x3x3xf32>
    %logits = kiln.reduce_sum %a {axes = array<i64: 1>} : (tensor<2x3x3xf32>) -> tensor<2x3xf32>
    %loss = kiln.cross_entropy %logits, %y : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
// CHECK-LABEL: func.func @eval_step(
// CHECK: kiln.attention %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}} : (tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[STEP:[^:]*]]: tensor<i64> {kiln.step}
// CHECK: kiln.attention %{{.*}}, %[[STEP]] {dropout = 2.500000e-01 : f64, seed = 6 : i64}
// CHECK: kiln.attention_backward %{{.*}}, %[[STEP]] {dropout = 2.500000e-01 : f64, seed = 6 : i64}
// CHECK: kiln.attention %{{.*}}, %[[STEP]] {dropout = 2.500000e-01 : f64, seed = 4294967302 : i64}
// CHECK: kiln.attention_backward %{{.*}}, %[[STEP]] {dropout = 2.500000e-01 : f64, seed = 4294967302 : i64}

// -----

// A gradient function already in the module (kiln-autodiff's, changed by a
// pass of one's own: here the gradient is doubled) is the backward that the
// step uses; the pass builds none of its own, and erases it.
// CHECK-LABEL: func.func @m(
// CHECK-NOT: func.func @m_grad
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[G:.*]] = kiln.add %{{.*}}, %{{.*}} : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: kiln.sgd %{{.*}}, %[[G]], %{{.*}}
module attributes {kiln.recipe = {batch_size = 1 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"}, optimizer = {kind = "sgd", lr = 1.0e-01 : f64},
    schedule = {kind = "constant", warmup = 0 : i64}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
  func.func @m_grad(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}, tensor<f32> {kiln.grad = "w"}) attributes {kiln.gradient_of = @m} {
    %one = kiln.constant dense<1.0> : tensor<f32>
    %two = kiln.add %one, %one : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %w, %two : tensor<f32>, tensor<f32>
  }
}

// -----

// A module that has its steps (kilnc's train-step stage, read back) is left
// as it is.
// CHECK-LABEL: func.func @m(
// CHECK-LABEL: func.func @train_step(
// CHECK-NEXT: return
// CHECK-NOT: func.func
module attributes {kiln.recipe = {batch_size = 1 : i64, epochs = 1 : i64, seed = 0 : i64,
    data = {kind = "synthetic"}, optimizer = {kind = "sgd", lr = 1.0e-01 : f64},
    schedule = {kind = "constant", warmup = 0 : i64}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
  func.func @train_step(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
}
