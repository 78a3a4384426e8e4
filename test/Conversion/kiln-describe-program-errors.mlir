// kiln-describe-program needs a bufferized step, with arguments that slots
// can hold.
// RUN: kiln-opt %s -kiln-describe-program -split-input-file -verify-diagnostics

// expected-error @+1 {{kiln-describe-program needs a step: train_step and eval_step (kiln-build-train-step makes them) or predict_step (kiln-build-predict-step)}}
module {
  func.func @model(%w: memref<4xf32> {kiln.param = "w"}) {
    return
  }
}

// -----

module {
  // expected-error @+1 {{argument 1 of train_step is 'tensor<2xf32>', not a buffer; kiln-describe-program runs after bufferization}}
  func.func @train_step(%w: memref<4xf32> {kiln.param = "w"}, %x: tensor<2xf32> {kiln.input = "x"}) {
    return
  }
  func.func @eval_step(%w: memref<4xf32> {kiln.param = "w"}) {
    return
  }
}

// -----

module {
  func.func @train_step(%w: memref<4xf32> {kiln.param = "w"}) {
    return
  }
  // expected-error @+1 {{argument 0 of eval_step holds 'i32', which no slot can: slots hold f32, f64, i64 or i8}}
  func.func @eval_step(%w: memref<4xi32> {kiln.param = "w"}) {
    return
  }
}

// -----

module {
  // expected-error @+1 {{argument 1 of predict_step holds 'f16', which no slot can: slots hold f32, f64, i64 or i8}}
  func.func @predict_step(%w: memref<4xf32> {kiln.param = "w"}, %y: memref<4xf16> {kiln.output = "y"}) {
    return
  }
}
