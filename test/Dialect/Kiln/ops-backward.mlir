// Every gradient and training-step op prints in a form that parses back to
// the same op, in the custom and in the generic syntax.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func @movement
func.func @movement(%x: tensor<3xf32>, %s: tensor<2x2xf32>) {
  // CHECK: kiln.broadcast_to %{{.*}} {shape = array<i64: 4, 3>} : (tensor<3xf32>) -> tensor<4x3xf32>
  %0 = kiln.broadcast_to %x {shape = array<i64: 4, 3>} : (tensor<3xf32>) -> tensor<4x3xf32>
  // CHECK: kiln.scatter_slice %{{.*}} {offsets = array<i64: 1, 0>, shape = array<i64: 5, 4>, strides = array<i64: 2, 3>} : (tensor<2x2xf32>) -> tensor<5x4xf32>
  %1 = kiln.scatter_slice %s {offsets = array<i64: 1, 0>, strides = array<i64: 2, 3>, shape = array<i64: 5, 4>} : (tensor<2x2xf32>) -> tensor<5x4xf32>
  return
}

// CHECK-LABEL: func @elementwise
func.func @elementwise(%g: tensor<4x8xf32>, %x: tensor<4x8xf32>, %r: tensor<4xf32>) {
  // CHECK: kiln.relu_backward %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %0 = kiln.relu_backward %g, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.gelu_backward %{{.*}}, %{{.*}} {approximate = #kiln.gelu_approximation<tanh>}
  %1 = kiln.gelu_backward %g, %x {approximate = #kiln.gelu_approximation<tanh>} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.softmax_backward %{{.*}}, %{{.*}} {axis = 0 : i64}
  %2 = kiln.softmax_backward %g, %x {axis = 0 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.log_softmax_backward %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = kiln.log_softmax_backward %g, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.reduce_max_backward %{{.*}}, %{{.*}} {axes = array<i64: 1>} : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = kiln.reduce_max_backward %r, %x {axes = array<i64: 1>} : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func @layers
func.func @layers(%dy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>, %x: tensor<2x3x8x8xf32>,
                  %dp: tensor<2x3x4x4xf32>, %one: tensor<f32>, %logits: tensor<2x5xf32>,
                  %labels: tensor<2xi64>) {
  // CHECK: kiln.conv2d_backward_input %{{.*}}, %{{.*}} {input_shape = array<i64: 2, 3, 8, 8>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  %0 = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 3, 8, 8>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.conv2d_backward_weight %{{.*}}, %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  %1 = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  // CHECK: kiln.max_pool2d_backward %{{.*}}, %{{.*}} {kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %2 = kiln.max_pool2d_backward %dp, %x {kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.avg_pool2d_backward %{{.*}} {count_include_pad = false, input_shape = array<i64: 2, 3, 8, 8>, kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>) -> tensor<2x3x8x8xf32>
  %3 = kiln.avg_pool2d_backward %dp {input_shape = array<i64: 2, 3, 8, 8>, kernel = array<i64: 2, 2>, count_include_pad = false} : (tensor<2x3x4x4xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.cross_entropy_backward %{{.*}}, %{{.*}}, %{{.*}} : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  %4 = kiln.cross_entropy_backward %one, %logits, %labels : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  // CHECK: kiln.cross_entropy_backward %{{.*}}, %{{.*}}, %{{.*}} {ignore_index = 3 : i64, label_smoothing = 2.000000e-01 : f64} : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  %5 = kiln.cross_entropy_backward %one, %logits, %labels {ignore_index = 3 : i64, label_smoothing = 0.2 : f64} : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  return
}

// CHECK-LABEL: func @sequences
func.func @sequences(%dy: tensor<2x6x16xf32>, %x: tensor<2x6x16xf32>, %w: tensor<16xf32>,
                     %q: tensor<2x4x6x8xf32>, %ids: tensor<2x6xi64>, %step: tensor<i64>) {
  // CHECK: kiln.layer_norm_backward %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>) -> (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>)
  %0:3 = kiln.layer_norm_backward %dy, %x, %w : (tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>) -> (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>)
  // CHECK: kiln.layer_norm_backward %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f64} : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  %1 = kiln.layer_norm_backward %dy, %x {epsilon = 1.0e-3 : f64} : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK: kiln.attention_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = true}
  %2:3 = kiln.attention_backward %q, %q, %q, %q {causal = true} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  // CHECK: kiln.attention_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dropout = 2.500000e-01 : f64, seed = 3 : i64}
  %5:3 = kiln.attention_backward %q, %q, %q, %q, %step {dropout = 0.25 : f64, seed = 3 : i64} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<i64>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  // CHECK: kiln.embedding_backward %{{.*}}, %{{.*}} {num = 100 : i64} : (tensor<2x6x16xf32>, tensor<2x6xi64>) -> tensor<100x16xf32>
  %3 = kiln.embedding_backward %dy, %ids {num = 100 : i64} : (tensor<2x6x16xf32>, tensor<2x6xi64>) -> tensor<100x16xf32>
  return
}

// CHECK-LABEL: func @lstm
func.func @lstm(%x: tensor<2x5x3xf32>, %out: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>,
                %wi: tensor<16x3xf32>, %wh: tensor<16x4xf32>, %b: tensor<16xf32>) {
  // CHECK: kiln.lstm_backward {{.*}} {hidden_size = 4 : i64, num_layers = 1 : i64}
  // CHECK-SAME: -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  %0:5 = kiln.lstm_backward %x, %out, %h, %h, %out, %h, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>,
         tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// CHECK-LABEL: func @gru
func.func @gru(%x: tensor<2x5x3xf32>, %out: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>,
               %wi: tensor<12x3xf32>, %wh: tensor<12x4xf32>, %b: tensor<12xf32>) {
  // CHECK: kiln.gru_backward {{.*}} {hidden_size = 4 : i64, num_layers = 1 : i64}
  // CHECK-SAME: -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
  %0:5 = kiln.gru_backward %x, %out, %h, %out, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>,
         tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
      -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
  return
}

// CHECK-LABEL: func @training
func.func @training(%step: tensor<i64>, %total: tensor<i64>, %a: tensor<4x3xf32>, %b: tensor<3xf32>) {
  // CHECK: kiln.learning_rate %{{.*}}, %{{.*}} {gamma = 5.000000e-01 : f64, lr = 1.000000e-01 : f64, schedule = "step", warmup = 10 : i64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  %0 = kiln.learning_rate %step, %total {schedule = "step", lr = 0.1 : f64, warmup = 10 : i64, gamma = 0.5 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  // CHECK: kiln.clip_grad_norm %{{.*}}, %{{.*}} {max_norm = 1.000000e+00 : f64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  %1:2 = kiln.clip_grad_norm %a, %b {max_norm = 1.0 : f64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  // CHECK: kiln.all_reduce %{{.*}}, %{{.*}} {bucket = 2 : i64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  %2:2 = kiln.all_reduce %a, %b {bucket = 2} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  return
}
