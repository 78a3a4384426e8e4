// kiln-emit-library-api defines an inference library's C API over its
// program: <prefix>_load, _run (the model, then the prediction step's
// inputs and outputs in order), _last_error and _free, each calling the
// runtime's kiln_model_*; kiln_compiled_program becomes internal.
// RUN: kiln-opt %s -kiln-emit-library-api | FileCheck %s
// RUN: kiln-opt %s -kiln-emit-library-api=prefix=digits | FileCheck %s --check-prefix=PREFIX

// CHECK: llvm.mlir.global internal constant @kiln_compiled_program()
// CHECK: llvm.func @kiln_model_load(!llvm.ptr, !llvm.ptr, i32) -> !llvm.ptr
// CHECK: llvm.func @kiln_model_run(!llvm.ptr, !llvm.ptr) -> i32
// CHECK: llvm.func @kiln_model_last_error() -> !llvm.ptr
// CHECK: llvm.func @kiln_model_free(!llvm.ptr)

// CHECK-LABEL: llvm.func @mlp_load(%arg0: !llvm.ptr, %arg1: i32) -> !llvm.ptr {
// CHECK-NEXT: %[[P:.*]] = llvm.mlir.addressof @kiln_compiled_program : !llvm.ptr
// CHECK-NEXT: %[[M:.*]] = llvm.call @kiln_model_load(%[[P]], %arg0, %arg1)
// CHECK-NEXT: llvm.return %[[M]] : !llvm.ptr

// Two inputs and one output: the arguments after the model, stored in order.
// CHECK-LABEL: llvm.func @mlp_run(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr, %arg3: !llvm.ptr) -> i32 {
// CHECK: %[[IO:.*]] = llvm.alloca %{{.*}} x !llvm.array<3 x ptr>
// CHECK: %[[A0:.*]] = llvm.getelementptr %[[IO]][0]
// CHECK-NEXT: llvm.store %arg1, %[[A0]]
// CHECK-NEXT: %[[A1:.*]] = llvm.getelementptr %[[IO]][1]
// CHECK-NEXT: llvm.store %arg2, %[[A1]]
// CHECK-NEXT: %[[A2:.*]] = llvm.getelementptr %[[IO]][2]
// CHECK-NEXT: llvm.store %arg3, %[[A2]]
// CHECK-NEXT: %[[R:.*]] = llvm.call @kiln_model_run(%arg0, %[[IO]])
// CHECK-NEXT: llvm.return %[[R]] : i32

// CHECK-LABEL: llvm.func @mlp_last_error() -> !llvm.ptr {
// CHECK-NEXT: llvm.call @kiln_model_last_error()
// CHECK-LABEL: llvm.func @mlp_free(%arg0: !llvm.ptr) {
// CHECK-NEXT: llvm.call @kiln_model_free(%arg0)
// CHECK-NEXT: llvm.return

// PREFIX: llvm.func @digits_load(
// PREFIX: llvm.func @digits_run(
// PREFIX: llvm.func @digits_last_error(
// PREFIX: llvm.func @digits_free(
module attributes {kiln.description = "{\22model\22:\22mlp\22,\22predict\22:{\22slots\22:[0,1,2,3,4]},\22slots\22:[{\22name\22:\22w\22,\22role\22:\22param\22,\22dtype\22:\22f32\22,\22shape\22:[2,4]},{\22name\22:\22x\22,\22role\22:\22input\22,\22dtype\22:\22f32\22,\22shape\22:[1,4]},{\22name\22:\22mask\22,\22role\22:\22input\22,\22dtype\22:\22i64\22,\22shape\22:[1,4]},{\22name\22:\22y\22,\22role\22:\22output\22,\22dtype\22:\22f32\22,\22shape\22:[1,2]},{\22name\22:\22arena\22,\22role\22:\22arena\22,\22dtype\22:\22u8\22,\22shape\22:[64]}]}"} {
  llvm.mlir.global external constant @kiln_compiled_program() : i32 {
    %0 = llvm.mlir.constant(3 : i32) : i32
    llvm.return %0 : i32
  }
}
