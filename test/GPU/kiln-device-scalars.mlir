// RUN: kiln-opt --kiln-device-scalars --split-input-file --verify-diagnostics %s | FileCheck %s

// A scalar computed from tensor elements becomes a rank-0 generic that
// reads them as operands.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<() -> ()>
// CHECK-DAG: #[[AT:.*]] = affine_map<() -> (1)>
// CHECK-LABEL: func.func @scalar
// CHECK-NOT: tensor.from_elements
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<f32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[SCALAR]], #[[AT]], #[[SCALAR]]], iterator_types = []} ins(%arg0, %arg1 : tensor<f32>, tensor<4xf32>) outs(%[[EMPTY]] : tensor<f32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK:   %[[S:.*]] = math.sqrt %[[A]]
// CHECK:   %[[M:.*]] = arith.mulf %[[S]], %[[B]]
// CHECK:   linalg.yield %[[M]]
// CHECK: return %[[R]]
func.func @scalar(%t: tensor<f32>, %v: tensor<4xf32>) -> tensor<f32> {
  %c1 = arith.constant 1 : index
  %a = tensor.extract %t[] : tensor<f32>
  %b = tensor.extract %v[%c1] : tensor<4xf32>
  %s = math.sqrt %a : f32
  %m = arith.mulf %s, %b : f32
  %r = tensor.from_elements %m : tensor<f32>
  return %r : tensor<f32>
}

// -----

// A generic whose body uses such a scalar reads it from a new rank-0
// operand; the constant it also uses stays in the body.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<() -> ()>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[BROADCAST:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @captured
// CHECK: %[[LR:.*]] = linalg.generic {indexing_maps = [#[[SCALAR]], #[[SCALAR]]], iterator_types = []} ins(%arg1 : tensor<i64>)
// CHECK:   arith.sitofp
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[BROADCAST]], #[[ID]]], iterator_types = ["parallel"]} ins(%arg0, %[[LR]] : tensor<8xf32>, tensor<f32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[RATE:.*]]: f32, %{{.*}}: f32):
// CHECK:   %[[P:.*]] = arith.mulf %[[X]], %[[RATE]]
// CHECK:   arith.addf %[[P]], %cst
func.func @captured(%x: tensor<8xf32>, %step: tensor<i64>) -> tensor<8xf32> {
  %half = arith.constant 0.5 : f32
  %k = tensor.extract %step[] : tensor<i64>
  %rate = arith.sitofp %k : i64 to f32
  %e = tensor.empty() : tensor<8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %p = arith.mulf %in, %rate : f32
    %q = arith.addf %p, %half : f32
    linalg.yield %q : f32
  } -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

// A splat constant that a linalg op reads becomes a fill: the device cannot
// read the host's constants. A reshape's shape stays a constant, which the
// host reads.
// CHECK-LABEL: func.func @splat
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[FILL:.*]] = linalg.fill ins(%[[ONE]] : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[SHAPE:.*]] = arith.constant dense<2> : tensor<2xi64>
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[FILL]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: tensor.reshape %{{.*}}(%[[SHAPE]])
func.func @splat(%x: tensor<4xf32>) -> tensor<2x2xf32> {
  %ones = arith.constant dense<1.0> : tensor<4xf32>
  %shape = arith.constant dense<2> : tensor<2xi64>
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x, %ones : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %reshaped = tensor.reshape %r(%shape) : (tensor<4xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %reshaped : tensor<2x2xf32>
}

// -----

func.func @unsupported(%x: tensor<4xf32>, %i: index) -> tensor<f32> {
  %a = tensor.extract %x[%i] : tensor<4xf32>
  // expected-error @below {{cannot compute a scalar that this op uses on the device: it is not arithmetic of tensor elements at constant indices}}
  %r = tensor.from_elements %a : tensor<f32>
  return %r : tensor<f32>
}
