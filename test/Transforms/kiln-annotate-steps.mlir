// kiln-annotate-steps records each function's FLOPs and the exclusive upper
// bound of each i64 input that its uses accept, and the label outside it that
// they accept too (cross_entropy's ignore_index).
// RUN: kiln-opt %s -kiln-annotate-steps -split-input-file | FileCheck %s

// FLOPs: the linear layer 2 * 6 * 4 + 6 (bias), relu and the loss one per
// element they read (8 and 6); the arith op is not a kiln op and the count
// of equal labels reads no floats. The labels index 3 classes, or are -100,
// the label that the loss ignores by default.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME: %{{.*}}: tensor<2x4xf32> {kiln.input = "x"},
// CHECK-SAME: %{{.*}}: tensor<2xi64> {kiln.ignore_index = -100 : i64, kiln.input = "label", kiln.range = 3 : i64}
// CHECK-SAME: attributes {kiln.flops = 68 : i64}
func.func @mlp(%x: tensor<2x4xf32> {kiln.input = "x"}, %label: tensor<2xi64> {kiln.input = "label"},
               %w: tensor<3x4xf32> {kiln.param = "fc.weight"}, %b: tensor<3xf32> {kiln.param = "fc.bias"})
    -> (tensor<f32>, tensor<i64>, tensor<2x4xf32>) {
  %r = kiln.relu %x : tensor<2x4xf32>
  %extra = arith.addf %r, %r : tensor<2x4xf32>
  %logits = kiln.linear %r, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %loss = kiln.cross_entropy %logits, %label : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %c = kiln.count_equal %label, %label : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
  return %loss, %c, %extra : tensor<f32>, tensor<i64>, tensor<2x4xf32>
}

// -----

// Mixed precision: the bytes of the values rounded to bfloat16, two per
// element (4x3 and 2 elements; flops: one per element rounded, then 2 * 3 * 4).
// CHECK-LABEL: func.func @rounded(
// CHECK-SAME: attributes {kiln.bf16_bytes = 28 : i64, kiln.flops = 38 : i64}
func.func @rounded(%x: tensor<1x4xf32>, %w: tensor<3x4xf32>, %b: tensor<2xf32>)
    -> (tensor<1x3xf32>, tensor<2xf32>) {
  %rw = kiln.reduce_precision %w {precision = bf16} : tensor<3x4xf32>
  %y = kiln.linear %x, %rw : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<1x3xf32>
  %rb = kiln.reduce_precision %b {precision = bf16} : tensor<2xf32>
  return %y, %rb : tensor<1x3xf32>, tensor<2xf32>
}

// -----

// The tightest of several bounds wins: an embedding of 10 rows and a one-hot
// encoding of 6 classes accept ids below 6.
// CHECK-LABEL: func.func @tightest(
// CHECK-SAME: %{{.*}}: tensor<2x3xi64> {kiln.input = "ids", kiln.range = 6 : i64}
func.func @tightest(%ids: tensor<2x3xi64> {kiln.input = "ids"}, %table: tensor<10x8xf32>)
    -> (tensor<2x3x8xf32>, tensor<2x3x6xf32>) {
  %e = kiln.embedding %ids, %table : (tensor<2x3xi64>, tensor<10x8xf32>) -> tensor<2x3x8xf32>
  %o = kiln.one_hot %ids {num_classes = 6 : i64} : (tensor<2x3xi64>) -> tensor<2x3x6xf32>
  return %e, %o : tensor<2x3x8xf32>, tensor<2x3x6xf32>
}

// -----

