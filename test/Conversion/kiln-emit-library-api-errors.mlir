// What kiln-emit-library-api needs: the program that kiln-emit-program
// defines, with a prediction step, and names that are free.
// RUN: kiln-opt %s -kiln-emit-library-api -split-input-file -verify-diagnostics
// RUN: not kiln-opt %S/kiln-emit-library-api.mlir -kiln-emit-library-api=prefix=9lives 2>&1 | FileCheck %s --check-prefix=PREFIX
// PREFIX: kiln-emit-library-api: the program's description cannot name C functions '9lives_...'

// expected-error @+1 {{kiln-emit-library-api needs kiln_compiled_program and its description (kiln-emit-program makes them)}}
module attributes {kiln.description = "{}"} {
}

// -----

// expected-error @+1 {{kiln-emit-library-api: the program's description has no prediction step}}
module attributes {kiln.description = "{\22model\22:\22m\22,\22slots\22:[]}"} {
  llvm.mlir.global external constant @kiln_compiled_program() : i32 {
    %0 = llvm.mlir.constant(3 : i32) : i32
    llvm.return %0 : i32
  }
}

// -----

// expected-error @+1 {{kiln-emit-library-api: the module already has a symbol 'm_run'; choose another prefix}}
module attributes {kiln.description = "{\22model\22:\22m\22,\22predict\22:{\22slots\22:[0,1]},\22slots\22:[{\22name\22:\22x\22,\22role\22:\22input\22,\22dtype\22:\22f32\22,\22shape\22:[1]},{\22name\22:\22y\22,\22role\22:\22output\22,\22dtype\22:\22f32\22,\22shape\22:[1]}]}"} {
  llvm.mlir.global external constant @kiln_compiled_program() : i32 {
    %0 = llvm.mlir.constant(3 : i32) : i32
    llvm.return %0 : i32
  }
  llvm.func @m_run()
}
