// RUN: kiln-opt --kiln-decompose %s -verify-diagnostics -split-input-file

// An LSTM unrolls over its steps for the GPU; too many would not compile.
func.func @long(%x: tensor<1x5000x2xf32>, %wi: tensor<8x2xf32>, %wh: tensor<8x2xf32>, %b: tensor<8xf32>) -> tensor<1x5000x2xf32> {
  // expected-error @+1 {{'kiln.lstm' op unrolls into 5000 steps of 1 layers, more than the 4096 that compile in reasonable time and memory; shorten the sequences or use fewer layers}}
  %out, %h, %c = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 2 : i64, num_layers = 1 : i64}
      : (tensor<1x5000x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<1x5000x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>)
  return %out : tensor<1x5000x2xf32>
}

// -----

// The GPU target runs one process: a synchronized batch normalization, or
// its gradient, has no other ranks to add its sums with.
func.func @synchronized(%x: tensor<4x3xf32>, %r: tensor<3xf32>, %n: tensor<i64>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op synchronizes its statistics over 2 ranks, which the GPU target (one process, no NCCL yet) cannot}}
  %0:4 = kiln.batch_norm %x, %r, %r, %n {ranks = 2}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  return %0#0 : tensor<4x3xf32>
}

// -----

func.func @synchronized_gradient(%x: tensor<4x3xf32>, %g: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'kiln.batch_norm_backward' op synchronizes its statistics over 2 ranks, which the GPU target (one process, no NCCL yet) cannot}}
  %0 = kiln.batch_norm_backward %g, %x {ranks = 2} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
