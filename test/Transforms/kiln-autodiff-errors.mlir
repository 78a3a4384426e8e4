// What kiln-autodiff rejects.
// RUN: kiln-opt %s -kiln-autodiff -split-input-file -verify-diagnostics
// RUN: not kiln-opt %s -kiln-autodiff=wrt=inputs -split-input-file 2>&1 | FileCheck %s --check-prefix=WRT
// WRT: error: kiln-autodiff: wrt must be 'params' or 'all', got 'inputs'

func.func @no_rule(%w: tensor<4xf32> {kiln.param = "w"}, %x: tensor<4xf32>) -> (tensor<f32> {kiln.output = "loss"}) {
  // expected-error @+1 {{'kiln.relu_backward' op has no gradient, but a differentiated argument reaches the loss through it}}
  %0 = kiln.relu_backward %w, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %loss = kiln.reduce_sum %0 {axes = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @+1 {{'func.func' op result #0 is differentiated, so it must be a float scalar, got 'tensor<4xf32>'}}
func.func @vector_loss(%w: tensor<4xf32> {kiln.param = "w"}) -> (tensor<4xf32> {kiln.output = "loss"}) {
  %0 = kiln.relu %w : tensor<4xf32>
  return %0 : tensor<4xf32>
}

