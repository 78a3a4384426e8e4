// kiln-emit-program needs what kiln-describe-program records, kiln_init, and
// each described step converted to LLVM with one pointer per slot.
// RUN: kiln-opt %s -kiln-emit-program -split-input-file -verify-diagnostics

// expected-error @+1 {{kiln-emit-program needs the description that kiln-describe-program records}}
module attributes {kiln.train_slots = array<i64: 0>, kiln.eval_slots = array<i64: 0>} {
  llvm.func @train_step(%w: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{kiln-emit-program needs the LLVM function kiln_init (kiln-lower-runtime-calls makes it)}}
module attributes {kiln.description = "{}", kiln.train_slots = array<i64: 0>} {
}

// -----

// expected-error @+1 {{kiln-emit-program needs the LLVM function kiln_init (kiln-lower-runtime-calls makes it)}}
module attributes {kiln.description = "{}", kiln.train_slots = array<i64: 0>, kiln.eval_slots = array<i64: 0>} {
  llvm.func @train_step(%w: !llvm.ptr) {
    llvm.return
  }
  llvm.func @eval_step(%w: !llvm.ptr) {
    llvm.return
  }
}

// -----

// The steps are still func.func: they were not converted to LLVM.
// expected-error @+1 {{kiln-emit-program needs the LLVM function train_step}}
module attributes {kiln.description = "{}", kiln.train_slots = array<i64: 0>, kiln.eval_slots = array<i64: 0>} {
  llvm.func @kiln_init() {
    llvm.return
  }
  func.func @train_step(%w: memref<4xf32>) {
    return
  }
}

// -----

// expected-error @+1 {{kiln-emit-program needs the LLVM function eval_step}}
module attributes {kiln.description = "{}", kiln.train_slots = array<i64: 0>, kiln.eval_slots = array<i64: 0>} {
  llvm.func @kiln_init() {
    llvm.return
  }
  llvm.func @train_step(%w: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Converted with memref descriptors, a step takes more arguments than it has
// slots.
module attributes {kiln.description = "{}", kiln.train_slots = array<i64: 0>, kiln.eval_slots = array<i64: 0>} {
  llvm.func @kiln_init() {
    llvm.return
  }
  // expected-error @+1 {{takes 5 arguments but has 1 slots; convert it with bare pointers}}
  llvm.func @train_step(%base: !llvm.ptr, %aligned: !llvm.ptr, %offset: i64, %size: i64, %stride: i64) {
    llvm.return
  }
  llvm.func @eval_step(%w: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{kiln-emit-program needs the LLVM function predict_step}}
module attributes {kiln.description = "{}", kiln.predict_slots = array<i64: 0>} {
  llvm.func @kiln_init() {
    llvm.return
  }
}
