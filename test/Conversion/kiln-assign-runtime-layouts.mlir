// kiln-assign-runtime-layouts ends the config of each convolution and
// pooling call with the mask of its arguments in oneDNN's blocked layout
// (bit i marks args[i], inputs then outputs; kiln_runtime.h).
// RUN: kiln-opt %s -kiln-assign-runtime-layouts -split-input-file | FileCheck %s

// Tensors of a multiple of 8 channels that only go between convolutions
// and poolings, directly or through elementwise ops that all take them, are
// blocked. Function arguments and results stay plain, and so does anything
// that an op needing the plain layout reads, and what flows into such an op.
// CHECK-LABEL: func.func @blocked(
// CHECK-SAME: %[[X:.*]]: tensor<2x16x8x8xf32>, %[[W:.*]]: tensor<32x16x3x3xf32>, %[[B:.*]]: tensor<32xf32>, %[[G:.*]]: tensor<2x32x4x4xf32>)
// y (args[3]) is blocked, x plain.
// CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8] ins(%[[X]], %[[W]], %[[B]] :
// x blocked; p, returned, plain.
// CHECK: %[[P:.*]] = kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1, 1] ins(%[[Y]] :
// dy plain (an argument), x and dx blocked.
// CHECK: %[[D:.*]] = kiln.runtime_call <pool2d_backward> site 2 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1, 6] ins(%[[G]], %[[Y]] :
// A product of two blocked tensors, itself blocked.
// CHECK: %[[M:.*]] = kiln.mul %[[D]], %[[Y]]
// dy blocked, x plain.
// CHECK: %[[DW:.*]]:2 = kiln.runtime_call <conv2d_backward_weights> site 3 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1] ins(%[[M]], %[[X]] :
// The sum, returned, makes its operands plain, and then their producers'
// outputs: the second pooling's dx.
// CHECK: %[[D2:.*]] = kiln.runtime_call <pool2d_backward> site 4 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1, 2] ins(%[[G]], %[[Y]] :
// CHECK: %[[S:.*]] = kiln.add %[[D2]], %[[D2]]
// CHECK: return %[[P]], %[[DW]]#0, %[[DW]]#1, %[[S]]
func.func @blocked(%x: tensor<2x16x8x8xf32>, %w: tensor<32x16x3x3xf32>, %b: tensor<32xf32>, %g: tensor<2x32x4x4xf32>)
    -> (tensor<2x32x4x4xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>, tensor<2x32x8x8xf32>) {
  %e0 = tensor.empty() : tensor<2x32x8x8xf32>
  %y = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]
      ins(%x, %w, %b : tensor<2x16x8x8xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>) outs(%e0 : tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %e1 = tensor.empty() : tensor<2x32x4x4xf32>
  %p = kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1]
      ins(%y : tensor<2x32x8x8xf32>) outs(%e1 : tensor<2x32x4x4xf32>) -> tensor<2x32x4x4xf32>
  %e2 = tensor.empty() : tensor<2x32x8x8xf32>
  %d = kiln.runtime_call <pool2d_backward> site 2 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1]
      ins(%g, %y : tensor<2x32x4x4xf32>, tensor<2x32x8x8xf32>) outs(%e2 : tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %m = kiln.mul %d, %y : (tensor<2x32x8x8xf32>, tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %e3 = tensor.empty() : tensor<32x16x3x3xf32>
  %e4 = tensor.empty() : tensor<32xf32>
  %dw:2 = kiln.runtime_call <conv2d_backward_weights> site 3 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1]
      ins(%m, %x : tensor<2x32x8x8xf32>, tensor<2x16x8x8xf32>) outs(%e3, %e4 : tensor<32x16x3x3xf32>, tensor<32xf32>)
      -> tensor<32x16x3x3xf32>, tensor<32xf32>
  %e5 = tensor.empty() : tensor<2x32x8x8xf32>
  %d2 = kiln.runtime_call <pool2d_backward> site 4 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 1]
      ins(%g, %y : tensor<2x32x4x4xf32>, tensor<2x32x8x8xf32>) outs(%e5 : tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %s = kiln.add %d2, %d2 : (tensor<2x32x8x8xf32>, tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  return %p, %dw#0, %dw#1, %s : tensor<2x32x4x4xf32>, tensor<32x16x3x3xf32>, tensor<32xf32>, tensor<2x32x8x8xf32>
}

// -----

// An elementwise op that broadcasts an operand reads it by another index
// than the result's, so it needs the plain layout, and so do its operands'
// producers. Channels not a multiple of 8 keep a tensor plain too. Other kinds of calls
// get no mask.
// CHECK-LABEL: func.func @plain(
// CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0]
// CHECK: %[[S:.*]] = kiln.add %[[Y]], %{{.*}} : (tensor<2x32x8x8xf32>, tensor<32x1x1xf32>)
// CHECK: kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 0] ins(%[[S]] :
// CHECK: %[[Z:.*]] = kiln.runtime_call <conv2d_forward> site 2 config [2, 16, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0]
// CHECK: kiln.runtime_call <pool2d_forward> site 3 config [2, 12, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 0] ins(%[[Z]] :
// CHECK: kiln.runtime_call <matmul> site 4 config [1, 4, 4, 8, 0, 1, 0, 0, 0, 0] ins(
func.func @plain(%x: tensor<2x16x8x8xf32>, %w: tensor<32x16x3x3xf32>, %c: tensor<32x1x1xf32>,
                 %w12: tensor<12x16x3x3xf32>, %a: tensor<4x8xf32>)
    -> (tensor<2x32x4x4xf32>, tensor<2x12x4x4xf32>, tensor<4x4xf32>) {
  %e0 = tensor.empty() : tensor<2x32x8x8xf32>
  %y = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0]
      ins(%x, %w : tensor<2x16x8x8xf32>, tensor<32x16x3x3xf32>) outs(%e0 : tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %s = kiln.add %y, %c : (tensor<2x32x8x8xf32>, tensor<32x1x1xf32>) -> tensor<2x32x8x8xf32>
  %e1 = tensor.empty() : tensor<2x32x4x4xf32>
  %p = kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0]
      ins(%s : tensor<2x32x8x8xf32>) outs(%e1 : tensor<2x32x4x4xf32>) -> tensor<2x32x4x4xf32>
  %e2 = tensor.empty() : tensor<2x12x8x8xf32>
  %z = kiln.runtime_call <conv2d_forward> site 2 config [2, 16, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0]
      ins(%x, %w12 : tensor<2x16x8x8xf32>, tensor<12x16x3x3xf32>) outs(%e2 : tensor<2x12x8x8xf32>) -> tensor<2x12x8x8xf32>
  %e3 = tensor.empty() : tensor<2x12x4x4xf32>
  %q = kiln.runtime_call <pool2d_forward> site 3 config [2, 12, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0]
      ins(%z : tensor<2x12x8x8xf32>) outs(%e3 : tensor<2x12x4x4xf32>) -> tensor<2x12x4x4xf32>
  %e4 = tensor.empty() : tensor<4x4xf32>
  %mm = kiln.runtime_call <matmul> site 4 config [1, 4, 4, 8, 0, 1, 0, 0, 0, 0]
      ins(%a, %a : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e4 : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %p, %q, %mm : tensor<2x32x4x4xf32>, tensor<2x12x4x4xf32>, tensor<4x4xf32>
}

// -----

// Any op of ElementwiseOpInterface without broadcasts lets blocked tensors
// through: here a gelu between a convolution and a pooling.
// CHECK-LABEL: func.func @through_elementwise(
// y is args[2] (no bias).
// CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 4]
// CHECK: %[[A:.*]] = kiln.gelu %[[Y]]
// CHECK: kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1] ins(%[[A]] :
func.func @through_elementwise(%x: tensor<2x16x8x8xf32>, %w: tensor<32x16x3x3xf32>) -> tensor<2x32x4x4xf32> {
  %e0 = tensor.empty() : tensor<2x32x8x8xf32>
  %y = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0]
      ins(%x, %w : tensor<2x16x8x8xf32>, tensor<32x16x3x3xf32>) outs(%e0 : tensor<2x32x8x8xf32>) -> tensor<2x32x8x8xf32>
  %a = kiln.gelu %y : tensor<2x32x8x8xf32>
  %e1 = tensor.empty() : tensor<2x32x4x4xf32>
  %p = kiln.runtime_call <pool2d_forward> site 1 config [2, 32, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0]
      ins(%a : tensor<2x32x8x8xf32>) outs(%e1 : tensor<2x32x4x4xf32>) -> tensor<2x32x4x4xf32>
  return %p : tensor<2x32x4x4xf32>
}

