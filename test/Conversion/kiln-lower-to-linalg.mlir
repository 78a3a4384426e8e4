// kiln-lower-to-linalg lowers the light kiln ops to linalg, tensor, arith,
// math and scf on tensors; runtime calls stay.
// RUN: kiln-opt %s -kiln-lower-to-linalg -split-input-file | FileCheck %s

// Binary ops broadcast by NumPy's rules: a missing leading dimension is
// dropped from the operand's map and a size-1 dimension reads index 0.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:map[0-9]*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @binary(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[C:.*]]: tensor<4x1xf32>)
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[ADD:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]], %[[B]] : tensor<4x8xf32>, tensor<8xf32>) outs(%[[E0]] : tensor<4x8xf32>)
// CHECK-NEXT: ^bb0(%[[A0:.*]]: f32, %[[A1:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[R:.*]] = arith.addf %[[A0]], %[[A1]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #[[ID]], #[[ID]]], {{.*}} ins(%[[B]], %[[X]] :
// CHECK-NEXT: ^bb0(%[[S0:.*]]: f32, %[[S1:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.subf %[[S0]], %[[S1]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], {{.*}} ins(%[[X]], %[[C]] :
// CHECK-NEXT: ^bb0(%[[M0:.*]]: f32, %[[M1:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[M0]], %[[M1]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]]], {{.*}} ins(%[[X]], %[[X]] :
// CHECK-NEXT: ^bb0(%[[D0:.*]]: f32, %[[D1:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[D0]], %[[D1]] : f32
// CHECK: return %[[ADD]],
// CHECK-NOT: kiln.
func.func @binary(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %c: tensor<4x1xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = kiln.add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = kiln.sub %b, %x : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = kiln.mul %x, %c : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %3 = kiln.div %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1, %2, %3 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Unary ops, one linalg.generic each.
// CHECK-LABEL: func.func @unary(
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.negf %[[IN]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.maximumf %[[IN]], %[[ZERO]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.tanh %[[IN]] : f32
// sigmoid: 1 / (1 + exp(-x)).
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[NEG:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[EXP:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[ONE2:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %[[ONE2]], %[[EXP]] : f32
// CHECK-NEXT: %[[SIG:.*]] = arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK-NEXT: linalg.yield %[[SIG]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.exp %[[IN]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.log %[[IN]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.sqrt %[[IN]] : f32
func.func @unary(%x: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.neg %x : tensor<4xf32>
  %1 = kiln.relu %x : tensor<4xf32>
  %2 = kiln.tanh %x : tensor<4xf32>
  %3 = kiln.sigmoid %x : tensor<4xf32>
  %4 = kiln.exp %x : tensor<4xf32>
  %5 = kiln.log %x : tensor<4xf32>
  %6 = kiln.sqrt %x : tensor<4xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// GELU, exact: x * 0.5 * (1 + erf(x / sqrt(2))); with the tanh form:
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @gelu(
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[C:.*]] = arith.constant 0.707106769 : f32
// CHECK-NEXT: %[[S:.*]] = arith.mulf %[[X]], %[[C]] : f32
// CHECK-NEXT: %[[ERF:.*]] = math.erf %[[S]] : f32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[P:.*]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT: %[[CDF:.*]] = arith.mulf %[[HALF]], %[[P]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[X]], %[[CDF]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT: %[[CUBE:.*]] = arith.mulf %[[SQ]], %[[X]] : f32
// CHECK-NEXT: %[[K:.*]] = arith.constant 4.471500e-02 : f32
// CHECK-NEXT: %[[KC:.*]] = arith.mulf %[[K]], %[[CUBE]] : f32
// CHECK-NEXT: %[[IN:.*]] = arith.addf %[[X]], %[[KC]] : f32
// CHECK-NEXT: %[[R2PI:.*]] = arith.constant 0.797884583 : f32
// CHECK-NEXT: %[[ARG:.*]] = arith.mulf %[[R2PI]], %[[IN]] : f32
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[ARG]] : f32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[X]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[P:.*]] = arith.addf %[[ONE]], %[[T]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[HX]], %[[P]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// Its gradient, exact: g (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
// CHECK: ^bb0(%[[G:.*]]: f32, %[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]] : f32
// CHECK-NEXT: %[[NORM:.*]] = arith.constant 0.398942292 : f32
// CHECK-NEXT: %[[MHALF:.*]] = arith.constant -5.000000e-01 : f32
// CHECK-NEXT: %[[E:.*]] = arith.mulf %[[MHALF]], %[[SQ]] : f32
// CHECK-NEXT: %[[EXP:.*]] = math.exp %[[E]] : f32
// CHECK-NEXT: %[[PDF:.*]] = arith.mulf %[[NORM]], %[[EXP]] : f32
// CHECK: math.erf
// CHECK: %[[CDF:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[XPDF:.*]] = arith.mulf %[[X]], %[[PDF]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %[[CDF]], %[[XPDF]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[G]], %[[D]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// With the tanh form: g (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2 / pi) (1 + 3 * 0.044715 x^2)).
// CHECK: ^bb0(%[[G:.*]]: f32, %[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[T:.*]] = math.tanh
// CHECK: %[[T2:.*]] = arith.mulf %[[T]], %[[T]] : f32
// CHECK-NEXT: %[[SECH2:.*]] = arith.subf %{{.*}}, %[[T2]] : f32
// CHECK: %[[K3:.*]] = arith.constant 1.341450e-01 : f32
// CHECK-NEXT: %[[K3X2:.*]] = arith.mulf %[[K3]], %{{.*}} : f32
// CHECK-NEXT: %[[POLY:.*]] = arith.addf %{{.*}}, %[[K3X2]] : f32
// CHECK-NEXT: %[[INNER:.*]] = arith.mulf %{{.*}}, %[[POLY]] : f32
// CHECK: %[[HX:.*]] = arith.mulf %{{.*}}, %[[X]] : f32
// CHECK-NEXT: %[[HXS:.*]] = arith.mulf %[[HX]], %[[SECH2]] : f32
// CHECK-NEXT: %[[RIGHT:.*]] = arith.mulf %[[HXS]], %[[INNER]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %{{.*}}, %[[RIGHT]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.mulf %[[G]], %[[D]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// relu's gradient passes where the input is positive.
// CHECK: ^bb0(%[[G:.*]]: f32, %[[X:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[X]], %[[ZERO]] : f32
// CHECK-NEXT: %[[ZERO2:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[POS]], %[[G]], %[[ZERO2]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @gelu(%x: tensor<4xf32>, %g: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.gelu %x : tensor<4xf32>
  %1 = kiln.gelu %x {approximate = #kiln.gelu_approximation<tanh>} : tensor<4xf32>
  %2 = kiln.gelu_backward %g, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %3 = kiln.gelu_backward %g, %x {approximate = #kiln.gelu_approximation<tanh>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = kiln.relu_backward %g, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2, %3, %4 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// The activations with parameters, whose attributes become constants of the
// body; a clamp without a min bound has no maximumf.
// CHECK-LABEL: func.func @activations(
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[R:.*]] = math.absf %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// leaky_relu: x > 0 ? x : 0.2 x.
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: %[[SLOPE:.*]] = arith.constant 2.000000e-01 : f32
// CHECK-NEXT: %[[NEG:.*]] = arith.mulf %[[SLOPE]], %[[IN]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[POS]], %[[IN]], %[[NEG]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// elu: x > 0 ? x : 0.5 expm1(x).
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: %[[ALPHA:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[EM1:.*]] = math.expm1 %[[IN]] : f32
// CHECK-NEXT: %[[NEG:.*]] = arith.mulf %[[ALPHA]], %[[EM1]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[POS]], %[[IN]], %[[NEG]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// softplus: 2 x > 10 ? x : log1p(exp(2 x)) / 2.
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[BETA:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %[[BX:.*]] = arith.mulf %[[BETA]], %[[IN]] : f32
// CHECK-NEXT: %[[THRESHOLD:.*]] = arith.constant 1.000000e+01 : f32
// CHECK-NEXT: %[[LINEAR:.*]] = arith.cmpf ogt, %[[BX]], %[[THRESHOLD]] : f32
// CHECK-NEXT: %[[EXP:.*]] = math.exp %[[BX]] : f32
// CHECK-NEXT: %[[LOG:.*]] = math.log1p %[[EXP]] : f32
// CHECK-NEXT: %[[BETA2:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %[[SMOOTH:.*]] = arith.divf %[[LOG]], %[[BETA2]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[LINEAR]], %[[IN]], %[[SMOOTH]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// clamp with both bounds, then with a max alone.
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[MIN:.*]] = arith.constant -1.000000e+00 : f32
// CHECK-NEXT: %[[LOW:.*]] = arith.maximumf %[[IN]], %[[MIN]] : f32
// CHECK-NEXT: %[[MAX:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.minimumf %[[LOW]], %[[MAX]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[MAX:.*]] = arith.constant 6.000000e+00 : f32
// CHECK-NEXT: %[[R:.*]] = arith.minimumf %[[IN]], %[[MAX]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK-NOT: kiln.
func.func @activations(%x: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = kiln.abs %x : tensor<4xf32>
  %1 = kiln.leaky_relu %x {negative_slope = 0.2 : f64} : tensor<4xf32>
  %2 = kiln.elu %x {alpha = 0.5 : f64} : tensor<4xf32>
  %3 = kiln.softplus %x {beta = 2.0 : f64, threshold = 10.0 : f64} : tensor<4xf32>
  %4 = kiln.clamp %x {min = -1.0 : f64, max = 6.0 : f64} : tensor<4xf32>
  %5 = kiln.clamp %x {max = 6.0 : f64} : tensor<4xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// reduce_precision to bfloat16 rounds the float's low half away, to nearest
// with ties to even, and passes NaN through.
// CHECK-LABEL: func.func @reduce_precision(
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[BITS:.*]] = arith.bitcast %[[IN]] : f32 to i32
// CHECK-NEXT: %[[C16:.*]] = arith.constant 16 : i32
// CHECK-NEXT: %[[HIGH:.*]] = arith.shrui %[[BITS]], %[[C16]] : i32
// CHECK-NEXT: %[[C1:.*]] = arith.constant 1 : i32
// CHECK-NEXT: %[[LOWEST:.*]] = arith.andi %[[HIGH]], %[[C1]] : i32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 32767 : i32
// CHECK-NEXT: %[[BIAS:.*]] = arith.addi %[[LOWEST]], %[[HALF]] : i32
// CHECK-NEXT: %[[BIASED:.*]] = arith.addi %[[BITS]], %[[BIAS]] : i32
// CHECK-NEXT: %[[MASK:.*]] = arith.constant -65536 : i32
// CHECK-NEXT: %[[KEPT:.*]] = arith.andi %[[BIASED]], %[[MASK]] : i32
// CHECK-NEXT: %[[ROUNDED:.*]] = arith.bitcast %[[KEPT]] : i32 to f32
// CHECK-NEXT: %[[NAN:.*]] = arith.cmpf uno, %[[IN]], %[[IN]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[NAN]], %[[IN]], %[[ROUNDED]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @reduce_precision(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.reduce_precision %x {precision = bf16} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// minimum, maximum and pow broadcast as the arithmetic does; minimumf and
// maximumf keep a NaN, as torch.minimum and torch.maximum do. A comparison
// selects 1 or 0 (not_equal unordered, so that NaN differs from
// everything); where selects its x where the condition is not 0.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:map[0-9]*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @selections(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[C:.*]]: tensor<4x1xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], {{.*}} ins(%[[X]], %[[B]] :
// CHECK-NEXT: ^bb0(%[[L:.*]]: f32, %[[R:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.minimumf %[[L]], %[[R]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]], {{.*}} ins(%[[X]], %[[C]] :
// CHECK-NEXT: ^bb0(%[[L:.*]]: f32, %[[R:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.maximumf %[[L]], %[[R]] : f32
// CHECK: ^bb0(%[[L:.*]]: f32, %[[R:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: math.powf %[[L]], %[[R]] : f32
// CHECK: ^bb0(%[[L:.*]]: f32, %[[R:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[HOLDS:.*]] = arith.cmpf ogt, %[[L]], %[[R]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[V:.*]] = arith.select %[[HOLDS]], %[[ONE]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: arith.cmpf olt,
// CHECK: arith.cmpf oge,
// CHECK: arith.cmpf ole,
// CHECK: arith.cmpf oeq,
// CHECK: arith.cmpf une,
// CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[ID]], #[[ID]]], {{.*}} ins(%[[C]], %[[B]], %[[X]] :
// CHECK-NEXT: ^bb0(%[[COND:.*]]: f32, %[[T:.*]]: f32, %[[F:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[CHOSEN:.*]] = arith.cmpf une, %[[COND]], %[[ZERO]] : f32
// CHECK-NEXT: %[[V:.*]] = arith.select %[[CHOSEN]], %[[T]], %[[F]] : f32
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK-NOT: kiln.
func.func @selections(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %c: tensor<4x1xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
        tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = kiln.minimum %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = kiln.maximum %x, %c : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %2 = kiln.pow %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %3 = kiln.greater %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %4 = kiln.less %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %5 = kiln.greater_equal %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %6 = kiln.less_equal %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %7 = kiln.equal %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %8 = kiln.not_equal %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %9 = kiln.where %c, %b, %x : (tensor<4x1xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9
      : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>,
        tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// broadcast_to copies through a broadcasting map; embedding rows and
// one-hot vectors index by the ids and the last position, the rows clamped
// to the table.
// CHECK-DAG: #[[ROW:map[0-9]*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID2:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[BYID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID3:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[SCALAR:map[0-9]*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @indexed(
// CHECK-SAME: %[[X:.*]]: tensor<3xf32>, %[[IDS:.*]]: tensor<2x3xi64>, %[[TABLE:.*]]: tensor<10x8xf32>, %[[STEP:.*]]: tensor<i64>)
// CHECK: linalg.generic {indexing_maps = [#[[ROW]], #[[ID2]]], {{.*}} ins(%[[X]] : tensor<3xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[BYID]], #[[ID3]]], {{.*}} ins(%[[IDS]] : tensor<2x3xi64>) outs(%{{.*}} : tensor<2x3x8xf32>)
// CHECK-NEXT: ^bb0(%[[TOK:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[COL:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[ROW0:.*]] = arith.index_cast %[[TOK]] : i64 to index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[ROW1:.*]] = arith.maxsi %[[ROW0]], %[[C0]] : index
// CHECK-NEXT: %[[C9:.*]] = arith.constant 9 : index
// CHECK-NEXT: %[[ROW2:.*]] = arith.minsi %[[ROW1]], %[[C9]] : index
// CHECK-NEXT: %[[E:.*]] = tensor.extract %[[TABLE]][%[[ROW2]], %[[COL]]] : tensor<10x8xf32>
// CHECK-NEXT: linalg.yield %[[E]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[BYID]], #[[ID3]]], {{.*}} ins(%[[IDS]] : tensor<2x3xi64>) outs(%{{.*}} : tensor<2x3x5xf32>)
// CHECK-NEXT: ^bb0(%[[TOK:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[CLASS:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[CLASS64:.*]] = arith.index_cast %[[CLASS]] : index to i64
// CHECK-NEXT: %[[EQ:.*]] = arith.cmpi eq, %[[TOK]], %[[CLASS64]] : i64
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.select %[[EQ]], %[[ONE]], %[[ZERO]] : f32
// Dropout hashes the element's row-major index with the step counter and the
// seed, keeps it when the uniform draw is at least p and scales it by 1 / (1 - p).
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[SCALAR]], #[[ID2]]], {{.*}} ins(%{{.*}}, %[[STEP]] : tensor<2x3xf32>, tensor<i64>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %[[CTR:.*]]: i64, %{{.*}}: f32):
// CHECK: linalg.index 0 : index
// CHECK: %[[C3:.*]] = arith.constant 3 : i64
// CHECK-NEXT: arith.muli %{{.*}}, %[[C3]] : i64
// CHECK: %[[SEED:.*]] = arith.constant 7 : i64
// CHECK: arith.constant -7046029254386353131 : i64
// CHECK: arith.xori %[[CTR]], %{{.*}} : i64
// CHECK: arith.xori %[[SEED]], %{{.*}} : i64
// CHECK: %[[C11:.*]] = arith.constant 11 : i64
// CHECK-NEXT: %[[BITS:.*]] = arith.shrui %{{.*}}, %[[C11]] : i64
// CHECK-NEXT: %[[F:.*]] = arith.uitofp %[[BITS]] : i64 to f64
// CHECK-NEXT: %[[ULP:.*]] = arith.constant 1.1102230246251565E-16 : f64
// CHECK-NEXT: %[[U:.*]] = arith.mulf %[[F]], %[[ULP]] : f64
// CHECK-NEXT: %[[P:.*]] = arith.constant 2.500000e-01 : f64
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpf oge, %[[U]], %[[P]] : f64
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 1.33333337 : f32
// CHECK-NEXT: %[[SCALED:.*]] = arith.mulf %[[V]], %[[SCALE]] : f32
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.select %[[KEEP]], %[[SCALED]], %[[ZERO]] : f32
func.func @indexed(%x: tensor<3xf32>, %ids: tensor<2x3xi64>, %table: tensor<10x8xf32>, %step: tensor<i64>)
    -> (tensor<4x3xf32>, tensor<2x3x8xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>) {
  %0 = kiln.broadcast_to %x {shape = array<i64: 4, 3>} : (tensor<3xf32>) -> tensor<4x3xf32>
  %1 = kiln.embedding %ids, %table : (tensor<2x3xi64>, tensor<10x8xf32>) -> tensor<2x3x8xf32>
  %2 = kiln.one_hot %ids {num_classes = 5 : i64} : (tensor<2x3xi64>) -> tensor<2x3x5xf32>
  %ones = kiln.constant dense<1.0> : tensor<2x3xf32>
  %3 = kiln.dropout %ones, %step {p = 0.25 : f64, seed = 7 : i64} : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<4x3xf32>, tensor<2x3x8xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>
}

// -----

// Reductions fill their accumulator with the identity (0, or -inf for the
// maximum) and reduce the listed axes; the mean divides by the count; with
// keep_dims the reduced axes stay, read at index 0.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[LAST:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[KEEP2:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-DAG: #[[MID:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-DAG: #[[KEEP1:map[0-9]*]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: func.func @reductions(
// CHECK-SAME: %[[X:.*]]: tensor<2x4x8xf32>, %[[G:.*]]: tensor<2x8xf32>)
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%{{.*}} : tensor<8xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[LAST]]], iterator_types = ["reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x4x8xf32>) outs(%[[ACC]] : tensor<8xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: arith.addf %[[IN]], %[[OUT]] : f32
// CHECK: %[[MSUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[KEEP2]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x4x1xf32>)
// CHECK: %[[COUNT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[MSUM]] : tensor<2x4x1xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[IN]], %[[COUNT]] : f32
// CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MACC:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[MID]]], iterator_types = ["reduction", "parallel", "reduction"]} ins(%[[X]] : tensor<2x4x8xf32>) outs(%[[MACC]] : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: arith.maximumf %[[IN]], %[[OUT]] : f32
// The maximum's gradient is shared by the positions that hold the maximum:
// grad / count * is_max.
// CHECK: %[[GMAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[KEEP1]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<2x4x8xf32>) outs(%{{.*}} : tensor<2x1x8xf32>)
// CHECK: %[[ISMAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[KEEP1]], #[[ID]]], {{.*}} ins(%[[X]], %[[GMAX]] : tensor<2x4x8xf32>, tensor<2x1x8xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[EQ:.*]] = arith.cmpf oeq, %[[A]], %[[B]] : f32
// CHECK-NEXT: arith.select %[[EQ]], %{{.*}}, %{{.*}} : f32
// CHECK: %[[NMAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[KEEP1]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[ISMAX]] : tensor<2x4x8xf32>)
// CHECK: %[[SHAPE:.*]] = arith.constant dense<[2, 1, 8]> : tensor<3xi64>
// CHECK: %[[GK:.*]] = tensor.reshape %[[G]](%[[SHAPE]]) : (tensor<2x8xf32>, tensor<3xi64>) -> tensor<2x1x8xf32>
// CHECK: %[[DX:.*]] = linalg.generic {indexing_maps = [#[[KEEP1]], #[[KEEP1]], #[[ID]], #[[ID]]], {{.*}} ins(%[[GK]], %[[NMAX]], %[[ISMAX]] :
// CHECK-NEXT: ^bb0(%[[GG:.*]]: f32, %[[N:.*]]: f32, %[[I:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[Q:.*]] = arith.divf %[[GG]], %[[N]] : f32
// CHECK-NEXT: arith.mulf %[[Q]], %[[I]] : f32
// CHECK: return %[[SUM]], %[[MEAN]], %[[MAX]], %[[DX]]
func.func @reductions(%x: tensor<2x4x8xf32>, %g: tensor<2x8xf32>)
    -> (tensor<8xf32>, tensor<2x4x1xf32>, tensor<4xf32>, tensor<2x4x8xf32>) {
  %0 = kiln.reduce_sum %x {axes = array<i64: 0, 1>} : (tensor<2x4x8xf32>) -> tensor<8xf32>
  %1 = kiln.reduce_mean %x {axes = array<i64: -1>, keep_dims = true} : (tensor<2x4x8xf32>) -> tensor<2x4x1xf32>
  %2 = kiln.reduce_max %x {axes = array<i64: 2, 0>} : (tensor<2x4x8xf32>) -> tensor<4xf32>
  %3 = kiln.reduce_max_backward %g, %x {axes = array<i64: 1>} : (tensor<2x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %0, %1, %2, %3 : tensor<8xf32>, tensor<2x4x1xf32>, tensor<4xf32>, tensor<2x4x8xf32>
}

// -----

// argmax keeps the running maximum and its index; a later position wins only
// if greater, or equal with a smaller index, so the first maximum wins.
// CHECK-DAG: #[[ID:map[0-9]*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:map[0-9]*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[VEC:map[0-9]*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[TOTAL:map[0-9]*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @classes(
// CHECK-SAME: %[[LOGITS:.*]]: tensor<2x5xf32>, %[[LABELS:.*]]: tensor<2xi64>, %[[ONE:.*]]: tensor<f32>)
// CHECK: %[[ARG:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[LOGITS]] : tensor<2x5xf32>) outs(%{{.*}}, %{{.*}} : tensor<2xf32>, tensor<2xi64>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %[[BEST:.*]]: f32, %[[BESTI:.*]]: i64):
// CHECK-NEXT: %[[I:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK-NEXT: %[[GT:.*]] = arith.cmpf ogt, %[[V]], %[[BEST]] : f32
// CHECK-NEXT: %[[EQ:.*]] = arith.cmpf oeq, %[[V]], %[[BEST]] : f32
// CHECK-NEXT: %[[LT:.*]] = arith.cmpi slt, %[[I64]], %[[BESTI]] : i64
// CHECK-NEXT: %[[TIE:.*]] = arith.andi %[[EQ]], %[[LT]] : i1
// CHECK-NEXT: %[[TAKE:.*]] = arith.ori %[[GT]], %[[TIE]] : i1
// CHECK-NEXT: %[[NV:.*]] = arith.select %[[TAKE]], %[[V]], %[[BEST]] : f32
// CHECK-NEXT: %[[NI:.*]] = arith.select %[[TAKE]], %[[I64]], %[[BESTI]] : i64
// CHECK-NEXT: linalg.yield %[[NV]], %[[NI]] : f32, i64
// CHECK: %[[ARG2:.*]]:2 = linalg.generic
// CHECK: %[[KEEP:.*]] = tensor.reshape %[[ARG2]]#1(%{{.*}}) : (tensor<2xi64>, tensor<2xi64>) -> tensor<2x1xi64>
// count_equal: 1 where equal, summed.
// CHECK: %[[SAME:.*]] = linalg.generic {indexing_maps = [#[[VEC]], #[[VEC]], #[[VEC]]], {{.*}} ins(%[[ARG]]#1, %[[LABELS]] : tensor<2xi64>, tensor<2xi64>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: i64, %[[B:.*]]: i64, %{{.*}}: i64):
// CHECK-NEXT: %[[EQI:.*]] = arith.cmpi eq, %[[A]], %[[B]] : i64
// CHECK-NEXT: arith.extui %[[EQI]] : i1 to i64
// CHECK: %[[COUNT:.*]] = linalg.generic {indexing_maps = [#[[VEC]], #[[TOTAL]]], iterator_types = ["reduction"]} ins(%[[SAME]] : tensor<2xi64>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i64, %[[OUT:.*]]: i64):
// CHECK-NEXT: arith.addi %[[IN]], %[[OUT]] : i64
// cross_entropy: the sum over the rows whose label is not ignore_index (-100
// by default) of log(sum exp(x - max)) + max - x[label], over their number.
// CHECK: %[[RMAX:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]] : tensor<2x5xf32>)
// CHECK: arith.maximumf
// CHECK: %[[SHIFTED:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]], %{{.*}} : tensor<2x5xf32>, tensor<2x1xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[A]], %[[B]] : f32
// CHECK-NEXT: math.exp %[[D]] : f32
// CHECK: %[[RSUM:.*]] = linalg.generic {{.*}} ins(%[[SHIFTED]] : tensor<2x5xf32>)
// The label's logit, the label clamped to the classes (an ignored -100 picks
// column 0, unused).
// CHECK: %[[PICKED:.*]] = linalg.generic {{.*}} ins(%[[LABELS]] : tensor<2xi64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[L:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[ROW:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[LOW:.*]] = arith.maxsi %[[L]], %[[ZERO]] : i64
// CHECK-NEXT: %[[LAST:.*]] = arith.constant 4 : i64
// CHECK-NEXT: %[[CLAMPED:.*]] = arith.minsi %[[LOW]], %[[LAST]] : i64
// CHECK-NEXT: %[[COL:.*]] = arith.index_cast %[[CLAMPED]] : i64 to index
// CHECK-NEXT: tensor.extract %[[LOGITS]][%[[ROW]], %[[COL]]] : tensor<2x5xf32>
// CHECK: %[[LOSSES:.*]] = linalg.generic {{.*}} ins(%[[RSUM]], %[[RMAX]], %[[PICKED]], %[[LABELS]] :
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %[[M:.*]]: f32, %[[P:.*]]: f32, %[[L:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[LOG:.*]] = math.log %[[S]] : f32
// CHECK-NEXT: %[[LSE:.*]] = arith.addf %[[LOG]], %[[M]] : f32
// CHECK-NEXT: %[[ROWLOSS:.*]] = arith.subf %[[LSE]], %[[P]] : f32
// CHECK-NEXT: %[[IGNORE:.*]] = arith.constant -100 : i64
// CHECK-NEXT: %[[IGNORED:.*]] = arith.cmpi eq, %[[L]], %[[IGNORE]] : i64
// CHECK-NEXT: %[[NONE:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.select %[[IGNORED]], %[[NONE]], %[[ROWLOSS]] : f32
// CHECK: %[[LSUM:.*]] = linalg.generic {{.*}} ins(%[[LOSSES]] : tensor<2xf32>)
// CHECK: %[[KEPT:.*]] = linalg.generic {{.*}} ins(%[[LABELS]] : tensor<2xi64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[L:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT: %[[IGNORE:.*]] = arith.constant -100 : i64
// CHECK-NEXT: %[[IGNORED:.*]] = arith.cmpi eq, %[[L]], %[[IGNORE]] : i64
// CHECK-NEXT: %[[K0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[K1:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: arith.select %[[IGNORED]], %[[K0]], %[[K1]] : f32
// CHECK: %[[KSUM:.*]] = linalg.generic {{.*}} ins(%[[KEPT]] : tensor<2xf32>)
// CHECK: %[[LOSS:.*]] = linalg.generic {{.*}} ins(%[[LSUM]], %[[KSUM]] : tensor<f32>, tensor<f32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[N:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[IN]], %[[N]] : f32
// Its gradient: grad (softmax(x) - one_hot(label)) / count in the rows not
// ignored, 0 in the others.
// CHECK: %[[GKEPT:.*]] = linalg.generic {{.*}} ins(%[[LABELS]] : tensor<2xi64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: %[[GCOUNT:.*]] = linalg.generic {{.*}} ins(%[[GKEPT]] : tensor<2xf32>)
// CHECK: %[[DX:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]], %{{.*}}, %{{.*}}, %{{.*}}, %[[ONE]], %[[GCOUNT]] : tensor<2x5xf32>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<2x1xi64>, tensor<f32>, tensor<f32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[M:.*]]: f32, %[[S:.*]]: f32, %[[L:.*]]: i64, %[[G:.*]]: f32, %[[N:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[X]], %[[M]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: %[[P:.*]] = arith.divf %[[E]], %[[S]] : f32
// CHECK-NEXT: %[[C:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[C64:.*]] = arith.index_cast %[[C]] : index to i64
// CHECK-NEXT: %[[IS:.*]] = arith.cmpi eq, %[[C64]], %[[L]] : i64
// CHECK-NEXT: %[[T1:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[T0:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[T:.*]] = arith.select %[[IS]], %[[T1]], %[[T0]] : f32
// CHECK-NEXT: %[[DIFF:.*]] = arith.subf %[[P]], %[[T]] : f32
// CHECK-NEXT: %[[SCALE:.*]] = arith.divf %[[G]], %[[N]] : f32
// CHECK-NEXT: %[[GRAD:.*]] = arith.mulf %[[DIFF]], %[[SCALE]] : f32
// CHECK-NEXT: %[[IGNORE:.*]] = arith.constant -100 : i64
// CHECK-NEXT: %[[IGNORED:.*]] = arith.cmpi eq, %[[L]], %[[IGNORE]] : i64
// CHECK-NEXT: %[[NONE:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: arith.select %[[IGNORED]], %[[NONE]], %[[GRAD]] : f32
// CHECK: return %[[ARG]]#1, %[[KEEP]], %[[COUNT]], %[[LOSS]], %[[DX]]
func.func @classes(%logits: tensor<2x5xf32>, %labels: tensor<2xi64>, %one: tensor<f32>)
    -> (tensor<2xi64>, tensor<2x1xi64>, tensor<i64>, tensor<f32>, tensor<2x5xf32>) {
  %0 = kiln.argmax %logits {axis = 1 : i64} : (tensor<2x5xf32>) -> tensor<2xi64>
  %1 = kiln.argmax %logits {axis = -1 : i64, keep_dims = true} : (tensor<2x5xf32>) -> tensor<2x1xi64>
  %2 = kiln.count_equal %0, %labels : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
  %3 = kiln.cross_entropy %logits, %labels : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %4 = kiln.cross_entropy_backward %one, %logits, %labels : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  return %0, %1, %2, %3, %4 : tensor<2xi64>, tensor<2x1xi64>, tensor<i64>, tensor<f32>, tensor<2x5xf32>
}

// -----

// cross_entropy with label_smoothing s = 0.25 and ignore_index 3: each row
// loses lse - 0.75 x[label] - 0.25 mean(x); its gradient's target is
// 0.75 one_hot + 0.25 / 5.
// CHECK-LABEL: func.func @smoothed(
// CHECK-SAME: %[[LOGITS:.*]]: tensor<2x5xf32>, %[[LABELS:.*]]: tensor<2xi64>, %[[ONE:.*]]: tensor<f32>)
// CHECK: %[[PICKED:.*]] = linalg.generic {{.*}} ins(%[[LABELS]] : tensor<2xi64>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: %[[RSUM:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]] : tensor<2x5xf32>)
// CHECK: arith.addf
// CHECK: %[[FIVE:.*]] = arith.constant 5.000000e+00 : f32
// CHECK: %[[RMEAN:.*]] = linalg.generic {{.*}} ins(%[[RSUM]] : tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[IN]], %[[FIVE]] : f32
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[PICKED]], %[[LABELS]], %[[RMEAN]] :
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %[[M:.*]]: f32, %[[P:.*]]: f32, %[[L:.*]]: i64, %[[MEAN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[LOG:.*]] = math.log %[[S]] : f32
// CHECK-NEXT: %[[LSE:.*]] = arith.addf %[[LOG]], %[[M]] : f32
// CHECK-NEXT: %[[KEEP:.*]] = arith.constant 7.500000e-01 : f32
// CHECK-NEXT: %[[KEPT:.*]] = arith.mulf %[[P]], %[[KEEP]] : f32
// CHECK-NEXT: %[[SPREAD:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-NEXT: %[[SPREAD_LOSS:.*]] = arith.mulf %[[MEAN]], %[[SPREAD]] : f32
// CHECK-NEXT: %[[A:.*]] = arith.subf %[[LSE]], %[[KEPT]] : f32
// CHECK-NEXT: %[[ROWLOSS:.*]] = arith.subf %[[A]], %[[SPREAD_LOSS]] : f32
// CHECK-NEXT: %[[IGNORE:.*]] = arith.constant 3 : i64
// CHECK-NEXT: %[[IGNORED:.*]] = arith.cmpi eq, %[[L]], %[[IGNORE]] : i64
// CHECK: arith.select %[[IGNORED]], %{{.*}}, %[[ROWLOSS]] : f32
// CHECK: %[[DX:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]], %{{.*}}, %{{.*}}, %{{.*}}, %[[ONE]], %{{.*}} :
// CHECK: %[[IS:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : i64
// CHECK-NEXT: %[[HIT:.*]] = arith.constant 8.000000e-01 : f32
// CHECK-NEXT: %[[MISS:.*]] = arith.constant 5.000000e-02 : f32
// CHECK-NEXT: arith.select %[[IS]], %[[HIT]], %[[MISS]] : f32
// CHECK: arith.constant 3 : i64
// CHECK: return %{{.*}}, %[[DX]]
func.func @smoothed(%logits: tensor<2x5xf32>, %labels: tensor<2xi64>, %one: tensor<f32>)
    -> (tensor<f32>, tensor<2x5xf32>) {
  %0 = kiln.cross_entropy %logits, %labels {ignore_index = 3 : i64, label_smoothing = 0.25 : f64} : (tensor<2x5xf32>, tensor<2xi64>) -> tensor<f32>
  %1 = kiln.cross_entropy_backward %one, %logits, %labels {ignore_index = 3 : i64, label_smoothing = 0.25 : f64} : (tensor<f32>, tensor<2x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  return %0, %1 : tensor<f32>, tensor<2x5xf32>
}

// -----

// Data movement: reshapes and flattening as tensor.reshape, transposes as
// linalg.transpose, concatenation as insert_slice at growing offsets, slices
// as extract_slice, scattering a slice as insert_slice into zeros, constants
// as arith constants; the sinusoidal table is computed at compile time:
// row p is [sin(p), cos(p), sin(p / 100), cos(p / 100)] for dim 4.
// CHECK-LABEL: func.func @movement(
// CHECK-SAME: %[[X:.*]]: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<2x5x4xf32>, %[[S:.*]]: tensor<2x2xf32>)
// CHECK: %[[SHAPE:.*]] = arith.constant dense<[6, 4]> : tensor<2xi64>
// CHECK: %[[R:.*]] = tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK: %[[SHAPE2:.*]] = arith.constant dense<[2, 12]> : tensor<2xi64>
// CHECK: %[[F:.*]] = tensor.reshape %[[X]](%[[SHAPE2]]) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<4x2x3xf32>) permutation = [2, 0, 1]
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8x4xf32>
// CHECK: %[[C0:.*]] = tensor.insert_slice %[[X]] into %[[E]][0, 0, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> into tensor<2x8x4xf32>
// CHECK: %[[C1:.*]] = tensor.insert_slice %[[Y]] into %[[C0]][0, 3, 0] [2, 5, 4] [1, 1, 1] : tensor<2x5x4xf32> into tensor<2x8x4xf32>
// CHECK: %[[SL:.*]] = tensor.extract_slice %[[X]][0, 1, 0] [2, 2, 2] [1, 1, 2] : tensor<2x3x4xf32> to tensor<2x2x2xf32>
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ZEROS:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%{{.*}} : tensor<5x4xf32>)
// CHECK: %[[SC:.*]] = tensor.insert_slice %[[S]] into %[[ZEROS]][1, 0] [2, 2] [2, 3] : tensor<2x2xf32> into tensor<5x4xf32>
// CHECK: %[[K:.*]] = arith.constant dense<[1, 2]> : tensor<2xi64>
// CHECK: %[[PE:.*]] = arith.constant dense<{{\[}}[0.000000e+00, 1.000000e+00, 0.000000e+00, 1.000000e+00], [0.841470957, 0.540302277, 0.00999983306, 0.999949991], [0.909297406, -0.416146845, 0.0199986659, 9.998000e-01]]> : tensor<3x4xf32>
// CHECK: return %[[R]], %[[F]], %[[T]], %[[C1]], %[[SL]], %[[SC]], %[[K]], %[[PE]]
func.func @movement(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %s: tensor<2x2xf32>)
    -> (tensor<6x4xf32>, tensor<2x12xf32>, tensor<4x2x3xf32>, tensor<2x8x4xf32>, tensor<2x2x2xf32>, tensor<5x4xf32>, tensor<2xi64>, tensor<3x4xf32>) {
  %r = kiln.reshape %x {shape = array<i64: 6, -1>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %f = kiln.flatten %x {start_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %t = kiln.transpose %x {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %cat = kiln.concat %x, %y {axis = -2 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x8x4xf32>
  %sl = kiln.slice %x {offsets = array<i64: 0, 1, 0>, sizes = array<i64: 2, 2, 2>, strides = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
  %sc = kiln.scatter_slice %s {offsets = array<i64: 1, 0>, strides = array<i64: 2, 3>, shape = array<i64: 5, 4>} : (tensor<2x2xf32>) -> tensor<5x4xf32>
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %pe = kiln.sinusoidal_positions {length = 3 : i64, dim = 4 : i64} : tensor<3x4xf32>
  return %r, %f, %t, %cat, %sl, %sc, %c, %pe : tensor<6x4xf32>, tensor<2x12xf32>, tensor<4x2x3xf32>, tensor<2x8x4xf32>, tensor<2x2x2xf32>, tensor<5x4xf32>, tensor<2xi64>, tensor<3x4xf32>
}

// -----

// The embedding gradient is a scatter-add over the positions: table[id[p]]
// += grad[p], the rows clamped to the table.
// CHECK-LABEL: func.func @embedding_backward(
// CHECK-SAME: %[[DY:.*]]: tensor<2x3x4xf32>, %[[IDS:.*]]: tensor<2x3xi64>)
// CHECK: %[[FLAT:.*]] = tensor.reshape %[[IDS]](%{{.*}}) : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<6xi64>
// CHECK: %[[ROWS:.*]] = tensor.reshape %[[DY]](%{{.*}}) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK: %[[ZEROS:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<10x4xf32>)
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[C6:.*]] = arith.constant 6 : index
// CHECK: %[[TABLE:.*]] = scf.for %[[P:.*]] = %[[C0]] to %[[C6]] step %[[C1]] iter_args(%[[ACC:.*]] = %[[ZEROS]]) -> (tensor<10x4xf32>) {
// CHECK-NEXT: %[[ID:.*]] = tensor.extract %[[FLAT]][%[[P]]] : tensor<6xi64>
// CHECK-NEXT: %[[ROW0:.*]] = arith.index_cast %[[ID]] : i64 to index
// CHECK-NEXT: %[[ROW1:.*]] = arith.maxsi %[[ROW0]], %[[C0]] : index
// CHECK-NEXT: %[[C9:.*]] = arith.constant 9 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.minsi %[[ROW1]], %[[C9]] : index
// CHECK-NEXT: %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT: %[[INNER:.*]] = scf.for %[[D:.*]] = %[[C0]] to %[[C4]] step %[[C1]] iter_args(%[[ACC2:.*]] = %[[ACC]]) -> (tensor<10x4xf32>) {
// CHECK-NEXT: %[[OLD:.*]] = tensor.extract %[[ACC2]][%[[ROW]], %[[D]]] : tensor<10x4xf32>
// CHECK-NEXT: %[[G:.*]] = tensor.extract %[[ROWS]][%[[P]], %[[D]]] : tensor<6x4xf32>
// CHECK-NEXT: %[[NEW:.*]] = arith.addf %[[OLD]], %[[G]] : f32
// CHECK-NEXT: %[[INS:.*]] = tensor.insert %[[NEW]] into %[[ACC2]][%[[ROW]], %[[D]]] : tensor<10x4xf32>
// CHECK-NEXT: scf.yield %[[INS]] : tensor<10x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: scf.yield %[[INNER]] : tensor<10x4xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[TABLE]]
func.func @embedding_backward(%dy: tensor<2x3x4xf32>, %ids: tensor<2x3xi64>) -> tensor<10x4xf32> {
  %0 = kiln.embedding_backward %dy, %ids {num = 10 : i64} : (tensor<2x3x4xf32>, tensor<2x3xi64>) -> tensor<10x4xf32>
  return %0 : tensor<10x4xf32>
}

// -----

// SGD updates its parameter (and momentum buffer) in place: they are the
// outputs of the generic. Plain: p - lr (g + wd p). With momentum: the buffer
// is the gradient itself at step 1, else momentum buf + (1 - dampening) g;
// Nesterov steps along g + momentum buf.
// CHECK-LABEL: func.func @sgd(
// CHECK-SAME: %[[P:.*]]: tensor<4x3xf32>, %[[G:.*]]: tensor<4x3xf32>, %[[M:.*]]: tensor<4x3xf32>, %[[LR:.*]]: tensor<f32>, %[[STEP:.*]]: tensor<i64>)
// CHECK: %[[LRV:.*]] = tensor.extract %[[LR]][] : tensor<f32>
// CHECK: %[[WD:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[P1:.*]] = linalg.generic {{.*}} ins(%[[G]] : tensor<4x3xf32>) outs(%[[P]] : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[GI:.*]]: f32, %[[PI:.*]]: f32):
// CHECK-NEXT: %[[D:.*]] = arith.mulf %[[WD]], %[[PI]] : f32
// CHECK-NEXT: %[[GD:.*]] = arith.addf %[[GI]], %[[D]] : f32
// CHECK-NEXT: %[[U:.*]] = arith.mulf %[[LRV]], %[[GD]] : f32
// CHECK-NEXT: %[[NP:.*]] = arith.subf %[[PI]], %[[U]] : f32
// CHECK-NEXT: linalg.yield %[[NP]] : f32
// CHECK: %[[LRV2:.*]] = tensor.extract %[[LR]][] : tensor<f32>
// CHECK: %[[WD2:.*]] = arith.constant 9.99999974E-5 : f32
// CHECK: %[[MOM:.*]] = arith.constant 0.899999976 : f32
// CHECK: %[[DAMP:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[S:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[S]], %[[ONE]] : i64
// CHECK: %[[P2:.*]]:2 = linalg.generic {{.*}} ins(%[[G]] : tensor<4x3xf32>) outs(%[[P]], %[[M]] : tensor<4x3xf32>, tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[GI:.*]]: f32, %[[PI:.*]]: f32, %[[MI:.*]]: f32):
// CHECK-NEXT: %[[D:.*]] = arith.mulf %[[WD2]], %[[PI]] : f32
// CHECK-NEXT: %[[GD:.*]] = arith.addf %[[GI]], %[[D]] : f32
// CHECK-NEXT: %[[MB:.*]] = arith.mulf %[[MOM]], %[[MI]] : f32
// CHECK-NEXT: %[[DG:.*]] = arith.mulf %[[DAMP]], %[[GD]] : f32
// CHECK-NEXT: %[[BUF:.*]] = arith.addf %[[MB]], %[[DG]] : f32
// CHECK-NEXT: %[[NB:.*]] = arith.select %[[FIRST]], %[[GD]], %[[BUF]] : f32
// CHECK-NEXT: %[[MNB:.*]] = arith.mulf %[[MOM]], %[[NB]] : f32
// CHECK-NEXT: %[[DIR:.*]] = arith.addf %[[GD]], %[[MNB]] : f32
// CHECK-NEXT: %[[U:.*]] = arith.mulf %[[LRV2]], %[[DIR]] : f32
// CHECK-NEXT: %[[NP:.*]] = arith.subf %[[PI]], %[[U]] : f32
// CHECK-NEXT: linalg.yield %[[NP]], %[[NB]] : f32, f32
// CHECK: return %[[P1]], %[[P2]]#0, %[[P2]]#1
func.func @sgd(%p: tensor<4x3xf32>, %g: tensor<4x3xf32>, %m: tensor<4x3xf32>, %lr: tensor<f32>, %step: tensor<i64>)
    -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) {
  %0 = kiln.sgd %p, %g, %lr, %step : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>) -> tensor<4x3xf32>
  %1:2 = kiln.sgd %p, %g, %lr, %step, %m {momentum = 0.9 : f64, nesterov = true, weight_decay = 1.0e-4 : f64}
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>, tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
  return %0, %1#0, %1#1 : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Adam as torch.optim: the bias corrections 1 - beta^step, computed in f64
// once per step, then m, v and the parameter updated in place:
// p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Adam adds
// wd p to the gradient (here wd = 0: nothing added); AdamW scales p by
// 1 - lr wd first.
// CHECK-LABEL: func.func @adam(
// CHECK-SAME: %[[P:.*]]: tensor<4x3xf32>, %[[G:.*]]: tensor<4x3xf32>, %[[M:.*]]: tensor<4x3xf32>, %[[V:.*]]: tensor<4x3xf32>, %[[LR:.*]]: tensor<f32>, %[[STEP:.*]]: tensor<i64>)
// CHECK: %[[LR32:.*]] = tensor.extract %[[LR]][] : tensor<f32>
// CHECK-NEXT: %[[LR64:.*]] = arith.extf %[[LR32]] : f32 to f64
// CHECK-NEXT: %[[S:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK-NEXT: %[[T:.*]] = arith.sitofp %[[S]] : i64 to f64
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[B1:.*]] = arith.constant 9.000000e-01 : f64
// CHECK-NEXT: %[[B1T:.*]] = math.powf %[[B1]], %[[T]] : f64
// CHECK-NEXT: %[[C1:.*]] = arith.subf %[[ONE]], %[[B1T]] : f64
// CHECK-NEXT: %[[SS64:.*]] = arith.divf %[[LR64]], %[[C1]] : f64
// CHECK-NEXT: %[[SS:.*]] = arith.truncf %[[SS64]] : f64 to f32
// CHECK-NEXT: %[[ONE2:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[B2:.*]] = arith.constant 0.99899999999999999 : f64
// CHECK-NEXT: %[[B2T:.*]] = math.powf %[[B2]], %[[T]] : f64
// CHECK-NEXT: %[[C2:.*]] = arith.subf %[[ONE2]], %[[B2T]] : f64
// CHECK-NEXT: %[[SQ64:.*]] = math.sqrt %[[C2]] : f64
// CHECK-NEXT: %[[SQ:.*]] = arith.truncf %[[SQ64]] : f64 to f32
// CHECK: %[[FB1:.*]] = arith.constant 0.899999976 : f32
// CHECK-NEXT: %[[FB2:.*]] = arith.constant 9.990000e-01 : f32
// CHECK-NEXT: %[[FNB1:.*]] = arith.constant 1.000000e-01 : f32
// CHECK-NEXT: %[[FNB2:.*]] = arith.constant 1.000000e-03 : f32
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 9.99999993E-9 : f32
// CHECK: %[[A:.*]]:3 = linalg.generic {{.*}} ins(%[[G]] : tensor<4x3xf32>) outs(%[[P]], %[[M]], %[[V]] : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[GI:.*]]: f32, %[[PI:.*]]: f32, %[[MI:.*]]: f32, %[[VI:.*]]: f32):
// CHECK-NEXT: %[[X1:.*]] = arith.mulf %[[FB1]], %[[MI]] : f32
// CHECK-NEXT: %[[X2:.*]] = arith.mulf %[[FNB1]], %[[GI]] : f32
// CHECK-NEXT: %[[NM:.*]] = arith.addf %[[X1]], %[[X2]] : f32
// CHECK-NEXT: %[[X3:.*]] = arith.mulf %[[FB2]], %[[VI]] : f32
// CHECK-NEXT: %[[GG:.*]] = arith.mulf %[[GI]], %[[GI]] : f32
// CHECK-NEXT: %[[X4:.*]] = arith.mulf %[[FNB2]], %[[GG]] : f32
// CHECK-NEXT: %[[NV:.*]] = arith.addf %[[X3]], %[[X4]] : f32
// CHECK-NEXT: %[[RV:.*]] = math.sqrt %[[NV]] : f32
// CHECK-NEXT: %[[RVC:.*]] = arith.divf %[[RV]], %[[SQ]] : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %[[RVC]], %[[EPS]] : f32
// CHECK-NEXT: %[[Q:.*]] = arith.divf %[[NM]], %[[DEN]] : f32
// CHECK-NEXT: %[[U:.*]] = arith.mulf %[[SS]], %[[Q]] : f32
// CHECK-NEXT: %[[NP:.*]] = arith.subf %[[PI]], %[[U]] : f32
// CHECK-NEXT: linalg.yield %[[NP]], %[[NM]], %[[NV]] : f32, f32, f32
// CHECK: %[[WD:.*]] = arith.constant 1.000000e-01 : f64
// CHECK-NEXT: %[[LRWD:.*]] = arith.mulf %{{.*}}, %[[WD]] : f64
// CHECK-NEXT: %[[SHRINK64:.*]] = arith.subf %{{.*}}, %[[LRWD]] : f64
// CHECK-NEXT: %[[SHRINK:.*]] = arith.truncf %[[SHRINK64]] : f64 to f32
// CHECK: %[[W:.*]]:3 = linalg.generic {{.*}} ins(%[[G]] : tensor<4x3xf32>) outs(%[[P]], %[[M]], %[[V]] :
// CHECK-NEXT: ^bb0(%{{.*}}: f32, %[[PI:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[PS:.*]] = arith.mulf %[[PI]], %[[SHRINK]] : f32
// CHECK: arith.subf %[[PS]], %{{.*}} : f32
// CHECK: return %[[A]]#0, %[[A]]#1, %[[A]]#2, %[[W]]#0
func.func @adam(%p: tensor<4x3xf32>, %g: tensor<4x3xf32>, %m: tensor<4x3xf32>, %v: tensor<4x3xf32>, %lr: tensor<f32>, %step: tensor<i64>)
    -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) {
  %0:3 = kiln.adam %p, %g, %m, %v, %lr, %step
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  %1:3 = kiln.adamw %p, %g, %m, %v, %lr, %step {beta1 = 0.8 : f64, weight_decay = 0.1 : f64}
      : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>)
  return %0#0, %0#1, %0#2, %1#0 : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Learning rates, in f64 from k = step - 1, as an f32 scalar tensor.
// CHECK-LABEL: func.func @schedules(
// CHECK-SAME: %[[STEP:.*]]: tensor<i64>, %[[TOTAL:.*]]: tensor<i64>)
// Constant: lr itself.
// CHECK: %[[C:.*]] = arith.constant 1.000000e-01 : f64
// CHECK-NEXT: %[[C32:.*]] = arith.truncf %[[C]] : f64 to f32
// CHECK-NEXT: %[[CONSTANT:.*]] = tensor.from_elements %[[C32]] : tensor<f32>
// Step: lr gamma^floor(k / every), times the warm-up ramp min(1, (k + 1) / warmup).
// CHECK: %[[S:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK-NEXT: %[[SF:.*]] = arith.sitofp %[[S]] : i64 to f64
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[K:.*]] = arith.subf %[[SF]], %[[ONE]] : f64
// CHECK: %[[LR:.*]] = arith.constant 1.000000e-01 : f64
// CHECK-NEXT: %[[EVERY:.*]] = arith.constant 1.000000e+02 : f64
// CHECK-NEXT: %[[KE:.*]] = arith.divf %[[K]], %[[EVERY]] : f64
// CHECK-NEXT: %[[STAGE:.*]] = math.floor %[[KE]] : f64
// CHECK-NEXT: %[[GAMMA:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[DECAY:.*]] = math.powf %[[GAMMA]], %[[STAGE]] : f64
// CHECK-NEXT: %[[STEPPED:.*]] = arith.mulf %[[LR]], %[[DECAY]] : f64
// CHECK: %[[K1:.*]] = arith.addf %[[K]], %{{.*}} : f64
// CHECK-NEXT: %[[W:.*]] = arith.constant 1.000000e+01 : f64
// CHECK-NEXT: %[[FRAC:.*]] = arith.divf %[[K1]], %[[W]] : f64
// CHECK-NEXT: %[[RAMP:.*]] = arith.minimumf %{{.*}}, %[[FRAC]] : f64
// CHECK-NEXT: %[[SLR:.*]] = arith.mulf %[[STEPPED]], %[[RAMP]] : f64
// CHECK-NEXT: %[[SLR32:.*]] = arith.truncf %[[SLR]] : f64 to f32
// CHECK-NEXT: %[[STEPWISE:.*]] = tensor.from_elements %[[SLR32]] : tensor<f32>
// Cosine: min_lr + (lr - min_lr) (1 + cos(pi t / span)) / 2 with
// t = clamp(k - warmup, 0, span), span = max(total - warmup, 1); during the
// warm-up, lr times the ramp.
// CHECK: %[[S:.*]] = tensor.extract %[[STEP]][] : tensor<i64>
// CHECK-NEXT: %[[SF:.*]] = arith.sitofp %[[S]] : i64 to f64
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[K:.*]] = arith.subf %[[SF]], %[[ONE]] : f64
// CHECK-NEXT: %[[TT:.*]] = tensor.extract %[[TOTAL]][] : tensor<i64>
// CHECK-NEXT: %[[TF:.*]] = arith.sitofp %[[TT]] : i64 to f64
// CHECK: %[[W:.*]] = arith.constant 1.000000e+01 : f64
// CHECK-NEXT: %[[TW:.*]] = arith.subf %[[TF]], %[[W]] : f64
// CHECK: %[[SPAN:.*]] = arith.maximumf %[[TW]], %{{.*}} : f64
// CHECK-NEXT: %[[KW:.*]] = arith.subf %[[K]], %[[W]] : f64
// CHECK: %[[KW0:.*]] = arith.maximumf %[[KW]], %{{.*}} : f64
// CHECK-NEXT: %[[T:.*]] = arith.minimumf %[[KW0]], %[[SPAN]] : f64
// CHECK-NEXT: %[[PI:.*]] = arith.constant 3.1415926535897931 : f64
// CHECK-NEXT: %[[FR:.*]] = arith.divf %[[T]], %[[SPAN]] : f64
// CHECK-NEXT: %[[ANGLE:.*]] = arith.mulf %[[PI]], %[[FR]] : f64
// CHECK-NEXT: %[[COS:.*]] = math.cos %[[ANGLE]] : f64
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f64
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[ONE]], %[[COS]] : f64
// CHECK-NEXT: %[[FACTOR:.*]] = arith.mulf %[[HALF]], %[[SUM]] : f64
// CHECK-NEXT: %[[MIN:.*]] = arith.constant 1.000000e-02 : f64
// CHECK-NEXT: %[[RANGE:.*]] = arith.constant 0.090000000000000011 : f64
// CHECK-NEXT: %[[SCALED:.*]] = arith.mulf %[[RANGE]], %[[FACTOR]] : f64
// CHECK-NEXT: %[[COSINE:.*]] = arith.addf %[[MIN]], %[[SCALED]] : f64
// CHECK: %[[RAMP:.*]] = arith.minimumf
// CHECK-NEXT: %[[WARM:.*]] = arith.constant 1.000000e+01 : f64
// CHECK-NEXT: %[[IN:.*]] = arith.cmpf olt, %[[K]], %[[WARM]] : f64
// CHECK-NEXT: %[[BASE:.*]] = arith.constant 1.000000e-01 : f64
// CHECK-NEXT: %[[RAMPED:.*]] = arith.mulf %[[BASE]], %[[RAMP]] : f64
// CHECK-NEXT: %[[CLR:.*]] = arith.select %[[IN]], %[[RAMPED]], %[[COSINE]] : f64
// CHECK-NEXT: %[[CLR32:.*]] = arith.truncf %[[CLR]] : f64 to f32
// CHECK-NEXT: %[[COSINE_LR:.*]] = tensor.from_elements %[[CLR32]] : tensor<f32>
// CHECK: return %[[CONSTANT]], %[[STEPWISE]], %[[COSINE_LR]]
func.func @schedules(%step: tensor<i64>, %total: tensor<i64>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  %0 = kiln.learning_rate %step, %total {schedule = "constant", lr = 0.1 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  %1 = kiln.learning_rate %step, %total {schedule = "step", lr = 0.1 : f64, warmup = 10 : i64, every = 100 : i64, gamma = 0.5 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  %2 = kiln.learning_rate %step, %total {schedule = "cosine", lr = 0.1 : f64, warmup = 10 : i64, min_lr = 0.01 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
  return %0, %1, %2 : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Clipping by the global norm: every gradient times
// min(1, max_norm / (norm + 1e-6)), the norm over all of them.
// CHECK-LABEL: func.func @clip(
// CHECK-SAME: %[[A:.*]]: tensor<4x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SQA:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[IN]], %[[IN]] : f32
// CHECK: %[[SUMA:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]} ins(%[[SQA]] : tensor<4x3xf32>)
// CHECK: %[[EA:.*]] = tensor.extract %[[SUMA]][] : tensor<f32>
// CHECK-NEXT: %[[ACC:.*]] = arith.addf %[[Z]], %[[EA]] : f32
// CHECK: %[[SQB:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<3xf32>)
// CHECK: %[[SUMB:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[SQB]] : tensor<3xf32>)
// CHECK: %[[EB:.*]] = tensor.extract %[[SUMB]][] : tensor<f32>
// CHECK-NEXT: %[[TOTAL:.*]] = arith.addf %[[ACC]], %[[EB]] : f32
// CHECK-NEXT: %[[NORM:.*]] = math.sqrt %[[TOTAL]] : f32
// CHECK-NEXT: %[[MAXN:.*]] = arith.constant 2.500000e+00 : f32
// CHECK-NEXT: %[[TINY:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %[[NORM]], %[[TINY]] : f32
// CHECK-NEXT: %[[Q:.*]] = arith.divf %[[MAXN]], %[[DEN]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[COEF:.*]] = arith.minimumf %[[Q]], %[[ONE]] : f32
// CHECK: %[[CA:.*]] = linalg.generic {{.*}} ins(%[[A]] : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[IN]], %[[COEF]] : f32
// CHECK: %[[CB:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[IN]], %[[COEF]] : f32
// CHECK: return %[[CA]], %[[CB]]
func.func @clip(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) {
  %0:2 = kiln.clip_grad_norm %a, %b {max_norm = 2.5 : f64} : (tensor<4x3xf32>, tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
  return %0#0, %0#1 : tensor<4x3xf32>, tensor<3xf32>
}

// -----

// A running sum is the destination of its additions, which elementwise
// fusion therefore leaves in place.
// CHECK-LABEL: func.func @accumulate(
// CHECK-SAME: %[[S:.*]]: tensor<4x3xf32>, %[[T:.*]]: tensor<4x3xf32>)
// CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[T]] : tensor<4x3xf32>) outs(%[[S]] : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[OUT]], %[[IN]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: return %[[R]]
func.func @accumulate(%s: tensor<4x3xf32>, %t: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = kiln.accumulate %s, %t : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Runtime calls are left as they are, their operands lowered around them.
// CHECK-LABEL: func.func @runtime_calls(
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: %[[Y:.*]] = kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%[[R]], %{{.*}} : tensor<2x4xf32>, tensor<3x4xf32>)
// CHECK: return %[[Y]]
func.func @runtime_calls(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %r = kiln.relu %x : tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %y = kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%r, %w : tensor<2x4xf32>, tensor<3x4xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
