// kiln-run's errors: each names what is wrong, and the exit status is 1.
// The function @make writes the input file of the others.

// RUN: kiln-run %s -function make -outputs %t.safetensors

// RUN: not kiln-run %s -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SEVERAL
// SEVERAL: kiln-run: error: {{.*}}kiln-run-errors.mlir has 7 functions (@make, @missing, @shape, @dtype, @ids, @call, @twice); choose one with -function

// RUN: not kiln-run %s -function nope -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOPE
// NOPE: kiln-run: error: {{.*}}kiln-run-errors.mlir has no function @nope; its functions are: @make, @missing,

// RUN: not kiln-run %s -function missing -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-INPUTS
// NO-INPUTS: kiln-run: error: @missing has arguments; give a file of their tensors with -inputs

// RUN: not kiln-run %s -function missing -inputs %t.absent.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ABSENT
// ABSENT: kiln-run: error: {{.*}}.absent.safetensors: byte 0: cannot open the file (No such file or directory); check the path and its permissions

func.func @make() -> (tensor<2x3xf32> {kiln.output = "x"}, tensor<2xi64> {kiln.output = "ids"}) {
  %x = kiln.constant dense<1.5> : tensor<2x3xf32>
  %ids = kiln.constant dense<[0, 7]> : tensor<2xi64>
  return %x, %ids : tensor<2x3xf32>, tensor<2xi64>
}

// RUN: not kiln-run %s -function missing -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=MISSING
// MISSING: kiln-run: error: {{.*}}.safetensors has no tensor 'arg0' for argument #0 of @missing; add it to the file
func.func @missing(%a: tensor<2xf32>) -> tensor<2xf32> {
  return %a : tensor<2xf32>
}

// RUN: not kiln-run %s -function shape -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE
// SHAPE: kiln-run: error: {{.*}}.safetensors: tensor 'x' has shape [2, 3] but argument #0 of @shape expects [3, 2]
func.func @shape(%x: tensor<3x2xf32> {kiln.input = "x"}) -> tensor<3x2xf32> {
  return %x : tensor<3x2xf32>
}

// RUN: not kiln-run %s -function dtype -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DTYPE
// DTYPE: kiln-run: error: {{.*}}.safetensors: tensor 'x' is F32 but argument #0 of @dtype needs F64
func.func @dtype(%x: tensor<2x3xf64> {kiln.input = "x"}) -> tensor<2x3xf64> {
  return %x : tensor<2x3xf64>
}

// RUN: not kiln-run %s -function ids -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=IDS
func.func @ids(%ids: tensor<2xi64> {kiln.input = "ids"}, %table: tensor<2x3xf32> {kiln.input = "x"}) -> tensor<2x3xf32> {
  // IDS: kiln-run-errors.mlir:[[@LINE+1]]:8: error: 'kiln.embedding' op id 7 at position [1] is outside [0, 2), the rows of the table
  %e = kiln.embedding %ids, %table : (tensor<2xi64>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %e : tensor<2x3xf32>
}

// RUN: not kiln-run %s -function call -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CALL
func.func @call(%x: tensor<2x3xf32> {kiln.input = "x"}) -> tensor<2x3xf32> {
  // CALL: kiln-run-errors.mlir:[[@LINE+1]]:10: error: the reference evaluator does not implement 'func.call'
  %y:2 = func.call @make() : () -> (tensor<2x3xf32>, tensor<2xi64>)
  return %y#0 : tensor<2x3xf32>
}

// RUN: not kiln-run %s -function twice -inputs %t.safetensors -outputs %t.out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TWICE
// TWICE: kiln-run: error: @twice has two results named 'y'; a safetensors file holds one tensor per name
func.func @twice(%x: tensor<2x3xf32> {kiln.input = "x"}) -> (tensor<2x3xf32> {kiln.output = "y"}, tensor<2x3xf32> {kiln.output = "y"}) {
  return %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// RUN: not kiln-run %s -function make -outputs %t.missing/out.safetensors 2>&1 \
// RUN:   | FileCheck %s --check-prefix=WRITE
// WRITE: kiln-run: error: {{.*}}.missing/out.safetensors: cannot create a temporary file in '{{.*}}.missing' (No such file or directory); check that the directory exists and is writable

// RUN: not kiln-run %s -function make -outputs %t.out.safetensors -precision f16 2>&1 \
// RUN:   | FileCheck %s --check-prefix=PRECISION
// PRECISION: kiln-run: for the --precision option: Cannot find option named 'f16'!