// -----

// Batch normalization between convolutions: x and y of the forward site,
// x, dy and dx of the backward site are blocked (the backward's x is the
// forward's, so a fused relu's workspace has the layout both expect); the
// per-channel statistics and the workspace are never blocked.
// CHECK-LABEL: func.func @batch_norm(
// CHECK: %[[Y:.*]] = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 4]
// CHECK: %[[N:.*]]:4 = kiln.runtime_call <batch_norm_forward> site 1 config [2, 16, 64, 0, 1, 1, 4532020583610935537, 1, 3] ins(%[[Y]] :
// CHECK: %[[C:.*]] = kiln.runtime_call <conv2d_forward> site 2 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 5] ins(%[[N]]#0,
// CHECK: %[[D:.*]] = kiln.runtime_call <conv2d_backward_data> site 4 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 5] ins(%[[C]],
// CHECK: %[[DX:.*]] = kiln.runtime_call <batch_norm_backward> site 3 config [2, 16, 64, 0, 1, 4532020583610935537, 1, 35] ins(%[[Y]], %[[D]], %[[N]]#1, %[[N]]#2, %[[N]]#3 :
// CHECK: kiln.runtime_call <conv2d_backward_data> site 5 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1] ins(%[[DX]],
func.func @batch_norm(%x: tensor<2x16x8x8xf32>, %w: tensor<16x16x3x3xf32>)
    -> (tensor<16xf32>, tensor<2x16x8x8xf32>) {
  %e0 = tensor.empty() : tensor<2x16x8x8xf32>
  %y = kiln.runtime_call <conv2d_forward> site 0 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1]
      ins(%x, %w : tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) outs(%e0 : tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %e1 = tensor.empty() : tensor<2x16x8x8xf32>
  %e2 = tensor.empty() : tensor<16xf32>
  %e3 = tensor.empty() : tensor<16xf32>
  %e4 = tensor.empty() : tensor<2048xi8>
  %n:4 = kiln.runtime_call <batch_norm_forward> site 1 config [2, 16, 64, 0, 1, 1, 4532020583610935537, 1]
      ins(%y : tensor<2x16x8x8xf32>) outs(%e1, %e2, %e3, %e4 : tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2048xi8>)
      -> tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2048xi8>
  %e5 = tensor.empty() : tensor<2x16x8x8xf32>
  %c = kiln.runtime_call <conv2d_forward> site 2 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0]
      ins(%n#0, %w : tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) outs(%e5 : tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %e6 = tensor.empty() : tensor<2x16x8x8xf32>
  %d = kiln.runtime_call <conv2d_backward_data> site 4 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1]
      ins(%c, %w : tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) outs(%e6 : tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %e7 = tensor.empty() : tensor<2x16x8x8xf32>
  %dx = kiln.runtime_call <batch_norm_backward> site 3 config [2, 16, 64, 0, 1, 4532020583610935537, 1]
      ins(%y, %d, %n#1, %n#2, %n#3 : tensor<2x16x8x8xf32>, tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<2048xi8>)
      outs(%e7 : tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  %e8 = tensor.empty() : tensor<2x16x8x8xf32>
  %dd = kiln.runtime_call <conv2d_backward_data> site 5 config [2, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1]
      ins(%dx, %w : tensor<2x16x8x8xf32>, tensor<16x16x3x3xf32>) outs(%e8 : tensor<2x16x8x8xf32>) -> tensor<2x16x8x8xf32>
  return %n#1, %dd : tensor<16xf32>, tensor<2x16x8x8xf32>
}
