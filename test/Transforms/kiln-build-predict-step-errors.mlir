// What kiln-build-predict-step needs.
// RUN: not kiln-opt %s -kiln-build-predict-step -split-input-file 2>&1 | FileCheck %s

// CHECK: error: kiln-build-predict-step needs exactly one model function besides the steps and gradients
module {
  func.func @a(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "y"}) {
    return %w : tensor<f32>
  }
  func.func @b(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "y"}) {
    return %w : tensor<f32>
  }
}

// -----

// CHECK: error: kiln-build-predict-step needs exactly one model function besides the steps and gradients
module {
}

// -----

// CHECK: error: kiln-build-predict-step: the model returns only its loss and metric; return the forward's outputs too
module {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
}
