// Every rule of the kiln verifiers, broken once, with the diagnostic it gives.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @reshape_negative(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reshape' op shape entries must be non-negative or -1, got [-2, 3]}}
  %0 = kiln.reshape %x {shape = array<i64: -2, 3>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reshape_two_inferred(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reshape' op shape may contain -1 at most once, got [-1, -1]}}
  %0 = kiln.reshape %x {shape = array<i64: -1, -1>} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reshape' op cannot reshape [2, 3] (6 elements) into [4, 2]}}
  %0 = kiln.reshape %x {shape = array<i64: 4, 2>} : (tensor<2x3xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @reshape_indivisible(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reshape' op cannot reshape [2, 3] (6 elements) into [4, -1]}}
  %0 = kiln.reshape %x {shape = array<i64: 4, -1>} : (tensor<2x3xf32>) -> tensor<4x1xf32>
  return
}

// -----

func.func @result_type_mismatch(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reshape' op declares result types 'tensor<2x3xf32>' but its operands give 'tensor<3x2xf32>'}}
  %0 = kiln.reshape %x {shape = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @flatten_start(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.flatten' op start_dim 2 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.flatten %x {start_dim = 2 : i64} : (tensor<2x3xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @flatten_end(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.flatten' op end_dim -3 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.flatten %x {end_dim = -3 : i64} : (tensor<2x3xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @flatten_order(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'kiln.flatten' op start_dim 2 comes after end_dim 1}}
  %0 = kiln.flatten %x {start_dim = 2 : i64, end_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<24xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op permutation [0] has 1 entries but the input has rank 2}}
  %0 = kiln.transpose %x {permutation = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @transpose_repeat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op permutation [1, 1] must contain each of 0 to 1 once}}
  %0 = kiln.transpose %x {permutation = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{'kiln.concat' op needs at least one input}}
  %0 = kiln.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.concat' op axis 2 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.concat %x, %x {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_element_type(%x: tensor<2x3xf32>, %y: tensor<2x3xf64>) {
  // expected-error @+1 {{'kiln.concat' op input #1 has element type f64 but input #0 has f32}}
  %0 = kiln.concat %x, %y {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x3xf64>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_rank(%x: tensor<2x3xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.concat' op input #1 has rank 1 but input #0 has rank 2}}
  %0 = kiln.concat %x, %y {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_shape(%x: tensor<2x3xf32>, %y: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.concat' op input #1 has shape [2, 4], which differs from input #0's [2, 3] outside the concatenation axis}}
  %0 = kiln.concat %x, %y {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @slice_entries(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op offsets, sizes and strides must have one entry per dimension of the input (2)}}
  %0 = kiln.slice %x {offsets = array<i64: 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<4x4xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_stride(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op dimension 1 needs a non-negative offset and size and a positive stride, got offset 0, size 2, stride 0}}
  %0 = kiln.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op dimension 0 reads index 5, past its size 4}}
  %0 = kiln.slice %x {offsets = array<i64: 1, 0>, sizes = array<i64: 3, 2>, strides = array<i64: 2, 1>} : (tensor<4x4xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @embedding_table(%ids: tensor<4xi64>, %t: tensor<10xf32>) {
  // expected-error @+1 {{'kiln.embedding' op table must have rank 2, got [10]}}
  %0 = kiln.embedding %ids, %t : (tensor<4xi64>, tensor<10xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @embedding_ids_type(%ids: tensor<4xf32>, %t: tensor<10x3xf32>) {
  // expected-error @+1 {{'kiln.embedding' op operand #0 must be ranked tensor of 64-bit signless integer values}}
  %0 = kiln.embedding %ids, %t : (tensor<4xf32>, tensor<10x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @one_hot_classes(%ids: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.one_hot' op num_classes must be positive, got 0}}
  %0 = kiln.one_hot %ids {num_classes = 0 : i64} : (tensor<4xi64>) -> tensor<4x0xf32>
  return
}

// -----

func.func @positions_length() {
  // expected-error @+1 {{'kiln.sinusoidal_positions' op length must be positive, got 0}}
  %0 = kiln.sinusoidal_positions {length = 0 : i64, dim = 4 : i64} : tensor<0x4xf32>
  return
}

// -----

func.func @positions_dim() {
  // expected-error @+1 {{'kiln.sinusoidal_positions' op dim must be positive and even, got 5}}
  %0 = kiln.sinusoidal_positions {length = 3 : i64, dim = 5 : i64} : tensor<3x5xf32>
  return
}

// -----

func.func @broadcast_shapes(%x: tensor<2x3xf32>, %y: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.add' op cannot broadcast [2, 3] with [4]}}
  %0 = kiln.add %x, %y : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @broadcast_element_types(%x: tensor<2x3xf32>, %y: tensor<2x3xf64>) {
  // expected-error @+1 {{'kiln.mul' op rhs has element type f64 but lhs has f32}}
  %0 = kiln.mul %x, %y : (tensor<2x3xf32>, tensor<2x3xf64>) -> tensor<2x3xf32>
  return
}

// -----

func.func @unary_integer(%x: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.relu' op operand #0 must be ranked tensor of 32-bit float or 64-bit float values}}
  %0 = kiln.relu %x : tensor<2xi64>
  return
}

// -----

func.func @clamp_without_bounds(%x: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.clamp' op needs a min or a max bound, or both}}
  %0 = kiln.clamp %x : tensor<2xf32>
  return
}

// -----

func.func @reduce_precision_f64(%x: tensor<2xf64>) {
  // expected-error @+1 {{'kiln.reduce_precision' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = kiln.reduce_precision %x {precision = bf16} : tensor<2xf64>
  return
}

// -----

func.func @reduce_precision_f16(%x: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.reduce_precision' op attribute 'precision' failed to satisfy constraint: type attribute of bfloat16 type}}
  %0 = kiln.reduce_precision %x {precision = f16} : tensor<2xf32>
  return
}

// -----

func.func @softplus_beta(%x: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.softplus' op beta must not be 0: softplus divides by it}}
  %0 = kiln.softplus %x {beta = 0.0 : f64} : tensor<2xf32>
  return
}

// -----

func.func @where_element_types(%c: tensor<2xf64>, %x: tensor<2xf32>, %y: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.where' op condition has element type f64 but x has f32}}
  %0 = kiln.where %c, %x, %y : (tensor<2xf64>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @where_broadcast(%c: tensor<3xf32>, %x: tensor<2x1xf32>, %y: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.where' op cannot broadcast [2, 3] with [2]}}
  %0 = kiln.where %c, %x, %y : (tensor<3xf32>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_empty(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reduce_sum' op axes must not be empty}}
  %0 = kiln.reduce_sum %x {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reduce_mean' op axis -3 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.reduce_mean %x {axes = array<i64: -3>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_repeat(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.reduce_max' op axis -1 appears more than once in axes}}
  %0 = kiln.reduce_max %x {axes = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @argmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.argmax' op axis 5 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.argmax %x {axis = 5 : i64} : (tensor<2x3xf32>) -> tensor<2xi64>
  return
}

// -----

func.func @count_equal_shapes(%x: tensor<4xi64>, %y: tensor<5xi64>) {
  // expected-error @+1 {{'kiln.count_equal' op rhs must have shape [4], got [5]}}
  %0 = kiln.count_equal %x, %y : (tensor<4xi64>, tensor<5xi64>) -> tensor<i64>
  return
}

// -----

func.func @matmul_rank(%x: tensor<3xf32>, %y: tensor<3x2xf32>) {
  // expected-error @+1 {{'kiln.matmul' op operands must have rank 2 or more, got [3] and [3, 2]}}
  %0 = kiln.matmul %x, %y : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_contraction(%x: tensor<2x3xf32>, %y: tensor<4x2xf32>) {
  // expected-error @+1 {{'kiln.matmul' op contracted dimensions differ: [2, 3] times [4, 2]}}
  %0 = kiln.matmul %x, %y : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_contraction_transposed(%x: tensor<2x3xf32>, %y: tensor<3x2xf32>) {
  // expected-error @+1 {{'kiln.matmul' op contracted dimensions differ: [2, 3] (transposed) times [3, 2]}}
  %0 = kiln.matmul %x, %y {transpose_lhs = true} : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @matmul_batch(%x: tensor<2x2x3xf32>, %y: tensor<3x3x2xf32>) {
  // expected-error @+1 {{'kiln.matmul' op batch dimensions [2] and [3] cannot be broadcast}}
  %0 = kiln.matmul %x, %y : (tensor<2x2x3xf32>, tensor<3x3x2xf32>) -> tensor<2x2x2xf32>
  return
}

// -----

func.func @matmul_element_types(%x: tensor<2x3xf32>, %y: tensor<3x2xf64>) {
  // expected-error @+1 {{'kiln.matmul' op rhs has element type f64 but lhs has f32}}
  %0 = kiln.matmul %x, %y : (tensor<2x3xf32>, tensor<3x2xf64>) -> tensor<2x2xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op input must have rank 4, got [3, 8, 8]}}
  %0 = kiln.conv2d %x, %w : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x27xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op weight must have rank 4, got [4, 27]}}
  %0 = kiln.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x27xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x2x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op input has 2 channels but weight [4, 3, 3, 3] expects 3}}
  %0 = kiln.conv2d %x, %w : (tensor<1x2x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op bias must have shape [4], got [5]}}
  %0 = kiln.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias_type(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf64>) {
  // expected-error @+1 {{'kiln.conv2d' op bias has element type f64 but input has f32}}
  %0 = kiln.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf64>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op strides must be positive, got [0, 1]}}
  %0 = kiln.conv2d %x, %w {stride = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op dilations must be positive, got [1, -1]}}
  %0 = kiln.conv2d %x, %w {dilation = array<i64: 1, -1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op padding must not be negative, got [-1, 0]}}
  %0 = kiln.conv2d %x, %w {padding = array<i64: -1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_too_small(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op the [3, 3] kernel does not fit in the padded input [1, 3, 2, 2]}}
  %0 = kiln.conv2d %x, %w : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

func.func @conv_attribute_size(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv2d' op attribute 'stride' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = kiln.conv2d %x, %w {stride = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op input must have rank 4, got [3, 8, 8]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<3x8x8xf32>) -> tensor<3x4x4xf32>
  return
}

// -----

func.func @pool_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op kernel sizes must be positive, got [0, 2]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 0, 2>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func.func @pool_stride(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.avg_pool2d' op strides must be positive, got [2, 0]}}
  %0 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func.func @pool_padding(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op padding must be between 0 and half the kernel, got [2, 0] for kernel [2, 2]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 2, 0>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x6x4xf32>
  return
}

// -----

func.func @pool_too_small(%x: tensor<1x3x1x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op the [2, 2] kernel does not fit in the padded input [1, 3, 1, 8]}}
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<1x3x1x8xf32>) -> tensor<1x3x0x4xf32>
  return
}

// -----

func.func @pool_kernel_missing(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool2d' op requires attribute 'kernel'}}
  %0 = kiln.max_pool2d %x : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.linear' op weight must have rank 2, got [4]}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'kiln.linear' op input must have rank 1 or more}}
  %0 = kiln.linear %x, %w : (tensor<f32>, tensor<3x4xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @linear_features(%x: tensor<2x5xf32>, %w: tensor<3x4xf32>) {
  // expected-error @+1 {{'kiln.linear' op input has 5 features but weight [3, 4] expects 4}}
  %0 = kiln.linear %x, %w : (tensor<2x5xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.linear' op bias must have shape [3], got [4]}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op axis 2 is out of range for rank 2 (expected -2 to 1)}}
  %0 = kiln.layer_norm %x {axis = 2 : i64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_weight(%x: tensor<2x4xf32>, %w: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op weight must have shape [4], got [2, 4]}}
  %0 = kiln.layer_norm %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x4xf32>, %w: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op bias must have shape [2, 4], got [4]}}
  %0 = kiln.layer_norm %x, %w, %b {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias_without_weight(%x: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op has a bias but no weight}}
  %0 = "kiln.layer_norm"(%x, %b) <{operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op epsilon must not be negative}}
  %0 = kiln.layer_norm %x {epsilon = -1.0 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dropout_p(%x: tensor<2x4xf32>, %step: tensor<i64>) {
  // expected-error @+1 {{'kiln.dropout' op p must be in [0, 1), got 1}}
  %0 = kiln.dropout %x, %step {p = 1.0 : f64} : (tensor<2x4xf32>, tensor<i64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @dropout_counter(%x: tensor<2x4xf32>, %step: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.dropout' op operand #1 must be 0D tensor of 64-bit signless integer values}}
  %0 = kiln.dropout %x, %step {p = 0.5 : f64} : (tensor<2x4xf32>, tensor<1xi64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @lstm_input_rank(%x: tensor<2x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op input must have rank 3, got [2, 16]}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 1 : i64}
      : (tensor<2x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @lstm_hidden(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op hidden_size must be positive, got 0}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 0 : i64, num_layers = 1 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @lstm_layers(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op num_layers must be positive, got 0}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 0 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @lstm_weight_count(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op needs 4 weights per layer (8 for 2 layers), got 4}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 2 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>)
  return
}

// -----

func.func @lstm_weight_shape(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x16xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op weight_hh_l0 must have shape [32, 8], got [32, 16]}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 1 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x16xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @lstm_weight_type(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf64>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.lstm' op weight_ih_l0 has element type f64 but input has f32}}
  %0:3 = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 1 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf64>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @gru_input_rank(%x: tensor<2x16xf32>, %wi: tensor<24x16xf32>, %wh: tensor<24x8xf32>, %b: tensor<24xf32>) {
  // expected-error @+1 {{'kiln.gru' op input must have rank 3, got [2, 16]}}
  %0:2 = kiln.gru %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 1 : i64}
      : (tensor<2x16xf32>, tensor<24x16xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<24xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @gru_weight_count(%x: tensor<2x6x16xf32>, %wi: tensor<24x16xf32>, %wh: tensor<24x8xf32>, %b: tensor<24xf32>) {
  // expected-error @+1 {{'kiln.gru' op needs 4 weights per layer (8 for 2 layers), got 4}}
  %0:2 = kiln.gru %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 2 : i64}
      : (tensor<2x6x16xf32>, tensor<24x16xf32>, tensor<24x8xf32>, tensor<24xf32>, tensor<24xf32>)
      -> (tensor<2x6x8xf32>, tensor<2x2x8xf32>)
  return
}

// -----

func.func @gru_lstm_weights(%x: tensor<2x6x16xf32>, %wi: tensor<32x16xf32>, %wh: tensor<32x8xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.gru' op weight_ih_l0 must have shape [24, 16], got [32, 16]}}
  %0:2 = kiln.gru %x, %wi, %wh, %b, %b {hidden_size = 8 : i64, num_layers = 1 : i64}
      : (tensor<2x6x16xf32>, tensor<32x16xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<2x6x8xf32>, tensor<1x2x8xf32>)
  return
}

// -----

func.func @attention_rank(%q: tensor<4x8xf32>, %k: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'kiln.attention' op query, key and value must have one rank of 2 or more, got [4, 8], [2, 4, 8] and [2, 4, 8]}}
  %0 = kiln.attention %q, %k, %k : (tensor<4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x4x8xf32>, %k: tensor<3x4x8xf32>) {
  // expected-error @+1 {{'kiln.attention' op batch dimensions differ: query [2, 4, 8], key [3, 4, 8], value [3, 4, 8]}}
  %0 = kiln.attention %q, %k, %k : (tensor<2x4x8xf32>, tensor<3x4x8xf32>, tensor<3x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_embedding(%q: tensor<2x4x8xf32>, %k: tensor<2x4x6xf32>) {
  // expected-error @+1 {{'kiln.attention' op query and key embeddings differ: 8 and 6}}
  %0 = kiln.attention %q, %k, %k : (tensor<2x4x8xf32>, tensor<2x4x6xf32>, tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @attention_lengths(%q: tensor<2x4x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'kiln.attention' op key and value sequences differ in length: 5 and 4}}
  %0 = kiln.attention %q, %k, %v : (tensor<2x4x8xf32>, tensor<2x5x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'kiln.attention' op scale must be positive}}
  %0 = kiln.attention %q, %q, %q {scale = 0.0 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_dropout(%q: tensor<2x4x8xf32>, %step: tensor<i64>) {
  // expected-error @+1 {{'kiln.attention' op dropout must be in [0, 1), got 1.5}}
  %0 = kiln.attention %q, %q, %q, %step {dropout = 1.5 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<i64>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_dropout_counter(%q: tensor<2x4x8xf32>) {
  // expected-error @+1 {{'kiln.attention' op needs the step counter operand to draw its dropout}}
  %0 = kiln.attention %q, %q, %q {dropout = 0.5 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_counter_without_dropout(%q: tensor<2x4x8xf32>, %step: tensor<i64>) {
  // expected-error @+1 {{'kiln.attention' op has a step counter but no dropout}}
  %0 = kiln.attention %q, %q, %q, %step : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<i64>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_counter_type(%q: tensor<2x4x8xf32>, %step: tensor<1xi64>) {
  // expected-error @+1 {{'kiln.attention' op operand #3 must be 0D tensor of 64-bit signless integer values}}
  %0 = kiln.attention %q, %q, %q, %step {dropout = 0.5 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<1xi64>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_types(%q: tensor<2x4x8xf32>, %v: tensor<2x4x8xf64>) {
  // expected-error @+1 {{'kiln.attention' op value has element type f64 but query has f32}}
  %0 = kiln.attention %q, %q, %v : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf64>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @cross_entropy_rank(%x: tensor<2x3x4xf32>, %l: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy' op logits must have rank 2, got [2, 3, 4]}}
  %0 = kiln.cross_entropy %x, %l : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_labels_rank(%x: tensor<2x4xf32>, %l: tensor<2x1xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy' op labels must have rank 1, got [2, 1]}}
  %0 = kiln.cross_entropy %x, %l : (tensor<2x4xf32>, tensor<2x1xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_batch(%x: tensor<2x4xf32>, %l: tensor<3xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy' op has 2 rows of logits but 3 labels}}
  %0 = kiln.cross_entropy %x, %l : (tensor<2x4xf32>, tensor<3xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_smoothing(%x: tensor<2x4xf32>, %l: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy' op label_smoothing must be in [0, 1], got 1.5}}
  %0 = kiln.cross_entropy %x, %l {label_smoothing = 1.5 : f64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_ignore_index_type(%x: tensor<2x4xf32>, %l: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.cross_entropy' op attribute 'ignore_index' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = kiln.cross_entropy %x, %l {ignore_index = 0.5 : f64} : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  return
}

// -----

func.func @accumulate_types(%s: tensor<4xf32>, %t: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.accumulate' op requires the same type for all operands and results}}
  %0 = "kiln.accumulate"(%s, %t) : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_grad(%p: tensor<4xf32>, %g: tensor<3xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op grad must have the type of param 'tensor<4xf32>', got 'tensor<3xf32>'}}
  %0 = kiln.sgd %p, %g, %lr, %s : (tensor<4xf32>, tensor<3xf32>, tensor<f32>, tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_lr(%p: tensor<4xf32>, %lr: tensor<f64>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op lr must have the element type of param 'f32'}}
  %0 = kiln.sgd %p, %p, %lr, %s : (tensor<4xf32>, tensor<4xf32>, tensor<f64>, tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_negative(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op momentum, dampening and weight_decay must not be negative}}
  %0 = kiln.sgd %p, %p, %lr, %s {weight_decay = -1.0 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_nesterov(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op nesterov momentum needs a positive momentum and zero dampening}}
  %0:2 = kiln.sgd %p, %p, %lr, %s, %p {momentum = 0.9 : f64, dampening = 0.1 : f64, nesterov = true}
      : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @sgd_missing_buffer(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op needs a momentum buffer when momentum is not 0}}
  %0 = kiln.sgd %p, %p, %lr, %s {momentum = 0.9 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> tensor<4xf32>
  return
}

// -----

func.func @sgd_extra_buffer(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op takes no momentum buffer when momentum is 0}}
  %0:2 = kiln.sgd %p, %p, %lr, %s, %p : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @sgd_buffer_type(%p: tensor<4xf32>, %b: tensor<2x2xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.sgd' op momentum_buffer must have the type of param 'tensor<4xf32>', got 'tensor<2x2xf32>'}}
  %0:2 = kiln.sgd %p, %p, %lr, %s, %b {momentum = 0.9 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>, tensor<2x2xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adam_state(%p: tensor<4xf32>, %m: tensor<4xf64>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.adam' op exp_avg must have the type of param 'tensor<4xf32>', got 'tensor<4xf64>'}}
  %0:3 = kiln.adam %p, %p, %m, %p, %lr, %s
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf64>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adam_lr(%p: tensor<4xf32>, %lr: tensor<f64>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.adamw' op lr must have the element type of param 'f32'}}
  %0:3 = kiln.adamw %p, %p, %p, %p, %lr, %s
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f64>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adam_betas(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.adam' op beta1 and beta2 must be in [0, 1), got 0.9 and 1}}
  %0:3 = kiln.adam %p, %p, %p, %p, %lr, %s {beta2 = 1.0 : f64}
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adam_epsilon(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.adam' op epsilon must not be negative, got -1}}
  %0:3 = kiln.adam %p, %p, %p, %p, %lr, %s {epsilon = -1.0 : f64}
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @adam_weight_decay(%p: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<i64>) {
  // expected-error @+1 {{'kiln.adamw' op weight_decay must not be negative, got -0.5}}
  %0:3 = kiln.adamw %p, %p, %p, %p, %lr, %s {weight_decay = -0.5 : f64}
      : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<f32>, tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @constant_vector() {
  // expected-error @+1 {{'kiln.constant' op result #0 must be ranked tensor of 32-bit float or 64-bit float or 64-bit signless integer values, but got 'vector<2xf32>'}}
  %0 = kiln.constant dense<1.0> : vector<2xf32>
  return
}

// -----

func.func @batch_norm_no_ranks(%x: tensor<4x3xf32>, %r: tensor<3xf32>, %n: tensor<i64>) {
  // expected-error @+1 {{'kiln.batch_norm' op attribute 'ranks' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0:4 = kiln.batch_norm %x, %r, %r, %n {ranks = 0}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  return
}
