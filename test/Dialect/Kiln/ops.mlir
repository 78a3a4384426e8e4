// Every kiln op prints in a form that parses back to the same op, in the
// custom and in the generic syntax.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func @tensor_ops
func.func @tensor_ops(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %ids: tensor<2x3xi64>,
                      %table: tensor<10x8xf32>) {
  // CHECK: kiln.constant dense<5.000000e-01> : tensor<f32>
  %c = kiln.constant dense<0.5> : tensor<f32>
  // CHECK: kiln.constant dense<[1, 2]> : tensor<2xi64>
  %i = kiln.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK: kiln.reshape %{{.*}} {shape = array<i64: 6, -1>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %r = kiln.reshape %x {shape = array<i64: 6, -1>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK: kiln.flatten %{{.*}} {start_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %f = kiln.flatten %x {start_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  // CHECK: kiln.transpose %{{.*}} {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %t = kiln.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK: kiln.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %cat = kiln.concat %x, %y {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  // CHECK: kiln.slice %{{.*}} {offsets = array<i64: 0, 1, 0>, sizes = array<i64: 2, 2, 2>, strides = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  %s = kiln.slice %x {offsets = array<i64: 0, 1, 0>, sizes = array<i64: 2, 2, 2>, strides = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  // CHECK: kiln.embedding %{{.*}}, %{{.*}} : (tensor<2x3xi64>, tensor<10x8xf32>) -> tensor<2x3x8xf32>
  %e = kiln.embedding %ids, %table : (tensor<2x3xi64>, tensor<10x8xf32>) -> tensor<2x3x8xf32>
  // CHECK: kiln.one_hot %{{.*}} {num_classes = 10 : i64} : (tensor<2x3xi64>) -> tensor<2x3x10xf32>
  %o = kiln.one_hot %ids {num_classes = 10 : i64} : (tensor<2x3xi64>) -> tensor<2x3x10xf32>
  // CHECK: kiln.one_hot %{{.*}} {element_type = f64, num_classes = 4 : i64} : (tensor<2x3xi64>) -> tensor<2x3x4xf64>
  %o64 = kiln.one_hot %ids {num_classes = 4 : i64, element_type = f64} : (tensor<2x3xi64>) -> tensor<2x3x4xf64>
  // CHECK: kiln.sinusoidal_positions {dim = 8 : i64, length = 16 : i64} : tensor<16x8xf32>
  %pe = kiln.sinusoidal_positions {length = 16 : i64, dim = 8 : i64} : tensor<16x8xf32>
  return
}

// CHECK-LABEL: func @math_ops
func.func @math_ops(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %m: tensor<2x4x8xf32>,
                    %n: tensor<8x3xf32>) {
  // CHECK: kiln.add %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %0 = kiln.add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.sub %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = kiln.sub %b, %x : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.mul %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = kiln.mul %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.div %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %3 = kiln.div %x, %m : (tensor<4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  // CHECK: kiln.neg %{{.*}} : tensor<4x8xf32>
  %4 = kiln.neg %x : tensor<4x8xf32>
  // CHECK: kiln.relu %{{.*}} : tensor<4x8xf32>
  %5 = kiln.relu %x : tensor<4x8xf32>
  // CHECK: kiln.gelu %{{.*}} : tensor<4x8xf32>
  %6 = kiln.gelu %x : tensor<4x8xf32>
  // CHECK: kiln.gelu %{{.*}} {approximate = #kiln.gelu_approximation<tanh>} : tensor<4x8xf32>
  %7 = kiln.gelu %x {approximate = #kiln.gelu_approximation<tanh>} : tensor<4x8xf32>
  // CHECK: kiln.tanh %{{.*}} : tensor<4x8xf32>
  %8 = kiln.tanh %x : tensor<4x8xf32>
  // CHECK: kiln.sigmoid %{{.*}} : tensor<4x8xf32>
  %9 = kiln.sigmoid %x : tensor<4x8xf32>
  // CHECK: kiln.exp %{{.*}} : tensor<4x8xf32>
  %10 = kiln.exp %x : tensor<4x8xf32>
  // CHECK: kiln.log %{{.*}} : tensor<4x8xf32>
  %11 = kiln.log %x : tensor<4x8xf32>
  // CHECK: kiln.sqrt %{{.*}} : tensor<4x8xf32>
  %12 = kiln.sqrt %x : tensor<4x8xf32>
  // CHECK: kiln.softmax %{{.*}} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %13 = kiln.softmax %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.log_softmax %{{.*}} {axis = 0 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %14 = kiln.log_softmax %x {axis = 0 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.reduce_sum %{{.*}} {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<8xf32>
  %15 = kiln.reduce_sum %x {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<8xf32>
  // CHECK: kiln.reduce_mean %{{.*}} {axes = array<i64: -1>, keep_dims = true} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  %16 = kiln.reduce_mean %m {axes = array<i64: -1>, keep_dims = true} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  // CHECK: kiln.reduce_max %{{.*}} {axes = array<i64: 0, 2>} : (tensor<2x4x8xf32>) -> tensor<4xf32>
  %17 = kiln.reduce_max %m {axes = array<i64: 0, 2>} : (tensor<2x4x8xf32>) -> tensor<4xf32>
  // CHECK: kiln.argmax %{{.*}} {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4xi64>
  %18 = kiln.argmax %x {axis = 1 : i64} : (tensor<4x8xf32>) -> tensor<4xi64>
  // CHECK: kiln.count_equal %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<i64>
  %c = kiln.count_equal %18, %18 : (tensor<4xi64>, tensor<4xi64>) -> tensor<i64>
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  %19 = kiln.matmul %m, %n : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  // CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  %20 = kiln.matmul %x, %x {transpose_lhs = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  return
}

// CHECK-LABEL: func @elementwise_ops
func.func @elementwise_ops(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %c: tensor<4x1xf32>) {
  // CHECK: kiln.silu %{{.*}} : tensor<4x8xf32>
  %0 = kiln.silu %x : tensor<4x8xf32>
  // CHECK: kiln.abs %{{.*}} : tensor<4x8xf32>
  %1 = kiln.abs %x : tensor<4x8xf32>
  // CHECK: kiln.leaky_relu %{{.*}} : tensor<4x8xf32>
  %2 = kiln.leaky_relu %x : tensor<4x8xf32>
  // CHECK: kiln.leaky_relu %{{.*}} {negative_slope = 2.000000e-01 : f64} : tensor<4x8xf32>
  %3 = kiln.leaky_relu %x {negative_slope = 0.2 : f64} : tensor<4x8xf32>
  // CHECK: kiln.elu %{{.*}} {alpha = 5.000000e-01 : f64} : tensor<4x8xf32>
  %4 = kiln.elu %x {alpha = 0.5 : f64} : tensor<4x8xf32>
  // CHECK: kiln.softplus %{{.*}} {beta = 2.000000e+00 : f64, threshold = 1.000000e+01 : f64} : tensor<4x8xf32>
  %5 = kiln.softplus %x {beta = 2.0 : f64, threshold = 10.0 : f64} : tensor<4x8xf32>
  // CHECK: kiln.clamp %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x8xf32>
  %6 = kiln.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x8xf32>
  // CHECK: kiln.clamp %{{.*}} {max = 1.000000e+00 : f64} : tensor<4x8xf32>
  %7 = kiln.clamp %x {max = 1.0 : f64} : tensor<4x8xf32>
  // CHECK: kiln.reduce_precision %{{.*}} {precision = bf16} : tensor<4x8xf32>
  %r = kiln.reduce_precision %x {precision = bf16} : tensor<4x8xf32>
  // CHECK: kiln.minimum %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %8 = kiln.minimum %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.maximum %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %9 = kiln.maximum %b, %c : (tensor<8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.pow %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %10 = kiln.pow %x, %c : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.greater %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %11 = kiln.greater %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.less %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %12 = kiln.less %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.greater_equal %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %13 = kiln.greater_equal %x, %c : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.less_equal %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %14 = kiln.less_equal %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.equal %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %15 = kiln.equal %b, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  // CHECK: kiln.not_equal %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %16 = kiln.not_equal %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %17 = kiln.where %c, %b, %x : (tensor<4x1xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func @nn_ops
func.func @nn_ops(%img: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                  %x: tensor<2x16xf32>, %lw: tensor<5x16xf32>, %lb: tensor<5xf32>,
                  %seq: tensor<2x6x16xf32>, %g: tensor<16xf32>, %step: tensor<i64>,
                  %labels: tensor<2xi64>) {
  // CHECK: kiln.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %0 = kiln.conv2d %img, %w, %b {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: kiln.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, stride = array<i64: 2, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x2x4xf32>
  %1 = kiln.conv2d %img, %w {stride = array<i64: 2, 1>, dilation = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x2x4xf32>
  // CHECK: kiln.max_pool2d %{{.*}} {kernel = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  %2 = kiln.max_pool2d %0 {kernel = array<i64: 2, 2>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: kiln.avg_pool2d %{{.*}} {count_include_pad = false, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %3 = kiln.avg_pool2d %0 {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: kiln.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x16xf32>, tensor<5x16xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  %4 = kiln.linear %x, %lw, %lb : (tensor<2x16xf32>, tensor<5x16xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  // CHECK: kiln.linear %{{.*}}, %{{.*}} : (tensor<2x6x16xf32>, tensor<5x16xf32>) -> tensor<2x6x5xf32>
  %5 = kiln.linear %seq, %lw : (tensor<2x6x16xf32>, tensor<5x16xf32>) -> tensor<2x6x5xf32>
  // CHECK: kiln.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  %6 = kiln.layer_norm %seq, %g, %g : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK: kiln.layer_norm %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  %7 = kiln.layer_norm %seq {epsilon = 1.0e-6 : f64} : (tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK: kiln.dropout %{{.*}}, %{{.*}} {p = 1.000000e-01 : f64, seed = 7 : i64} : (tensor<2x6x16xf32>, tensor<i64>) -> tensor<2x6x16xf32>
  %8 = kiln.dropout %seq, %step {p = 0.1 : f64, seed = 7 : i64} : (tensor<2x6x16xf32>, tensor<i64>) -> tensor<2x6x16xf32>
  // CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %9 = kiln.cross_entropy %4, %labels : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  // The defaults, ignore_index -100 and label_smoothing 0, are not printed.
  // CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} {ignore_index = 0 : i64, label_smoothing = 1.000000e-01 : f64} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %10 = kiln.cross_entropy %4, %labels {label_smoothing = 0.1 : f64, ignore_index = 0 : i64} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  // CHECK: kiln.cross_entropy %{{.*}}, %{{.*}} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %11 = kiln.cross_entropy %4, %labels {ignore_index = -100 : i64, label_smoothing = 0.0 : f64} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  return
}

// CHECK-LABEL: func @lstm
func.func @lstm(%x: tensor<2x6x16xf32>, %wi0: tensor<32x16xf32>, %wh0: tensor<32x8xf32>,
                %b0: tensor<32xf32>, %wi1: tensor<32x8xf32>, %wh1: tensor<32x8xf32>,
                %b1: tensor<32xf32>) {
  // CHECK: kiln.lstm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {hidden_size = 8 : i64, num_layers = 2 : i64}
  // CHECK-SAME: -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
  %out, %h, %c = kiln.lstm %x, %wi0, %wh0, %b0, %b0, %wi1, %wh1, %b1, %b1 {hidden_size = 8 : i64, num_layers = 2 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>,
         tensor<32x8xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
  return
}

// CHECK-LABEL: func @gru
func.func @gru(%x: tensor<2x6x16xf32>, %wi0: tensor<24x16xf32>, %wh0: tensor<24x8xf32>,
               %b0: tensor<24xf32>, %wi1: tensor<24x8xf32>, %wh1: tensor<24x8xf32>,
               %b1: tensor<24xf32>) {
  // CHECK: kiln.gru %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {hidden_size = 8 : i64, num_layers = 2 : i64}
  // CHECK-SAME: -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>)
  %out, %h = kiln.gru %x, %wi0, %wh0, %b0, %b0, %wi1, %wh1, %b1, %b1 {hidden_size = 8 : i64, num_layers = 2 : i64}
      : (tensor<2x6x16xf32>, tensor<24x16xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<24xf32>,
         tensor<24x8xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<24xf32>)
      -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>)
  return
}

// CHECK-LABEL: func @attention
func.func @attention(%q: tensor<2x4x6x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x3xf32>) {
  // CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x4x6x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x3xf32>) -> tensor<2x4x6x3xf32>
  %0 = kiln.attention %q, %k, %v : (tensor<2x4x6x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x3xf32>) -> tensor<2x4x6x3xf32>
  // CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, scale = 2.500000e-01 : f64}
  %1 = kiln.attention %q, %q, %q {causal = true, scale = 0.25 : f64} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> tensor<2x4x6x8xf32>
  return
}

// Dropout on the probabilities draws from a step counter, the fourth operand.
// CHECK-LABEL: func @attention_dropout
func.func @attention_dropout(%q: tensor<2x6x8xf32>, %step: tensor<i64>) {
  // CHECK: kiln.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = true, dropout = 1.000000e-01 : f64, seed = 7 : i64} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<i64>) -> tensor<2x6x8xf32>
  %0 = kiln.attention %q, %q, %q, %step {causal = true, dropout = 0.1 : f64, seed = 7 : i64} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<i64>) -> tensor<2x6x8xf32>
  return
}

// CHECK-LABEL: func @optimizers
func.func @optimizers(%p: tensor<4x3xf32>, %g: tensor<4x3xf32>, %m: tensor<4x3xf32>,
                      %v: tensor<4x3xf32>, %lr: tensor<f32>, %step: tensor<i64>) {
  // CHECK: kiln.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> tensor<4x3xf32>
  %0 = kiln.sgd %p, %g, %lr, %step : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> tensor<4x3xf32>
  // CHECK: kiln.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 9.000000e-01 : f64, nesterov = true, weight_decay = 1.000000e-04 : f64}
  // CHECK-SAME: -> (tensor<4x3xf32>, tensor<4x3xf32>)
  %1:2 = kiln.sgd %p, %g, %lr, %step, %m {momentum = 0.9 : f64, nesterov = true, weight_decay = 1.0e-4 : f64}
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>, tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
  // CHECK: kiln.adam %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
  // CHECK-SAME: -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  %2:3 = kiln.adam %p, %g, %m, %v, %lr, %step
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  // CHECK: kiln.adamw %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 8.000000e-01 : f64, weight_decay = 1.000000e-01 : f64}
  %3:3 = kiln.adamw %p, %g, %m, %v, %lr, %step {beta1 = 0.8 : f64, weight_decay = 0.1 : f64}
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  // CHECK: kiln.accumulate %{{.*}}, %{{.*}} : tensor<4x3xf32>
  %4 = kiln.accumulate %g, %m : tensor<4x3xf32>
  return
}

// Dynamic sizes are accepted and propagate.
// CHECK-LABEL: func @dynamic
func.func @dynamic(%x: tensor<?x16xf32>, %w: tensor<5x16xf32>) -> tensor<?x5xf32> {
  // CHECK: kiln.linear %{{.*}}, %{{.*}} : (tensor<?x16xf32>, tensor<5x16xf32>) -> tensor<?x5xf32>
  %0 = kiln.linear %x, %w : (tensor<?x16xf32>, tensor<5x16xf32>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}

// A batch normalization synchronized over two ranks, and its gradient.
// CHECK-LABEL: func @batch_norm_synchronized
func.func @batch_norm_synchronized(%x: tensor<4x3xf32>, %r: tensor<3xf32>, %n: tensor<i64>) -> tensor<4x3xf32> {
  // CHECK: kiln.batch_norm %{{.*}} {ranks = 2 : i64}
  %0:4 = kiln.batch_norm %x, %r, %r, %n {ranks = 2}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  // CHECK: kiln.batch_norm_backward %{{.*}} {ranks = 2 : i64}
  %1 = kiln.batch_norm_backward %0#0, %x {ranks = 2} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %1 : tensor<4x3xf32>
}
