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

// -----

// CHECK: error: kiln.recipe's accumulate must be positive, got 0
module attributes {kiln.recipe = {accumulate = 0 : i64, optimizer = {kind = "sgd", lr = 1.0 : f64}, schedule = {kind = "constant"}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
}

// -----

// Micro-batches are slices of the batch dimension, which must be known.
// CHECK: error: accumulating micro-batches needs inputs with a static batch dimension first, got 'tensor<f32>'
module attributes {kiln.recipe = {accumulate = 2 : i64, optimizer = {kind = "sgd", lr = 1.0 : f64}, schedule = {kind = "constant"}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}, %x: tensor<f32> {kiln.input = "x"}) -> (tensor<f32> {kiln.output = "loss"}) {
    %0 = kiln.mul %w, %x : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// The count of correct predictions is taken over the micro-batches' joined
// predictions and labels, which kiln.count_equal names.
// CHECK: error: accumulating micro-batches needs the result kiln.output = "correct" from kiln.count_equal
module attributes {kiln.recipe = {accumulate = 2 : i64, optimizer = {kind = "sgd", lr = 1.0 : f64}, schedule = {kind = "constant"}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}, %x: tensor<2xf32> {kiln.input = "x"})
      -> (tensor<f32> {kiln.output = "loss"}, tensor<i64> {kiln.output = "correct"}) {
    %c = kiln.argmax %x {axis = 0 : i64} : (tensor<2xf32>) -> tensor<i64>
    return %w, %c : tensor<f32>, tensor<i64>
  }
}

// -----

// A gradient function of the model that is not with respect to its
// parameters (here it lacks the gradient of w).
// CHECK: error: 'func.func' op is the gradient function of @m, but not with respect to its 1 parameters: it must take @m's arguments and return its results, then one gradient per parameter, in order, named kiln.grad = <parameter> (as kiln-autodiff builds it)
module attributes {kiln.recipe = {optimizer = {kind = "sgd", lr = 1.0 : f64}, schedule = {kind = "constant"}}} {
  func.func @m(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) {
    return %w : tensor<f32>
  }
  func.func @m_grad(%w: tensor<f32> {kiln.param = "w"}) -> (tensor<f32> {kiln.output = "loss"}) attributes {kiln.gradient_of = @m} {
    return %w : tensor<f32>
  }
}
