// RUN: kiln-opt --kiln-decompose %s -verify-diagnostics -split-input-file

// An LSTM unrolls over its steps for the GPU; too many would not compile.
func.func @long(%x: tensor<1x5000x2xf32>, %wi: tensor<8x2xf32>, %wh: tensor<8x2xf32>, %b: tensor<8xf32>) -> tensor<1x5000x2xf32> {
  // expected-error @+1 {{'kiln.lstm' op unrolls into 5000 steps of 1 layers, more than the 4096 that compile in reasonable time and memory; shorten the sequences or use fewer layers}}
  %out, %h, %c = kiln.lstm %x, %wi, %wh, %b, %b {hidden_size = 2 : i64, num_layers = 1 : i64}
      : (tensor<1x5000x2xf32>, tensor<8x2xf32>, tensor<8x2xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<1x5000x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>)
  return %out : tensor<1x5000x2xf32>
}