// Bounds are found through reshapes, flattening and slices, however nested.
// CHECK-LABEL: func.func @through_views(
// CHECK-SAME: %{{.*}}: tensor<2x3xi64> {kiln.input = "a", kiln.range = 5 : i64},
// CHECK-SAME: %{{.*}}: tensor<2x3xi64> {kiln.input = "b", kiln.range = 4 : i64},
// CHECK-SAME: %{{.*}}: tensor<2x3xi64> {kiln.ignore_index = -100 : i64, kiln.input = "c", kiln.range = 7 : i64}
func.func @through_views(%a: tensor<2x3xi64> {kiln.input = "a"}, %b: tensor<2x3xi64> {kiln.input = "b"},
                         %c: tensor<2x3xi64> {kiln.input = "c"}, %table: tensor<5x8xf32>)
    -> (tensor<6x8xf32>, tensor<6x4xf32>, tensor<2x7xf32>) {
  %ra = kiln.reshape %a {shape = array<i64: 6>} : (tensor<2x3xi64>) -> tensor<6xi64>
  %ea = kiln.embedding %ra, %table : (tensor<6xi64>, tensor<5x8xf32>) -> tensor<6x8xf32>
  %fb = kiln.flatten %b {start_dim = 0 : i64} : (tensor<2x3xi64>) -> tensor<6xi64>
  %ob = kiln.one_hot %fb {num_classes = 4 : i64} : (tensor<6xi64>) -> tensor<6x4xf32>
  %sc = kiln.slice %c {offsets = array<i64: 0, 1>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x3xi64>) -> tensor<2x2xi64>
  %rc = kiln.reshape %sc {shape = array<i64: 2, 2>} : (tensor<2x2xi64>) -> tensor<2x2xi64>
  %logits = kiln.constant dense<0.0> : tensor<2x7xf32>
  %col = kiln.slice %rc {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 1>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<2x1xi64>
  %labels = kiln.reshape %col {shape = array<i64: 2>} : (tensor<2x1xi64>) -> tensor<2xi64>
  %loss = kiln.cross_entropy %logits, %labels : (tensor<2x7xf32>, tensor<2xi64>) -> tensor<f32>
  return %ea, %ob, %logits : tensor<6x8xf32>, tensor<6x4xf32>, tensor<2x7xf32>
}

// -----

// An ignored label is accepted where every use accepts it: not where the
// labels are also ids of an embedding (a), nor where it is a class anyway
// (b). Of two losses, the smaller range and the ignored label that both
// accept (c: [0, 3) and 5 of [0, 3) with 5 and [0, 6) with -100).
// CHECK-LABEL: func.func @ignored(
// CHECK-SAME: %{{.*}}: tensor<2xi64> {kiln.input = "a", kiln.range = 3 : i64},
// CHECK-SAME: %{{.*}}: tensor<2xi64> {kiln.input = "b", kiln.range = 3 : i64},
// CHECK-SAME: %{{.*}}: tensor<2xi64> {kiln.ignore_index = 5 : i64, kiln.input = "c", kiln.range = 3 : i64}
func.func @ignored(%a: tensor<2xi64> {kiln.input = "a"}, %b: tensor<2xi64> {kiln.input = "b"},
                   %c: tensor<2xi64> {kiln.input = "c"}, %x3: tensor<2x3xf32>, %x6: tensor<2x6xf32>,
                   %table: tensor<4x8xf32>)
    -> (tensor<f32>, tensor<2x8xf32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  %la = kiln.cross_entropy %x3, %a : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %ea = kiln.embedding %a, %table : (tensor<2xi64>, tensor<4x8xf32>) -> tensor<2x8xf32>
  %lb = kiln.cross_entropy %x3, %b {ignore_index = 1 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %lc = kiln.cross_entropy %x3, %c {ignore_index = 5 : i64} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %lc6 = kiln.cross_entropy %x6, %c : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<f32>
  return %la, %ea, %lb, %lc, %lc6 : tensor<f32>, tensor<2x8xf32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// No range where no use bounds the values, where the argument is not an
// input, where it is not i64, or where the bound is a dynamic size.
// CHECK-LABEL: func.func @unbounded(
// CHECK-NOT: kiln.range
// CHECK-SAME: attributes {kiln.flops = 0 : i64}
func.func @unbounded(%counted: tensor<2xi64> {kiln.input = "counted"}, %ids: tensor<2xi64>,
                     %x: tensor<2xf32> {kiln.input = "x"}, %labels: tensor<2xi64> {kiln.input = "labels"},
                     %logits: tensor<2x?xf32>)
    -> (tensor<i64>, tensor<2x4xf32>, tensor<f32>) {
  %c = kiln.count_equal %counted, %counted : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
  %o = kiln.one_hot %ids {num_classes = 4 : i64} : (tensor<2xi64>) -> tensor<2x4xf32>
  %loss = kiln.cross_entropy %logits, %labels : (tensor<2x?xf32>, tensor<2xi64>) -> tensor<f32>
  return %c, %o, %loss : tensor<i64>, tensor<2x4xf32>, tensor<f32>
}

// -----

// Every function of the module is annotated, a declaration too.
// CHECK: func.func private @declared(tensor<2xi64> {kiln.input = "y"}) attributes {kiln.flops = 0 : i64}
// CHECK-LABEL: func.func @second(
// CHECK-SAME: attributes {kiln.flops = 4 : i64}
func.func private @declared(tensor<2xi64> {kiln.input = "y"})
func.func @second(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Heavy ops count their own FLOPs (FlopCountOpInterface): the convolution
// 2 * 48 outputs * 2 channels * 9 = 1728, the pooling 12 outputs * 4 = 48,
// the product 2 * 10 * 4 = 80, the SGD update 6 * 54 = 324.
// CHECK-LABEL: func.func @heavy(
// CHECK-SAME: attributes {kiln.flops = 2180 : i64}
func.func @heavy(%x: tensor<1x2x4x4xf32>, %w: tensor<3x2x3x3xf32>, %a: tensor<2x4xf32>, %b: tensor<4x5xf32>,
                 %lr: tensor<f32>, %step: tensor<i64>)
    -> (tensor<1x3x2x2xf32>, tensor<2x5xf32>, tensor<3x2x3x3xf32>) {
  %y = kiln.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  %p = kiln.max_pool2d %y {kernel = array<i64: 2, 2>} : (tensor<1x3x4x4xf32>) -> tensor<1x3x2x2xf32>
  %m = kiln.matmul %a, %b : (tensor<2x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  %w1 = kiln.sgd %w, %w, %lr, %step : (tensor<3x2x3x3xf32>, tensor<3x2x3x3xf32>, tensor<f32>, tensor<i64>) -> tensor<3x2x3x3xf32>
  return %p, %m, %w1 : tensor<1x3x2x2xf32>, tensor<2x5xf32>, tensor<3x2x3x3xf32>
}
