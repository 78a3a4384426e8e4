// A batch normalization synchronized over two ranks, for the reference
// evaluator, which runs one process.
func.func @forward() -> (tensor<4x3xf32> {kiln.output = "y"}) {
  %x = kiln.constant dense<1.0> : tensor<4x3xf32>
  %r = kiln.constant dense<0.0> : tensor<3xf32>
  %n = kiln.constant dense<0> : tensor<i64>
  %y:4 = kiln.batch_norm %x, %r, %r, %n {ranks = 2}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
  return %y#0 : tensor<4x3xf32>
}

func.func @backward() -> (tensor<4x3xf32> {kiln.output = "dx"}) {
  %x = kiln.constant dense<1.0> : tensor<4x3xf32>
  %dx = kiln.batch_norm_backward %x, %x {ranks = 2}
      : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  return %dx : tensor<4x3xf32>
}
