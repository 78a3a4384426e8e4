// With keep-runtime-kernels (the CPU pipeline), the ops that the CPU runtime
// implements (trait RuntimeKernel) stay whole; since the GRU has its own
// CPU kernel, every op with a decomposition is one of them. Without the
// option (the GPU pipeline), each is decomposed.
// RUN: kiln-opt --kiln-decompose=keep-runtime-kernels %s | FileCheck %s
// RUN: kiln-opt --kiln-decompose %s | FileCheck %s --check-prefix=ALL

// CHECK-LABEL: func.func @mixed
// CHECK: kiln.layer_norm
// CHECK: kiln.batch_norm
// CHECK: kiln.gru
// ALL-LABEL: func.func @mixed
// ALL-NOT: kiln.layer_norm
// ALL-NOT: kiln.batch_norm
// ALL-NOT: kiln.gru
// ALL: return
func.func @mixed(%x: tensor<2x3x4xf32>, %wi: tensor<15x4xf32>, %wh: tensor<15x5xf32>, %b: tensor<15xf32>,
                 %rm: tensor<3xf32>, %rv: tensor<3xf32>, %n: tensor<i64>)
    -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x5xf32>) {
  %ln = kiln.layer_norm %x {axis = -1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %bn, %m, %v, %c = kiln.batch_norm %x, %rm, %rv, %n
      : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  %out, %h = kiln.gru %x, %wi, %wh, %b, %b {hidden_size = 5 : i64, num_layers = 1 : i64}
      : (tensor<2x3x4xf32>, tensor<15x4xf32>, tensor<15x5xf32>, tensor<15xf32>, tensor<15xf32>)
      -> (tensor<2x3x5xf32>, tensor<1x2x5xf32>)
  return %ln, %bn, %out : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x5xf32>
}
