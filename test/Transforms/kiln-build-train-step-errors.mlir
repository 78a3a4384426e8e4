// What kiln-build-train-step needs.
// RUN: not kiln-opt %s -kiln-build-train-step -split-input-file 2>&1 | FileCheck %s

// CHECK: error: kiln-build-train-step needs the module attribute kiln.recipe; a Kiln file's train section gives it
module {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
}

// -----

// CHECK: error: kiln-build-train-step found no function with a result named kiln.output = "loss"
module attributes {kiln.recipe = {optimizer = {kind = "sgd", lr = 1.0 : f64}, schedule = {kind = "constant"}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> tensor<f32> {
    return %w : tensor<f32>
  }
}
