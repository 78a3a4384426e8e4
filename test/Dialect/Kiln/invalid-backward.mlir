// Every rule of the gradient and training-step ops' verifiers, broken once.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @broadcast_shape(%x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.broadcast_to' op cannot broadcast [3] to [4, 2]}}
  %0 = kiln.broadcast_to %x {shape = array<i64: 4, 2>} : (tensor<3xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @broadcast_sizes(%x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.broadcast_to' op shape must hold positive sizes, got [0, 3]}}
  %0 = kiln.broadcast_to %x {shape = array<i64: 0, 3>} : (tensor<3xf32>) -> tensor<0x3xf32>
  return
}

// -----

func.func @scatter_entries(%x: tensor<2x2xf32>) {
  // expected-error @+1 {{'kiln.scatter_slice' op offsets, strides and shape must have one entry per dimension of the source (2)}}
  %0 = kiln.scatter_slice %x {offsets = array<i64: 0>, strides = array<i64: 1, 1>, shape = array<i64: 4, 4>} : (tensor<2x2xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @scatter_stride(%x: tensor<2x2xf32>) {
  // expected-error @+1 {{'kiln.scatter_slice' op dimension 1 needs a non-negative offset and a positive stride}}
  %0 = kiln.scatter_slice %x {offsets = array<i64: 0, 0>, strides = array<i64: 1, 0>, shape = array<i64: 4, 4>} : (tensor<2x2xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @scatter_bounds(%x: tensor<2x2xf32>) {
  // expected-error @+1 {{'kiln.scatter_slice' op dimension 0 writes index 4, past its size 4}}
  %0 = kiln.scatter_slice %x {offsets = array<i64: 2, 0>, strides = array<i64: 2, 1>, shape = array<i64: 4, 4>} : (tensor<2x2xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @relu_grad_shape(%g: tensor<4xf32>, %x: tensor<5xf32>) {
  // expected-error @+1 {{'kiln.relu_backward' op grad must have shape [5], got [4]}}
  %0 = kiln.relu_backward %g, %x : (tensor<4xf32>, tensor<5xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @gelu_grad_type(%g: tensor<4xf64>, %x: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.gelu_backward' op input has element type 'f32' but grad has 'f64'}}
  %0 = kiln.gelu_backward %g, %x : (tensor<4xf64>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @softmax_grad_axis(%g: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.softmax_backward' op axis 1 is out of range for rank 1 (expected -1 to 0)}}
  %0 = kiln.softmax_backward %g, %g {axis = 1 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_max_grad(%g: tensor<3xf32>, %x: tensor<4x8xf32>) {
  // expected-error @+1 {{'kiln.reduce_max_backward' op grad must have shape [4], got [3]}}
  %0 = kiln.reduce_max_backward %g, %x {axes = array<i64: 1>} : (tensor<3xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @cross_entropy_grad_labels(%g: tensor<f32>, %l: tensor<2x5xf32>, %y: tensor<3xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy_backward' op labels must have shape [2], got [3]}}
  %0 = kiln.cross_entropy_backward %g, %l, %y : (tensor<f32>, tensor<2x5xf32>, tensor<3xi64>) -> tensor<2x5xf32>
  return
}

// -----

func.func @cross_entropy_grad_smoothing(%g: tensor<f32>, %l: tensor<2x5xf32>, %y: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy_backward' op label_smoothing must be in [0, 1], got -0.1}}
  %0 = kiln.cross_entropy_backward %g, %l, %y {label_smoothing = -0.1 : f64} : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  return
}

// -----

func.func @conv_input_grad_shape(%dy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d_backward_input' op input_shape must have 4 entries, got [2, 3, 8]}}
  %0 = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 3, 8>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8xf32>
  return
}

// -----

func.func @conv_input_grad_channels(%dy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d_backward_input' op input_shape [2, 5, 8, 8] has 5 channels but weight [4, 3, 3, 3] expects 3}}
  %0 = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 5, 8, 8>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x5x8x8xf32>
  return
}

// -----

func.func @conv_input_grad_mismatch(%dy: tensor<2x4x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d_backward_input' op grad must have shape [2, 4, 6, 6], got [2, 4, 8, 8]}}
  %0 = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 3, 8, 8>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return
}

// -----

func.func @conv_weight_grad_mismatch(%dy: tensor<2x4x8x8xf32>, %x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.conv2d_backward_weight' op grad must have shape [2, 4, 6, 6], got [2, 4, 8, 8]}}
  %0 = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return
}

// -----

func.func @max_pool_grad_mismatch(%dy: tensor<2x3x3x3xf32>, %x: tensor<2x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d_backward' op grad must have shape [2, 3, 4, 4], got [2, 3, 3, 3]}}
  %0 = kiln.max_pool2d_backward %dy, %x {kernel = array<i64: 2, 2>} : (tensor<2x3x3x3xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  return
}

// -----

func.func @avg_pool_grad_mismatch(%dy: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.avg_pool2d_backward' op grad must have shape [2, 3, 4, 4], got [2, 3, 3, 3]}}
  %0 = kiln.avg_pool2d_backward %dy {input_shape = array<i64: 2, 3, 8, 8>, kernel = array<i64: 2, 2>} : (tensor<2x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return
}

// -----

func.func @layer_norm_grad_weight(%dy: tensor<2x16xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.layer_norm_backward' op weight must have shape [16], got [8]}}
  %0:3 = kiln.layer_norm_backward %dy, %dy, %w : (tensor<2x16xf32>, tensor<2x16xf32>, tensor<8xf32>) -> (tensor<2x16xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @layer_norm_grad_epsilon(%dy: tensor<2x16xf32>) {
  // expected-error @+1 {{'kiln.layer_norm_backward' op epsilon must not be negative}}
  %0 = kiln.layer_norm_backward %dy, %dy {epsilon = -1.0 : f64} : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @lstm_grad_output(%x: tensor<2x5x3xf32>, %out: tensor<2x5x3xf32>, %h: tensor<1x2x4xf32>,
                            %wi: tensor<16x3xf32>, %wh: tensor<16x4xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'kiln.lstm_backward' op output must have shape [2, 5, 4], got [2, 5, 3]}}
  %0:5 = kiln.lstm_backward %x, %out, %h, %h, %out, %h, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x3xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x5x3xf32>,
         tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

func.func @lstm_grad_weights(%x: tensor<2x5x3xf32>, %out: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>,
                             %wi: tensor<16x3xf32>) {
  // expected-error @+1 {{'kiln.lstm_backward' op needs 4 weights per layer (4 for 1 layers), got 1}}
  %0:2 = kiln.lstm_backward %x, %out, %h, %h, %out, %h, %h, %wi {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>,
         tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<16x3xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>)
  return
}

// -----

func.func @gru_grad_hidden(%x: tensor<2x5x3xf32>, %out: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>,
                           %wi: tensor<12x3xf32>, %wh: tensor<12x4xf32>, %b: tensor<12xf32>) {
  // expected-error @+1 {{'kiln.gru_backward' op final_hidden_grad must have shape [1, 2, 4], got [2, 5, 4]}}
  %0:5 = kiln.gru_backward %x, %out, %h, %out, %out, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>, tensor<2x5x4xf32>,
         tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
      -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
  return
}

// -----

func.func @gru_grad_weights(%x: tensor<2x5x3xf32>, %out: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>,
                            %wi: tensor<16x3xf32>, %wh: tensor<16x4xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'kiln.gru_backward' op weight_ih_l0 must have shape [12, 3], got [16, 3]}}
  %0:5 = kiln.gru_backward %x, %out, %h, %out, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>,
         tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return
}

// -----

func.func @attention_grad_shape(%g: tensor<2x6x4xf32>, %q: tensor<2x6x8xf32>) {
  // expected-error @+1 {{'kiln.attention_backward' op grad must have shape [2, 6, 8], got [2, 6, 4]}}
  %0:3 = kiln.attention_backward %g, %q, %q, %q : (tensor<2x6x4xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @embedding_grad_num(%g: tensor<2x6x16xf32>, %ids: tensor<2x6xi64>) {
  // expected-error @+1 {{'kiln.embedding_backward' op num must be positive, got 0}}
  %0 = kiln.embedding_backward %g, %ids {num = 0 : i64} : (tensor<2x6x16xf32>, tensor<2x6xi64>) -> tensor<0x16xf32>
  return
}

// -----

func.func @embedding_grad_shape(%g: tensor<2x5x16xf32>, %ids: tensor<2x6xi64>) {
  // expected-error @+1 {{'kiln.embedding_backward' op grad must have shape [2, 6, 16], got [2, 5, 16]}}
  %0 = kiln.embedding_backward %g, %ids {num = 10 : i64} : (tensor<2x5x16xf32>, tensor<2x6xi64>) -> tensor<10x16xf32>
  return
}

// -----

func.func @learning_rate_schedule(%s: tensor<i64>) {
  // expected-error @+1 {{'kiln.learning_rate' op schedule must be constant, step or cosine, got 'linear'}}
  %0 = kiln.learning_rate %s, %s {schedule = "linear", lr = 0.1 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @learning_rate_lr(%s: tensor<i64>) {
  // expected-error @+1 {{'kiln.learning_rate' op lr must be positive}}
  %0 = kiln.learning_rate %s, %s {schedule = "constant", lr = 0.0 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @learning_rate_every(%s: tensor<i64>) {
  // expected-error @+1 {{'kiln.learning_rate' op needs warmup >= 0, every > 0, gamma > 0 and min_lr >= 0}}
  %0 = kiln.learning_rate %s, %s {schedule = "step", lr = 0.1 : f64, every = 0 : i64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @clip_empty() {
  // expected-error @+1 {{'kiln.clip_grad_norm' op needs at least one gradient}}
  kiln.clip_grad_norm {max_norm = 1.0 : f64} : () -> ()
  return
}

// -----

func.func @clip_norm(%g: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.clip_grad_norm' op max_norm must be positive}}
  %0 = kiln.clip_grad_norm %g {max_norm = 0.0 : f64} : (tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @attention_grad_dropout_counter(%q: tensor<2x6x8xf32>) {
  // expected-error @+1 {{'kiln.attention_backward' op needs the step counter operand to draw its dropout}}
  %0:3 = kiln.attention_backward %q, %q, %q, %q {dropout = 0.5 : f64} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return
}

// -----

func.func @all_reduce_empty() {
  // expected-error @+1 {{'kiln.all_reduce' op needs at least one tensor}}
  kiln.all_reduce {bucket = 0} : () -> ()
  return
}

// -----

func.func @all_reduce_bucket(%g: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.all_reduce' op attribute 'bucket' failed to satisfy constraint}}
  %0 = kiln.all_reduce %g {bucket = -1} : (tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @all_reduce_types(%g: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.all_reduce' op}}
  %0 = kiln.all_reduce %g {bucket = 0} : (tensor<3xf32>) -> tensor<4xf32>
  return
}
