// RUN: kiln-opt --kiln-lower-heavy-to-linalg --canonicalize --cse %s | FileCheck %s

// Every indexing map is printed at the top of the module.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[WT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d1, d5, d6)>
// CHECK-DAG: #[[DY:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d0, d5, d6)>
// CHECK-DAG: #[[IDS:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[GRAD:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[TABLE:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>

// A batched product reads broadcast batches and transposed operands through
// its indexing maps: (batch, m, n, k).
// CHECK-LABEL: func.func @matmul
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<2x8x4xf32>, tensor<3x8xf32>) outs(%[[ZERO]] : tensor<2x4x3xf32>)
// CHECK: %[[P:.*]] = arith.mulf %in, %in_0
// CHECK: arith.addf %out, %[[P]]
func.func @matmul(%a: tensor<2x8x4xf32>, %b: tensor<3x8xf32>) -> tensor<2x4x3xf32> {
  %0 = kiln.matmul %a, %b {transpose_lhs = true, transpose_rhs = true} : (tensor<2x8x4xf32>, tensor<3x8xf32>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// A product whose only use adds a bias starts from the broadcast bias.
// CHECK-LABEL: func.func @linear_bias
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>) outs(%{{.*}} : tensor<6x4xf32>)
// CHECK: %[[PRODUCT:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<6x5xf32>, tensor<4x5xf32>) outs(%[[BIAS]] : tensor<6x4xf32>)
// CHECK: return %[[PRODUCT]]
func.func @linear_bias(%a: tensor<6x5xf32>, %w: tensor<4x5xf32>, %b: tensor<4xf32>) -> tensor<6x4xf32> {
  %0 = kiln.matmul %a, %w {transpose_rhs = true} : (tensor<6x5xf32>, tensor<4x5xf32>) -> tensor<6x4xf32>
  %1 = kiln.add %b, %0 : (tensor<4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  return %1 : tensor<6x4xf32>
}

// A convolution is one generic over (n, o, oh, ow, c, kh, kw) that starts
// from the bias and reads the input with a bounds check for the padding.
// CHECK-LABEL: func.func @conv
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%arg1 : tensor<4x3x3x3xf32>) outs(%[[INIT]] : tensor<2x4x8x8xf32>)
// CHECK: %[[X:.*]] = tensor.extract %arg0
// CHECK: %[[TAP:.*]] = arith.select %{{.*}}, %[[X]], %cst
// CHECK: arith.mulf %[[TAP]], %in
func.func @conv(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x8x8xf32> {
  %0 = kiln.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32>
  return %0 : tensor<2x4x8x8xf32>
}

// The input's gradient: (n, c, h, w, o, kh, kw); with stride 2 only the
// positions that divide exactly receive a gradient.
// CHECK-LABEL: func.func @conv_input
// CHECK: linalg.generic {indexing_maps = [#[[WT]], #[[Y]]]
// CHECK: arith.remsi %{{.*}}, %c2
// CHECK: arith.divsi %{{.*}}, %c2
// CHECK: tensor.extract %arg0
func.func @conv_input(%dy: tensor<2x4x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32> {
  %0 = kiln.conv2d_backward_input %dy, %w {input_shape = array<i64: 2, 3, 8, 8>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<2x4x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<2x3x8x8xf32>
  return %0 : tensor<2x3x8x8xf32>
}

// The weight's gradient reduces over (n, oh, ow): (o, c, kh, kw, n, oh, ow).
// CHECK-LABEL: func.func @conv_weight
// CHECK: linalg.generic {indexing_maps = [#[[DY]], #[[Y]]]
// CHECK: tensor.extract %arg1
func.func @conv_weight(%dy: tensor<2x4x8x8xf32>, %x: tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32> {
  %0 = kiln.conv2d_backward_weight %dy, %x {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>} : (tensor<2x4x8x8xf32>, tensor<2x3x8x8xf32>) -> tensor<4x3x3x3xf32>
  return %0 : tensor<4x3x3x3xf32>
}

// Pooling walks each window in the body of an elementwise generic.
// CHECK-LABEL: func.func @max_pool
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<2x3x4x4xf32>)
// CHECK-COUNT-4: tensor.extract %arg0
// CHECK-NOT: tensor.extract
// CHECK: linalg.yield
func.func @max_pool(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32> {
  %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// Without count_include_pad, the divisor counts the taps inside the input.
// CHECK-LABEL: func.func @avg_pool
// CHECK-COUNT-9: tensor.extract %arg0
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @avg_pool(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32> {
  %0 = kiln.avg_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<1x1x5x5xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// Each input position gets the gradient of every window whose first
// maximum it is: 4 covering windows of 4 taps each for a 2x2 kernel.
// CHECK-LABEL: func.func @max_pool_backward
// CHECK-COUNT-16: tensor.extract %arg1
// CHECK: tensor.extract %arg0
func.func @max_pool_backward(%dy: tensor<1x2x2x2xf32>, %x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %0 = kiln.max_pool2d_backward %dy, %x {kernel = array<i64: 2, 2>} : (tensor<1x2x2x2xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %0 : tensor<1x2x4x4xf32>
}

// The embedding's gradient reduces over positions for each table element,
// instead of a sequential scatter.
// CHECK-LABEL: func.func @embedding_backward
// CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]]
// CHECK: linalg.generic {indexing_maps = [#[[IDS]], #[[GRAD]], #[[TABLE]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK: %[[ROW:.*]] = linalg.index 0
// CHECK: arith.cmpi eq
// CHECK-NOT: scf.for
func.func @embedding_backward(%g: tensor<2x5x6xf32>, %ids: tensor<2x5xi64>) -> tensor<7x6xf32> {
  %0 = kiln.embedding_backward %g, %ids {num = 7 : i64} : (tensor<2x5x6xf32>, tensor<2x5xi64>) -> tensor<7x6xf32>
  return %0 : tensor<7x6xf32>
}
