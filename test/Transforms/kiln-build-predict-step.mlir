// kiln-build-predict-step builds @predict_step, the model's forward without
// its loss and metric, from the model function.
// RUN: kiln-opt %s -kiln-build-predict-step -split-input-file | FileCheck %s
// RUN: kiln-opt %s -kiln-build-predict-step=erase-model -split-input-file | FileCheck %s --check-prefix=ERASED

// Dropout is off and the step counter gone; the labels, which only the loss
// and the metric read, are no argument; the model's output keeps its name.
// CHECK-LABEL: func.func @m(
// CHECK-LABEL: func.func @predict_step(
// CHECK-SAME: %[[W:.*]]: tensor<3x4xf32> {kiln.param = "fc.weight"}, %[[B:.*]]: tensor<3xf32> {kiln.param = "fc.bias"}, %[[X:.*]]: tensor<2x4xf32> {kiln.input = "x"})
// CHECK-SAME: -> (tensor<2x3xf32> {kiln.output = "logits"})
// CHECK-NEXT: %[[L:.*]] = kiln.linear %[[X]], %[[W]], %[[B]]
// CHECK-NEXT: return %[[L]] : tensor<2x3xf32>
// ERASED-NOT: func.func @m(
// ERASED: func.func @predict_step(
module {
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

// -----

// A model without a train section (an inference library's) returns its
// outputs alone; every output is kept, in order, and every parameter stays
// an argument even when the outputs do not read it.
// CHECK-LABEL: func.func @predict_step(
// CHECK-SAME: %{{.*}}: tensor<4xf32> {kiln.param = "w"}, %{{.*}}: tensor<4xf32> {kiln.param = "unused"}, %[[T:.*]]: tensor<2x4xi64> {kiln.input = "tokens"})
// CHECK-SAME: -> (tensor<2x4x4xf32> {kiln.output = "scores"}, tensor<2x4xi64> {kiln.output = "ids"})
module {
  func.func @lm(%w: tensor<4xf32> {kiln.param = "w"}, %u: tensor<4xf32> {kiln.param = "unused"},
                %t: tensor<2x4xi64> {kiln.input = "tokens"})
      -> (tensor<2x4x4xf32> {kiln.output = "scores"}, tensor<2x4xi64> {kiln.output = "ids"}) {
    %h = kiln.one_hot %t {num_classes = 4 : i64} : (tensor<2x4xi64>) -> tensor<2x4x4xf32>
    %s = kiln.mul %h, %w : (tensor<2x4x4xf32>, tensor<4xf32>) -> tensor<2x4x4xf32>
    return %s, %t : tensor<2x4x4xf32>, tensor<2x4xi64>
  }
}

// -----

// Attention with dropout predicts without it: the same attention, with no
// step counter, no dropout and no seed.
// CHECK-LABEL: func.func @predict_step(
// CHECK-SAME: %[[Q:.*]]: tensor<2x3x4xf32> {kiln.input = "q"})
// CHECK-NEXT: %[[A:.*]] = kiln.attention %[[Q]], %[[Q]], %[[Q]] {causal = true} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
// CHECK-NEXT: return %[[A]]
module {
  func.func @a(%q: tensor<2x3x4xf32> {kiln.input = "q"}, %step: tensor<i64> {kiln.step})
      -> (tensor<2x3x4xf32> {kiln.output = "out"}) {
    %a = kiln.attention %q, %q, %q, %step {causal = true, dropout = 0.1 : f64, seed = 4 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<i64>) -> tensor<2x3x4xf32>
    return %a : tensor<2x3x4xf32>
  }
}
