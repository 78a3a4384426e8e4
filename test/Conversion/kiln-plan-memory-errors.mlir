// kiln-plan-memory places buffers of static size allocated at the top level
// of a step; it refuses the others.
// RUN: kiln-opt %s -kiln-plan-memory -split-input-file -verify-diagnostics

func.func @in_region(%x: memref<4xf32>, %lo: index, %hi: index) {
  scf.for %i = %lo to %hi step %hi {
    // expected-error @+1 {{'memref.alloc' op is inside a region; the memory plan needs every buffer of a step at its top level}}
    %a = memref.alloc() : memref<4xf32>
    memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  }
  return
}

// -----

func.func @dynamic(%n: index) {
  // expected-error @+1 {{'memref.alloc' op needs a static shape and the identity layout to be placed in the arena}}
  %a = memref.alloc(%n) : memref<?xf32>
  return
}

// -----

func.func @strided() {
  // expected-error @+1 {{'memref.alloc' op needs a static shape and the identity layout to be placed in the arena}}
  %a = memref.alloc() : memref<4x4xf32, strided<[1, 4]>>
  return
}
