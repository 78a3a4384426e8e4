// kiln-results-to-slots runs after bufferization: every result is a buffer.
// RUN: kiln-opt %s -kiln-results-to-slots -split-input-file -verify-diagnostics

// expected-error @+1 {{'func.func' op returns a value that is not a buffer: 'f32'}}
func.func @scalar(%x: memref<f32>) -> f32 {
  %c0 = arith.constant 0.0 : f32
  return %c0 : f32
}

// -----

// expected-error @+1 {{'func.func' op returns a value that is not a buffer: 'tensor<4xf32>'}}
func.func @not_bufferized(%x: tensor<4xf32>) -> (memref<f32>, tensor<4xf32>) {
  %r = memref.alloc() : memref<f32>
  %t = arith.addf %x, %x : tensor<4xf32>
  return %r, %t : memref<f32>, tensor<4xf32>
}
