// The arguments of run-reference.kiln's functions, by name: zero weights,
// so that the results are easy to work out by hand.

// @f32 gives them in their types' dtypes.
func.func @f32() -> (tensor<2x3xf32> {kiln.output = "fc.weight"},
                     tensor<2xf32> {kiln.output = "fc.bias"},
                     tensor<2x3xf32> {kiln.output = "fc.weight.momentum_buffer"},
                     tensor<2xf32> {kiln.output = "fc.bias.momentum_buffer"},
                     tensor<i64> {kiln.output = "step"},
                     tensor<i64> {kiln.output = "total_steps"},
                     tensor<2x3xf32> {kiln.output = "x"},
                     tensor<2xi64> {kiln.output = "label"}) {
  %w = kiln.constant dense<0.0> : tensor<2x3xf32>
  %b = kiln.constant dense<0.0> : tensor<2xf32>
  %step = kiln.constant dense<1> : tensor<i64>
  %x = kiln.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %label = kiln.constant dense<0> : tensor<2xi64>
  return %w, %b, %w, %b, %step, %step, %x, %label
      : tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>, tensor<2xf32>,
        tensor<i64>, tensor<i64>, tensor<2x3xf32>, tensor<2xi64>
}

// @f64 gives the real ones as F64, which -precision=f64 takes for f32.
func.func @f64() -> (tensor<2x3xf64> {kiln.output = "fc.weight"},
                     tensor<2xf64> {kiln.output = "fc.bias"},
                     tensor<2x3xf64> {kiln.output = "x"},
                     tensor<2xi64> {kiln.output = "label"}) {
  %w = kiln.constant dense<0.0> : tensor<2x3xf64>
  %b = kiln.constant dense<0.0> : tensor<2xf64>
  %x = kiln.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf64>
  %label = kiln.constant dense<0> : tensor<2xi64>
  return %w, %b, %x, %label
      : tensor<2x3xf64>, tensor<2xf64>, tensor<2x3xf64>, tensor<2xi64>
}

// @step0 gives the step counter 0, which the optimizers reject.
func.func @step0() -> (tensor<2x3xf32> {kiln.output = "fc.weight"},
                       tensor<2xf32> {kiln.output = "fc.bias"},
                       tensor<2x3xf32> {kiln.output = "fc.weight.momentum_buffer"},
                       tensor<2xf32> {kiln.output = "fc.bias.momentum_buffer"},
                       tensor<i64> {kiln.output = "step"},
                       tensor<i64> {kiln.output = "total_steps"},
                       tensor<2x3xf32> {kiln.output = "x"},
                       tensor<2xi64> {kiln.output = "label"}) {
  %w = kiln.constant dense<0.0> : tensor<2x3xf32>
  %b = kiln.constant dense<0.0> : tensor<2xf32>
  %step = kiln.constant dense<0> : tensor<i64>
  %total = kiln.constant dense<1> : tensor<i64>
  %label = kiln.constant dense<0> : tensor<2xi64>
  return %w, %b, %w, %b, %step, %total, %w, %label
      : tensor<2x3xf32>, tensor<2xf32>, tensor<2x3xf32>, tensor<2xf32>,
        tensor<i64>, tensor<i64>, tensor<2x3xf32>, tensor<2xi64>
}
