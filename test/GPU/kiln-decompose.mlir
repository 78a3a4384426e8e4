// RUN: kiln-opt --kiln-decompose %s | FileCheck %s

// Softmax subtracts the maximum, then normalizes the exponentials.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[MAX:.*]] = kiln.reduce_max %arg0 {axes = array<i64: 1>, keep_dims = true}
// CHECK: %[[SHIFTED:.*]] = kiln.sub %arg0, %[[MAX]]
// CHECK: %[[EXP:.*]] = kiln.exp %[[SHIFTED]]
// CHECK: %[[SUM:.*]] = kiln.reduce_sum %[[EXP]] {axes = array<i64: 1>, keep_dims = true}
// CHECK: kiln.div %[[EXP]], %[[SUM]]
// CHECK-NOT: kiln.softmax
func.func @softmax(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = kiln.softmax %x {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// A linear layer is one product of all rows, then the bias.
// CHECK-LABEL: func.func @linear
// CHECK: %[[ROWS:.*]] = kiln.reshape %arg0 {shape = array<i64: 6, 5>}
// CHECK: %[[PRODUCT:.*]] = kiln.matmul %[[ROWS]], %arg1 {transpose_rhs = true} : (tensor<6x5xf32>, tensor<4x5xf32>) -> tensor<6x4xf32>
// CHECK: %[[BIASED:.*]] = kiln.add %[[PRODUCT]], %arg2
// CHECK: kiln.reshape %[[BIASED]] {shape = array<i64: 2, 3, 4>}
func.func @linear(%x: tensor<2x3x5xf32>, %w: tensor<4x5xf32>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.linear %x, %w, %b : (tensor<2x3x5xf32>, tensor<4x5xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// Layer normalization: mean and biased variance over the trailing axes.
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[MEAN:.*]] = kiln.reduce_mean %arg0 {axes = array<i64: 1, 2>, keep_dims = true}
// CHECK: %[[CENTERED:.*]] = kiln.sub %arg0, %[[MEAN]]
// CHECK: %[[SQUARES:.*]] = kiln.mul %[[CENTERED]], %[[CENTERED]]
// CHECK: kiln.reduce_mean %[[SQUARES]] {axes = array<i64: 1, 2>, keep_dims = true}
// CHECK: kiln.sqrt
// CHECK-NOT: kiln.layer_norm
func.func @layer_norm(%x: tensor<2x3x4xf32>, %w: tensor<3x4xf32>, %b: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.layer_norm %x, %w, %b {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// Causal attention adds a mask of -infinity above the diagonal.
// CHECK-LABEL: func.func @attention
// CHECK: %[[SCORES:.*]] = kiln.matmul %arg0, %arg1 {transpose_rhs = true}
// CHECK: %[[SCALED:.*]] = kiln.mul %[[SCORES]], %{{.*}}
// CHECK: %[[MASK:.*]] = kiln.constant dense<{{\[\[}}0.000000e+00, 0xFF800000, 0xFF800000], [0.000000e+00, 0.000000e+00, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<3x3xf32>
// CHECK: kiln.add %[[SCALED]], %[[MASK]]
// CHECK: %[[WEIGHTS:.*]] = kiln.div
// CHECK: kiln.matmul %[[WEIGHTS]], %arg2 :
func.func @attention(%q: tensor<2x3x4xf32>, %k: tensor<2x3x4xf32>, %v: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.attention %q, %k, %v {causal = true} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// Dropout in attention is kiln.dropout of the weights, with the op's seed
// and counter; its gradient drops the value gradient's weights and the
// weights' gradient with the same mask, before the softmax gradient.
// CHECK-LABEL: func.func @attention_dropout
// CHECK: %[[WEIGHTS:.*]] = kiln.div
// CHECK: %[[DROPPED:.*]] = kiln.dropout %[[WEIGHTS]], %arg1 {p = 2.500000e-01 : f64, seed = 5 : i64}
// CHECK: kiln.matmul %[[DROPPED]], %arg0 :
// CHECK: %[[P:.*]] = kiln.div
// CHECK: %[[DP:.*]] = kiln.dropout %[[P]], %arg1 {p = 2.500000e-01 : f64, seed = 5 : i64}
// CHECK: kiln.matmul %[[DP]], %arg2 {transpose_lhs = true}
// CHECK: %[[GV:.*]] = kiln.matmul %arg2, %arg0 {transpose_rhs = true}
// CHECK: %[[DG:.*]] = kiln.dropout %[[GV]], %arg1 {p = 2.500000e-01 : f64, seed = 5 : i64}
// CHECK: kiln.mul %[[DG]], %[[P]]
func.func @attention_dropout(%q: tensor<2x3x4xf32>, %step: tensor<i64>, %g: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %0 = kiln.attention %q, %q, %q, %step {dropout = 0.25 : f64, seed = 5 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<i64>) -> tensor<2x3x4xf32>
  %1:3 = kiln.attention_backward %g, %q, %q, %q, %step {dropout = 0.25 : f64, seed = 5 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<i64>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>)
  return %0, %1#0 : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// The LSTM unrolls over its 3 steps: one product of all inputs, then one
// product with the hidden state per step after the first.
// CHECK-LABEL: func.func @lstm
// CHECK: kiln.matmul %{{.*}}, %arg1 {transpose_rhs = true} : (tensor<6x4xf32>, tensor<20x4xf32>) -> tensor<6x20xf32>
// CHECK-COUNT-2: kiln.matmul %{{.*}}, %arg2 {transpose_rhs = true} : (tensor<2x5xf32>, tensor<20x5xf32>) -> tensor<2x20xf32>
// CHECK: kiln.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x1x5xf32>, tensor<2x1x5xf32>, tensor<2x1x5xf32>) -> tensor<2x3x5xf32>
// CHECK-NOT: kiln.lstm
func.func @lstm(%x: tensor<2x3x4xf32>, %wi: tensor<20x4xf32>, %wh: tensor<20x5xf32>, %b: tensor<20xf32>) -> (tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>) {
  %out, %h, %c = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 5 : i64, num_layers = 1 : i64} : (tensor<2x3x4xf32>, tensor<20x4xf32>, tensor<20x5xf32>, tensor<20xf32>, tensor<20xf32>) -> (tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>)
  return %out, %h, %c : tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>
}

// The gradient recomputes the forward with the same ops, so that CSE can
// merge them with the forward's; its weight gradients are products over all
// steps at once.
// CHECK-LABEL: func.func @lstm_backward
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<6x20xf32>, tensor<6x4xf32>) -> tensor<20x4xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<6x20xf32>, tensor<6x5xf32>) -> tensor<20x5xf32>
// CHECK: kiln.reduce_sum %{{.*}} {axes = array<i64: 0>} : (tensor<6x20xf32>) -> tensor<20xf32>
// CHECK-NOT: kiln.lstm_backward
func.func @lstm_backward(%x: tensor<2x3x4xf32>, %out: tensor<2x3x5xf32>, %h: tensor<1x2x5xf32>, %dout: tensor<2x3x5xf32>, %wi: tensor<20x4xf32>, %wh: tensor<20x5xf32>, %b: tensor<20xf32>) -> (tensor<2x3x4xf32>, tensor<20x4xf32>, tensor<20x5xf32>, tensor<20xf32>, tensor<20xf32>) {
  %r:5 = kiln.lstm_backward %x, %out, %h, %h, %dout, %h, %h, %wi, %wh, %b, %b {hidden_size = 5 : i64, num_layers = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>, tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<1x2x5xf32>, tensor<20x4xf32>, tensor<20x5xf32>, tensor<20xf32>, tensor<20xf32>) -> (tensor<2x3x4xf32>, tensor<20x4xf32>, tensor<20x5xf32>, tensor<20xf32>, tensor<20xf32>)
  return %r#0, %r#1, %r#2, %r#3, %r#4 : tensor<2x3x4xf32>, tensor<20x4xf32>, tensor<20x5xf32>, tensor<20xf32>, tensor<20xf32>
}

// The GRU unrolls as the LSTM does; W_hh h + b_hh stays apart from the
// input's projection (the reset gate scales its n rows), so the first step,
// from the zero state, uses b_hh alone.
// CHECK-LABEL: func.func @gru
// CHECK: kiln.matmul %{{.*}}, %arg1 {transpose_rhs = true} : (tensor<6x4xf32>, tensor<15x4xf32>) -> tensor<6x15xf32>
// CHECK-COUNT-2: kiln.matmul %{{.*}}, %arg2 {transpose_rhs = true} : (tensor<2x5xf32>, tensor<15x5xf32>) -> tensor<2x15xf32>
// CHECK: kiln.concat %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x1x5xf32>, tensor<2x1x5xf32>, tensor<2x1x5xf32>) -> tensor<2x3x5xf32>
// CHECK-NOT: kiln.gru
func.func @gru(%x: tensor<2x3x4xf32>, %wi: tensor<15x4xf32>, %wh: tensor<15x5xf32>, %bi: tensor<15xf32>, %bh: tensor<15xf32>) -> (tensor<2x3x5xf32>, tensor<1x2x5xf32>) {
  %out, %h = kiln.gru %x, %wi, %wh, %bi, %bh {hidden_size = 5 : i64, num_layers = 1 : i64} : (tensor<2x3x4xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>) -> (tensor<2x3x5xf32>, tensor<1x2x5xf32>)
  return %out, %h : tensor<2x3x5xf32>, tensor<1x2x5xf32>
}

// Its gradient: products over all steps for the weights, and two bias
// gradients, which differ in the n rows.
// CHECK-LABEL: func.func @gru_backward
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<6x15xf32>, tensor<6x4xf32>) -> tensor<15x4xf32>
// CHECK: kiln.matmul %{{.*}}, %{{.*}} {transpose_lhs = true} : (tensor<6x15xf32>, tensor<6x5xf32>) -> tensor<15x5xf32>
// CHECK-COUNT-2: kiln.reduce_sum %{{.*}} {axes = array<i64: 0>} : (tensor<6x15xf32>) -> tensor<15xf32>
// CHECK-NOT: kiln.gru_backward
func.func @gru_backward(%x: tensor<2x3x4xf32>, %out: tensor<2x3x5xf32>, %h: tensor<1x2x5xf32>, %dout: tensor<2x3x5xf32>, %wi: tensor<15x4xf32>, %wh: tensor<15x5xf32>, %bi: tensor<15xf32>, %bh: tensor<15xf32>) -> (tensor<2x3x4xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>) {
  %r:5 = kiln.gru_backward %x, %out, %h, %dout, %h, %wi, %wh, %bi, %bh {hidden_size = 5 : i64, num_layers = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<2x3x5xf32>, tensor<1x2x5xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>) -> (tensor<2x3x4xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>)
  return %r#0, %r#1, %r#2, %r#3, %r#4 : tensor<2x3x4xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>
}

// Only kiln ops are the pass's: linalg's softmax also has a decomposition,
// and stays as it is.
// CHECK-LABEL: func.func @linalg_softmax
// CHECK: linalg.softmax dimension(1)
func.func @linalg_softmax(%x: tensor<4x10xf32>, %init: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = linalg.softmax dimension(1) ins(%x : tensor<4x10xf32>) outs(%init : tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}
