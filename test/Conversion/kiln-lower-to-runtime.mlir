// kiln-lower-to-runtime turns each heavy op into a kiln.runtime_call whose
// config follows kiln_runtime.h's layout for its kind, writing new tensors.
// The mask of blocked arguments that may end the configs of convolutions and
// poolings is kiln-assign-runtime-layouts' (absent: all plain).
// RUN: kiln-opt %s -kiln-lower-to-runtime -split-input-file | FileCheck %s

// Convolutions: config [N C H W O KH KW SH SW PH PW DH DW], then whether
// there is a bias and the activation (none) for the forward op, or
// the bias gradient (none) for the weight gradient.
// CHECK-LABEL: func.func @convolutions(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>, %[[DY:.*]]: tensor<2x4x8x8xf32>)
func.func @convolutions(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>, %dy: tensor<2x4x8x8xf32>)
    -> (tensor<2x4x8x8xf32>, tensor<2x4x2x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) {
  // CHECK: %[[E0:.*]] = tensor.empty() : tensor<2x4x8x8xf32>
  // CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0]
  // CHECK-SAME: ins(%[[X]], %[[W]], %[[B]] : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) outs(%[[E0]] : tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %y = kiln.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: %[[Z:.*]] = kiln.runtime_call <conv2d_forward> site 1 config [2, 3, 8, 8, 4, 3, 3, 2, 1, 0, 0, 2, 2, 0, 0]
  // CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<2x4x2x4xf32>)
  %z = kiln.conv2d %x, %w {stride = array<i64: 2, 1>, dilation = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x2x4xf32>
  // CHECK: %[[DX:.*]] = kiln.runtime_call <conv2d_backward_data> site 2 config [2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1]
  // CHECK-SAME: ins(%[[DY]], %[[W]] : tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<2x3x8x8xf32>)
  %dx = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 3, 8, 8>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: %[[DW:.*]] = kiln.runtime_call <conv2d_backward_weights> site 3 config [2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0]
  // CHECK-SAME: ins(%[[DY]], %[[X]] : tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) outs(%{{.*}} : tensor<4x3x3x3xf32>)
  %dw = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  // CHECK-NOT: kiln.conv2d
  // CHECK: return %[[Y]], %[[Z]], %[[DX]], %[[DW]]
  return %y, %z, %dx, %dw : tensor<2x4x8x8xf32>, tensor<2x4x2x4xf32>, tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>
}

// -----

// Pooling: config [N C H W KH KW SH SW PH PW algorithm] with algorithm 0 for
// the maximum, 1 for the average counting padding, 2 without; forward sites
// add whether a backward site pairs with them (keeps_workspace), backward
// sites the forward site whose workspace they use: max pooling's on the same
// input, or -1.
// CHECK-LABEL: func.func @pooling(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x8x8xf32>, %[[X2:.*]]: tensor<2x3x8x8xf32>, %[[DP:.*]]: tensor<2x3x4x4xf32>)
func.func @pooling(%x: tensor<2x3x8x8xf32>, %x2: tensor<2x3x8x8xf32>, %dp: tensor<2x3x4x4xf32>)
    -> (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) {
  // CHECK: kiln.runtime_call <pool2d_forward> site 0 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1] ins(%[[X]] : tensor<2x3x8x8xf32>)
  %p = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  // CHECK: kiln.runtime_call <pool2d_backward> site 1 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0] ins(%[[DP]], %[[X]] : tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>)
  %dx = kiln.max_pool2d_backward %dp, %x {kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.runtime_call <pool2d_backward> site 2 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, -1] ins(%[[DP]], %[[X2]] :
  %dx2 = kiln.max_pool2d_backward %dp, %x2 {kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.runtime_call <pool2d_forward> site 3 config [2, 3, 8, 8, 3, 3, 1, 1, 1, 1, 2, 0] ins(%[[X]] :
  %a = kiln.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  // CHECK: kiln.runtime_call <pool2d_forward> site 4 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 0] ins(%[[X]] :
  %a2 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  // Average pooling reads no input: the gradient stands in for it.
  // CHECK: kiln.runtime_call <pool2d_backward> site 5 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 2, -1] ins(%[[DP]], %[[DP]] : tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>) outs(%{{.*}} : tensor<2x3x8x8xf32>)
  %da = kiln.avg_pool2d_backward %dp {input_shape = array<i64: 2, 3, 8, 8>, kernel = array<i64: 2, 2>, count_include_pad = false} : (tensor<2x3x4x4xf32>) -> tensor<2x3x8x8xf32>
  return %p, %dx, %dx2, %a, %a2, %da : tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>
}

// -----

// A max pooling that no backward site pairs with (an evaluation's) keeps no
// workspace: the runtime pools in inference mode.
// CHECK-LABEL: func.func @inference_pooling(
// CHECK: kiln.runtime_call <pool2d_forward> site 0 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0]
func.func @inference_pooling(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32> {
  %p = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  return %p : tensor<2x3x4x4xf32>
}

// -----

// Poolings of one input with different windows: each backward site pairs with
// the forward site of its own configuration (the runtime refuses any other),
// or with none.
// CHECK-LABEL: func.func @pooling_pairs(
// CHECK: kiln.runtime_call <pool2d_forward> site 0 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1]
// CHECK: kiln.runtime_call <pool2d_forward> site 1 config [2, 3, 8, 8, 4, 4, 4, 4, 0, 0, 0, 1]
// CHECK: kiln.runtime_call <pool2d_backward> site 2 config [2, 3, 8, 8, 4, 4, 4, 4, 0, 0, 0, 1]
// CHECK: kiln.runtime_call <pool2d_backward> site 3 config [2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0]
// CHECK: kiln.runtime_call <pool2d_backward> site 4 config [2, 3, 8, 8, 2, 2, 1, 1, 0, 0, 0, -1]
func.func @pooling_pairs(%x: tensor<2x3x8x8xf32>, %d2: tensor<2x3x4x4xf32>, %d4: tensor<2x3x2x2xf32>, %d7: tensor<2x3x7x7xf32>)
    -> (tensor<2x3x4x4xf32>, tensor<2x3x2x2xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>) {
  %p2 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  %p4 = kiln.max_pool2d %x {kernel = array<i64: 4, 4>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x2x2xf32>
  %b4 = kiln.max_pool2d_backward %d4, %x {kernel = array<i64: 4, 4>} : (tensor<2x3x2x2xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %b2 = kiln.max_pool2d_backward %d2, %x {kernel = array<i64: 2, 2>} : (tensor<2x3x4x4xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  %b1 = kiln.max_pool2d_backward %d7, %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>} : (tensor<2x3x7x7xf32>, tensor<2x3x8x8xf32>) -> tensor<2x3x8x8xf32>
  return %p2, %p4, %b4, %b2, %b1 : tensor<2x3x4x4xf32>, tensor<2x3x2x2xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>, tensor<2x3x8x8xf32>
}

// -----

// Matrix products: config [batch M N K transpose_lhs transpose_rhs
// lhs_batched rhs_batched bias 0]. A single matrix is shared across the
// batch; any other broadcast is materialized first.
// CHECK-LABEL: func.func @matmuls(
// CHECK-SAME: %[[M:.*]]: tensor<2x4x8xf32>, %[[N:.*]]: tensor<8x3xf32>, %[[X:.*]]: tensor<4x8xf32>, %[[L:.*]]: tensor<2x1x4x8xf32>, %[[R:.*]]: tensor<3x8x5xf32>)
func.func @matmuls(%m: tensor<2x4x8xf32>, %n: tensor<8x3xf32>, %x: tensor<4x8xf32>,
                   %l: tensor<2x1x4x8xf32>, %r: tensor<3x8x5xf32>)
    -> (tensor<2x4x3xf32>, tensor<8x8xf32>, tensor<4x4xf32>, tensor<2x3x4x5xf32>) {
  // CHECK: kiln.runtime_call <matmul> site 0 config [2, 4, 3, 8, 0, 0, 1, 0, 0, 0] ins(%[[M]], %[[N]] : tensor<2x4x8xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<2x4x3xf32>)
  %0 = kiln.matmul %m, %n : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  // CHECK: kiln.runtime_call <matmul> site 1 config [1, 8, 8, 4, 1, 0, 0, 0, 0, 0] ins(%[[X]], %[[X]] :
  %1 = kiln.matmul %x, %x {transpose_lhs = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  // CHECK: kiln.runtime_call <matmul> site 2 config [1, 4, 4, 8, 0, 1, 0, 0, 0, 0] ins(%[[X]], %[[X]] :
  %2 = kiln.matmul %x, %x {transpose_rhs = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  // CHECK: %[[BL:.*]] = kiln.broadcast_to %[[L]] {shape = array<i64: 2, 3, 4, 8>}
  // CHECK: %[[BR:.*]] = kiln.broadcast_to %[[R]] {shape = array<i64: 2, 3, 8, 5>}
  // CHECK: kiln.runtime_call <matmul> site 3 config [6, 4, 5, 8, 0, 0, 1, 1, 0, 0] ins(%[[BL]], %[[BR]] : tensor<2x3x4x8xf32>, tensor<2x3x8x5xf32>) outs(%{{.*}} : tensor<2x3x4x5xf32>)
  %3 = kiln.matmul %l, %r : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %0, %1, %2, %3 : tensor<2x4x3xf32>, tensor<8x8xf32>, tensor<4x4xf32>, tensor<2x3x4x5xf32>
}

// -----

// A linear layer is a product of the rows of its input with the transposed
// weight, plus the bias when there is one. Sites are numbered across the
// functions of the module.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME: %[[X:.*]]: tensor<2x16xf32>, %[[W:.*]]: tensor<5x16xf32>, %[[B:.*]]: tensor<5xf32>
// CHECK: kiln.runtime_call <matmul> site 0 config [1, 2, 5, 16, 0, 1, 0, 0, 1, 0] ins(%[[X]], %[[W]], %[[B]] : tensor<2x16xf32>, tensor<5x16xf32>, tensor<5xf32>) outs(%{{.*}} : tensor<2x5xf32>)
// CHECK-LABEL: func.func @linear_sequence(
// CHECK-SAME: %[[S:.*]]: tensor<2x6x16xf32>, %[[W2:.*]]: tensor<5x16xf32>
// CHECK: kiln.runtime_call <matmul> site 1 config [1, 12, 5, 16, 0, 1, 0, 0, 0, 0] ins(%[[S]], %[[W2]] : tensor<2x6x16xf32>, tensor<5x16xf32>) outs(%{{.*}} : tensor<2x6x5xf32>)
func.func @linear(%x: tensor<2x16xf32>, %w: tensor<5x16xf32>, %b: tensor<5xf32>) -> tensor<2x5xf32> {
  %0 = kiln.linear %x, %w, %b : (tensor<2x16xf32>, tensor<5x16xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}
func.func @linear_sequence(%s: tensor<2x6x16xf32>, %w: tensor<5x16xf32>) -> tensor<2x6x5xf32> {
  %0 = kiln.linear %s, %w : (tensor<2x6x16xf32>, tensor<5x16xf32>) -> tensor<2x6x5xf32>
  return %0 : tensor<2x6x5xf32>
}

// -----

// Softmax: config [outer size inner log] around the axis.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>, %[[T:.*]]: tensor<2x3x4xf32>, %[[G:.*]]: tensor<4x8xf32>)
func.func @softmax(%x: tensor<4x8xf32>, %t: tensor<2x3x4xf32>, %g: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x3x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: kiln.runtime_call <softmax_forward> site 0 config [4, 8, 1, 0] ins(%[[X]] :
  %0 = kiln.softmax %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.runtime_call <softmax_forward> site 1 config [1, 4, 8, 1] ins(%[[X]] :
  %1 = kiln.log_softmax %x {axis = 0 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.runtime_call <softmax_forward> site 2 config [2, 3, 4, 0] ins(%[[T]] :
  %2 = kiln.softmax %t {axis = -2 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: kiln.runtime_call <softmax_backward> site 3 config [1, 4, 8, 0] ins(%[[G]], %[[X]] : tensor<4x8xf32>, tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xf32>)
  %3 = kiln.softmax_backward %g, %x {axis = 0 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: kiln.runtime_call <softmax_backward> site 4 config [4, 8, 1, 1] ins(%[[G]], %[[X]] :
  %4 = kiln.log_softmax_backward %g, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1, %2, %3, %4 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x3x4xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Layer normalization: config [rows size epsilon-bits affine], then the
// forward's keeps_statistics and the backward's forward site (or -1): a
// backward site reuses the statistics of the forward site of the same input
// and configuration, here the last such (site 1; the weight does not enter
// them). The runtime takes a weight and a bias together, so a weight alone
// gets a zero bias.
// 4532020583610935537 is the double 1e-5 and 4562254508917369340 is 1e-3.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:.*]]: tensor<2x6x16xf32>, %[[G:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>, %[[DY:.*]]: tensor<2x6x16xf32>)
func.func @layer_norm(%x: tensor<2x6x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %dy: tensor<2x6x16xf32>)
    -> (tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2x6x16xf32>) {
  // CHECK: kiln.runtime_call <layer_norm_forward> site 0 config [12, 16, 4532020583610935537, 1, 0] ins(%[[X]], %[[G]], %[[B]] :
  %0 = kiln.layer_norm %x, %g, %b : (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK: %[[ZERO:.*]] = kiln.constant dense<0.000000e+00> : tensor<16xf32>
  // CHECK: kiln.runtime_call <layer_norm_forward> site 1 config [12, 16, 4532020583610935537, 1, 1] ins(%[[X]], %[[G]], %[[ZERO]] :
  %1 = kiln.layer_norm %x, %g : (tensor<2x6x16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>
  // CHECK: kiln.runtime_call <layer_norm_forward> site 2 config [2, 96, 4562254508917369340, 0, 0] ins(%[[X]] : tensor<2x6x16xf32>)
  %2 = kiln.layer_norm %x {axis = 1 : i64, epsilon = 1.0e-3 : f64} : (tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  // CHECK: kiln.runtime_call <layer_norm_backward> site 3 config [12, 16, 4532020583610935537, 1, 1] ins(%[[DY]], %[[X]], %[[G]] : tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>)
  // CHECK-SAME: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>
  %3:3 = kiln.layer_norm_backward %dy, %x, %g : (tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>) -> (tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>)
  // CHECK: kiln.runtime_call <layer_norm_backward> site 4 config [12, 16, 4562254508917369340, 0, -1] ins(%[[DY]], %[[X]] : tensor<2x6x16xf32>, tensor<2x6x16xf32>) outs(%{{.*}} : tensor<2x6x16xf32>)
  %4 = kiln.layer_norm_backward %dy, %x {epsilon = 1.0e-3 : f64} : (tensor<2x6x16xf32>, tensor<2x6x16xf32>) -> tensor<2x6x16xf32>
  return %0, %1, %2, %3#0, %3#1, %3#2, %4 : tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<2x6x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2x6x16xf32>
}

// -----

// LSTM: config [batch steps input hidden layers], and for the backward site
// the forward site that computed its output sequence, or -1.
// CHECK-LABEL: func.func @lstm(
// CHECK-SAME: %[[X:.*]]: tensor<2x5x3xf32>, %[[WI:.*]]: tensor<16x3xf32>, %[[WH:.*]]: tensor<16x4xf32>, %[[B:.*]]: tensor<16xf32>, %[[G:.*]]: tensor<2x5x4xf32>, %[[H:.*]]: tensor<1x2x4xf32>)
func.func @lstm(%x: tensor<2x5x3xf32>, %wi: tensor<16x3xf32>, %wh: tensor<16x4xf32>, %b: tensor<16xf32>,
                %g: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>)
    -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<2x5x3xf32>) {
  // CHECK: %[[F:.*]]:3 = kiln.runtime_call <lstm_forward> site 0 config [2, 5, 3, 4, 1] ins(%[[X]], %[[WI]], %[[WH]], %[[B]], %[[B]] :
  // CHECK-SAME: -> tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>
  %out, %hn, %cn = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>)
  // CHECK: kiln.runtime_call <lstm_backward> site 1 config [2, 5, 3, 4, 1, 0]
  // CHECK-SAME: ins(%[[X]], %[[F]]#0, %[[F]]#1, %[[F]]#2, %[[G]], %[[H]], %[[H]], %[[WI]], %[[WH]], %[[B]], %[[B]] :
  // CHECK-SAME: -> tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>
  %d:5 = kiln.lstm_backward %x, %out, %hn, %cn, %g, %h, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>,
         tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  // CHECK: kiln.runtime_call <lstm_backward> site 2 config [2, 5, 3, 4, 1, -1] ins(%[[X]], %[[G]], %[[H]], %[[H]], %[[G]], %[[H]], %[[H]],
  %e:5 = kiln.lstm_backward %x, %g, %h, %h, %g, %h, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>,
         tensor<1x2x4xf32>, tensor<1x2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
      -> (tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>, tensor<16xf32>)
  return %d#0, %d#1, %e#0 : tensor<2x5x3xf32>, tensor<16x3xf32>, tensor<2x5x3xf32>
}

// -----

// GRU: the LSTM's configs, without the cell state.
// CHECK-LABEL: func.func @gru(
// CHECK-SAME: %[[X:.*]]: tensor<2x5x3xf32>, %[[WI:.*]]: tensor<12x3xf32>, %[[WH:.*]]: tensor<12x4xf32>, %[[B:.*]]: tensor<12xf32>, %[[G:.*]]: tensor<2x5x4xf32>, %[[H:.*]]: tensor<1x2x4xf32>)
func.func @gru(%x: tensor<2x5x3xf32>, %wi: tensor<12x3xf32>, %wh: tensor<12x4xf32>, %b: tensor<12xf32>,
               %g: tensor<2x5x4xf32>, %h: tensor<1x2x4xf32>)
    -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<2x5x3xf32>) {
  // CHECK: %[[F:.*]]:2 = kiln.runtime_call <gru_forward> site 0 config [2, 5, 3, 4, 1] ins(%[[X]], %[[WI]], %[[WH]], %[[B]], %[[B]] :
  // CHECK-SAME: -> tensor<2x5x4xf32>, tensor<1x2x4xf32>
  %out, %hn = kiln.gru %x, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
      -> (tensor<2x5x4xf32>, tensor<1x2x4xf32>)
  // CHECK: kiln.runtime_call <gru_backward> site 1 config [2, 5, 3, 4, 1, 0]
  // CHECK-SAME: ins(%[[X]], %[[F]]#0, %[[F]]#1, %[[G]], %[[H]], %[[WI]], %[[WH]], %[[B]], %[[B]] :
  // CHECK-SAME: -> tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>
  %d:5 = kiln.gru_backward %x, %out, %hn, %g, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>,
         tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
      -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
  // CHECK: kiln.runtime_call <gru_backward> site 2 config [2, 5, 3, 4, 1, -1] ins(%[[X]], %[[G]], %[[H]], %[[G]], %[[H]],
  %e:5 = kiln.gru_backward %x, %g, %h, %g, %h, %wi, %wh, %b, %b {hidden_size = 4 : i64, num_layers = 1 : i64}
      : (tensor<2x5x3xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>, tensor<2x5x4xf32>, tensor<1x2x4xf32>,
         tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
      -> (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>)
  return %d#0, %d#1, %e#0 : tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<2x5x3xf32>
}

// -----

// Attention: config [batch L S E EV causal scale-bits dropout-bits seed], the
// scale 1/sqrt(E) by default: 4600040671590431692 is 1/sqrt(8), and
// 4598175219545276416 is 0.25. With dropout, the step counter is the last
// input. A backward site's config ends with the forward site of the same
// query, key, value and configuration, whose probabilities it reuses, or -1.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME: %[[Q:.*]]: tensor<2x4x6x8xf32>, %[[K:.*]]: tensor<2x4x5x8xf32>, %[[V:.*]]: tensor<2x4x5x3xf32>, %[[G:.*]]: tensor<2x4x6x8xf32>)
func.func @attention(%q: tensor<2x4x6x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x3xf32>, %g: tensor<2x4x6x8xf32>)
    -> (tensor<2x4x6x3xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) {
  // CHECK: kiln.runtime_call <attention_forward> site 0 config [8, 6, 5, 8, 3, 0, 4600040671590431692, 0, 0] ins(%[[Q]], %[[K]], %[[V]] :
  // CHECK-SAME: outs(%{{.*}} : tensor<2x4x6x3xf32>)
  %0 = kiln.attention %q, %k, %v : (tensor<2x4x6x8xf32>, tensor<2x4x5x8xf32>, tensor<2x4x5x3xf32>) -> tensor<2x4x6x3xf32>
  // CHECK: kiln.runtime_call <attention_forward> site 1 config [8, 6, 6, 8, 8, 1, 4598175219545276416, 0, 0] ins(%[[Q]], %[[Q]], %[[Q]] :
  %1 = kiln.attention %q, %q, %q {causal = true, scale = 0.25 : f64} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> tensor<2x4x6x8xf32>
  // Another scale than site 1's: no forward site to pair with.
  // CHECK: %[[D:.*]]:3 = kiln.runtime_call <attention_backward> site 2 config [8, 6, 6, 8, 8, 1, 4600040671590431692, 0, 0, -1] ins(%[[G]], %[[Q]], %[[Q]], %[[Q]] :
  // CHECK-SAME: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  %2:3 = kiln.attention_backward %g, %q, %q, %q {causal = true} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  // CHECK: %[[P:.*]]:3 = kiln.runtime_call <attention_backward> site 3 config [8, 6, 6, 8, 8, 1, 4598175219545276416, 0, 0, 1] ins(%[[G]], %[[Q]], %[[Q]], %[[Q]] :
  // CHECK: return %{{.*}}, %{{.*}}, %[[D]]#0, %[[P]]#0
  %3:3 = kiln.attention_backward %g, %q, %q, %q {causal = true, scale = 0.25 : f64} : (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>) -> (tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>)
  return %0, %1, %2#0, %3#0 : tensor<2x4x6x3xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x8xf32>
}

// -----

// CHECK-LABEL: func.func @attention_dropout(
// CHECK-SAME: %[[Q:.*]]: tensor<2x6x8xf32>, %[[G:.*]]: tensor<2x6x8xf32>, %[[STEP:.*]]: tensor<i64>)
func.func @attention_dropout(%q: tensor<2x6x8xf32>, %g: tensor<2x6x8xf32>, %step: tensor<i64>)
    -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>) {
  // CHECK: kiln.runtime_call <attention_forward> site 0 config [2, 6, 6, 8, 8, 0, 4600040671590431692, 4598175219545276416, 5] ins(%[[Q]], %[[Q]], %[[Q]], %[[STEP]] :
  // CHECK-SAME: tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<i64>)
  %0 = kiln.attention %q, %q, %q, %step {dropout = 0.25 : f64, seed = 5 : i64} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<i64>) -> tensor<2x6x8xf32>
  // CHECK: kiln.runtime_call <attention_backward> site 1 config [2, 6, 6, 8, 8, 0, 4600040671590431692, 4598175219545276416, 5, 0] ins(%[[G]], %[[Q]], %[[Q]], %[[Q]], %[[STEP]] :
  %1:3 = kiln.attention_backward %g, %q, %q, %q, %step {dropout = 0.25 : f64, seed = 5 : i64} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<i64>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>)
  return %0, %1#0 : tensor<2x6x8xf32>, tensor<2x6x8xf32>
}

// -----

// Light ops are left to kiln-lower-to-linalg.
// CHECK-LABEL: func.func @light(
// CHECK-NEXT: kiln.relu
// CHECK-NEXT: kiln.reduce_sum
// CHECK-NEXT: return
func.func @light(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  %0 = kiln.relu %x : tensor<4x8xf32>
  %1 = kiln.reduce_sum %0 {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// A relu that is the only use of a convolution's or a product's result is
// the call's post-op (the last config value), and the call's result takes
// its place (here in a relu gradient that reads the relu's result, as
// kiln-mask-relu-gradients makes them).
// CHECK-LABEL: func.func @fused_relu(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x8x8xf32>, %[[W:.*]]: tensor<4x3x3x3xf32>, %[[B:.*]]: tensor<4xf32>, %[[DY:.*]]: tensor<2x4x8x8xf32>, %[[A:.*]]: tensor<2x16xf32>, %[[FW:.*]]: tensor<5x16xf32>, %[[G:.*]]: tensor<2x5xf32>)
func.func @fused_relu(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>, %dy: tensor<2x4x8x8xf32>,
                      %a: tensor<2x16xf32>, %fw: tensor<5x16xf32>, %g: tensor<2x5xf32>)
    -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>) {
  // CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1] ins(%[[X]], %[[W]], %[[B]] :
  // CHECK-NOT: kiln.relu %
  // CHECK: %[[DX:.*]] = kiln.relu_backward %[[DY]], %[[Y]]
  %y = kiln.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  %r = kiln.relu %y : tensor<2x4x8x8xf32>
  %dx = kiln.relu_backward %dy, %r : (tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: %[[L:.*]] = kiln.runtime_call <matmul> site 1 config [1, 2, 5, 16, 0, 1, 0, 0, 0, 1] ins(%[[A]], %[[FW]] :
  %l = kiln.linear %a, %fw : (tensor<2x16xf32>, tensor<5x16xf32>) -> tensor<2x5xf32>
  %lr = kiln.relu %l : tensor<2x5xf32>
  // A result with another use keeps its relu.
  // CHECK: %[[M:.*]] = kiln.runtime_call <matmul> site 2 config [1, 2, 5, 16, 0, 1, 0, 0, 0, 0] ins(%[[A]], %[[FW]] :
  // CHECK: %[[MR:.*]] = kiln.relu %[[M]]
  %m = kiln.linear %a, %fw : (tensor<2x16xf32>, tensor<5x16xf32>) -> tensor<2x5xf32>
  %mr = kiln.relu %m : tensor<2x5xf32>
  // CHECK: return %[[Y]], %[[DX]], %[[L]], %[[MR]], %[[M]]
  return %r, %dx, %lr, %mr, %m : tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xf32>
}

// -----

// The sum of a convolution's output gradient over N, H and W is its bias
// gradient: a second result of the weight gradient's call (bias flag 1),
// placed where the first of the two was. Other sums stay.
// CHECK-LABEL: func.func @bias_gradient(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x8x8xf32>, %[[DY:.*]]: tensor<2x4x8x8xf32>)
func.func @bias_gradient(%x: tensor<2x3x8x8xf32>, %dy: tensor<2x4x8x8xf32>)
    -> (tensor<4xf32>, tensor<4x3x3x3xf32>, tensor<2xf32>, tensor<4x3x3x3xf32>) {
  // CHECK: %[[C:.*]]:2 = kiln.runtime_call <conv2d_backward_weights> site 0 config [2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1] ins(%[[DY]], %[[X]] : tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) outs(%{{.*}}, %{{.*}} : tensor<4x3x3x3xf32>, tensor<4xf32>)
  // CHECK: %[[S:.*]] = kiln.reduce_sum %[[DY]] {axes = array<i64: 1, 2, 3>}
  // CHECK: return %[[C]]#1, %[[C]]#0, %[[S]], %[[C]]#0
  %db = kiln.reduce_sum %dy {axes = array<i64: 3, 0, 2>} : (tensor<2x4x8x8xf32>) -> tensor<4xf32>
  %other = kiln.reduce_sum %dy {axes = array<i64: 1, 2, 3>} : (tensor<2x4x8x8xf32>) -> tensor<2xf32>
  %dw = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %db, %dw, %other, %dw : tensor<4xf32>, tensor<4x3x3x3xf32>, tensor<2xf32>, tensor<4x3x3x3xf32>
}

// -----

// Batch normalization in training: one forward site returns y (here with
// the relu that is y's only use: fuse_relu, and a workspace of N*C*S
// bytes), the batch's mean and biased variance, from which kiln ops update
// the running statistics; the backward site reuses them and the workspace,
// and masks the gradient itself, absorbing the relu's gradient.
// Config [N C S has_affine training fuse_relu epsilon ranks].
// CHECK-LABEL: func.func @batch_norm_training(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x4x5xf32>, %[[RM:[^:]*]]: tensor<3xf32>, %[[RV:[^:]*]]: tensor<3xf32>, %[[N:[^:]*]]: tensor<i64>, %[[W:[^:]*]]: tensor<3xf32>, %[[G:[^:]*]]: tensor<2x3x4x5xf32>)
func.func @batch_norm_training(%x: tensor<2x3x4x5xf32>, %rm: tensor<3xf32>, %rv: tensor<3xf32>, %n: tensor<i64>, %w: tensor<3xf32>, %g: tensor<2x3x4x5xf32>)
    -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>) {
  // CHECK: %[[ZERO:.*]] = kiln.constant dense<0.000000e+00> : tensor<3xf32>
  // CHECK: %[[F:.*]]:4 = kiln.runtime_call <batch_norm_forward> site 0 config [2, 3, 20, 1, 1, 1, 4532020583610935537, 1]
  // CHECK-SAME: ins(%[[X]], %[[W]], %[[ZERO]] :
  // CHECK-SAME: -> tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<120xi8>
  // CHECK: %[[COUNT:.*]] = arith.addi %[[N]]
  // CHECK: kiln.mul %[[F]]#1
  // CHECK: kiln.mul %[[F]]#2
  %y, %mean, %var, %count = kiln.batch_norm %x, %rm, %rv, %n, %w
      : (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<3xf32>)
      -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  %r = kiln.relu %y : tensor<2x3x4x5xf32>
  %m = kiln.relu_backward %g, %r : (tensor<2x3x4x5xf32>, tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>
  // CHECK-NOT: kiln.relu_backward
  // CHECK: %[[B:.*]]:3 = kiln.runtime_call <batch_norm_backward> site 1 config [2, 3, 20, 1, 1, 4532020583610935537, 1]
  // CHECK-SAME: ins(%[[X]], %[[G]], %[[W]], %[[F]]#1, %[[F]]#2, %[[F]]#3 :
  %dx, %dw, %db = kiln.batch_norm_backward %m, %x, %w
      : (tensor<2x3x4x5xf32>, tensor<2x3x4x5xf32>, tensor<3xf32>)
      -> (tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>)
  // CHECK-NOT: kiln.batch_norm
  // CHECK-NOT: kiln.relu
  // CHECK: return %[[F]]#0, %{{.*}}, %{{.*}}, %[[COUNT]], %[[B]]#0, %[[B]]#1, %[[B]]#2
  return %r, %mean, %var, %count, %dx, %dw, %db
      : tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<2x3x4x5xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// In evaluation the site normalizes with the running statistics, which pass
// through unchanged; [N, C] is S = 1. A backward op without a training
// forward of its input gets a forward site of its own for the statistics.
// CHECK-LABEL: func.func @batch_norm_evaluation(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x3xf32>, %[[RM:[^:]*]]: tensor<3xf32>, %[[RV:[^:]*]]: tensor<3xf32>, %[[N:[^:]*]]: tensor<i64>, %[[G:[^:]*]]: tensor<4x3xf32>)
func.func @batch_norm_evaluation(%x: tensor<4x3xf32>, %rm: tensor<3xf32>, %rv: tensor<3xf32>, %n: tensor<i64>, %g: tensor<4x3xf32>)
    -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<4x3xf32>) {
  // CHECK: %[[Y:.*]] = kiln.runtime_call <batch_norm_forward> site 0 config [4, 3, 1, 0, 0, 0, 4532020583610935537, 1]
  // CHECK-SAME: ins(%[[X]], %[[RM]], %[[RV]] :
  %y, %mean, %var, %count = kiln.batch_norm %x, %rm, %rv, %n {training = false}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  // CHECK: %[[S:.*]]:3 = kiln.runtime_call <batch_norm_forward> site 1 config [4, 3, 1, 0, 1, 0, 4532020583610935537, 1]
  // CHECK-SAME: ins(%[[X]] :
  // CHECK: %[[DX:.*]] = kiln.runtime_call <batch_norm_backward> site 2 config [4, 3, 1, 0, 0, 4532020583610935537, 1]
  // CHECK-SAME: ins(%[[X]], %[[G]], %[[S]]#1, %[[S]]#2 :
  %dx = kiln.batch_norm_backward %g, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  // CHECK: return %[[Y]], %[[RM]], %[[RV]], %[[N]], %[[DX]]
  return %y, %mean, %var, %count, %dx : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<4x3xf32>
}

// -----

// Synchronized over 2 ranks (sync_batch_norm), both sites say so in their
// config, and the running variance's unbiased factor counts every rank's
// elements: momentum * 8 / 7 = 0.1142857, not 0.1 * 4 / 3.
// CHECK-LABEL: func.func @batch_norm_synchronized(
func.func @batch_norm_synchronized(%x: tensor<4x3xf32>, %rm: tensor<3xf32>, %rv: tensor<3xf32>, %n: tensor<i64>, %g: tensor<4x3xf32>)
    -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<4x3xf32>) {
  // CHECK: %[[F:.*]]:3 = kiln.runtime_call <batch_norm_forward> site 0 config [4, 3, 1, 0, 1, 0, 4532020583610935537, 2]
  // CHECK: %[[UNBIASED:.*]] = kiln.constant dense<0.114285715> : tensor<f32>
  // CHECK: kiln.mul %[[F]]#2, %[[UNBIASED]]
  %y, %mean, %var, %count = kiln.batch_norm %x, %rm, %rv, %n {ranks = 2}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  // CHECK: kiln.runtime_call <batch_norm_backward> site 1 config [4, 3, 1, 0, 0, 4532020583610935537, 2]
  // CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[F]]#1, %[[F]]#2 :
  %dx = kiln.batch_norm_backward %g, %x {ranks = 2} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y, %mean, %var, %count, %dx : tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>, tensor<4x3xf32>
}

// -----

// A bucket of gradients averaged over the ranks, as two sites: the start
// (config [K E1 ... EK]) where the all-reduce was, the bucket's tensors in
// and new ones out, which it does not write; the wait (config [K E1 ... EK,
// the start's site]) right before the first use of a mean, which fills them
// in place. What comes between runs while the bucket travels.
// CHECK-LABEL: func.func @all_reduce(
// CHECK-SAME: %[[A:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[EA:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK: %[[EB:.*]] = tensor.empty() : tensor<3xf32>
// CHECK: %[[S:.*]]:2 = kiln.runtime_call <all_reduce_start> site 0 config [2, 12, 3]
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<4x3xf32>, tensor<3xf32>) outs(%[[EA]], %[[EB]] : tensor<4x3xf32>, tensor<3xf32>)
// CHECK: %[[X:.*]] = kiln.exp %[[A]]
// CHECK: %[[W:.*]]:2 = kiln.runtime_call <all_reduce_wait> site 1 config [2, 12, 3, 0]
// CHECK-SAME: outs(%[[S]]#0, %[[S]]#1 : tensor<4x3xf32>, tensor<3xf32>)
// CHECK: kiln.add %[[W]]#0, %[[X]]
// CHECK: return %{{.*}}, %[[W]]#1
func.func @all_reduce(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %r:2 = kiln.all_reduce %a, %b {bucket = 0} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  %x = kiln.exp %a : tensor<4x3xf32>
  %s = kiln.add %r#0, %x : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %s, %r#1 : tensor<4x3xf32>, tensor<3xf32>
}
