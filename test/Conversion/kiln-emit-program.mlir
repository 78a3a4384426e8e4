// kiln-emit-program defines a frame entry for each described step
// (kiln_train_step, kiln_eval_step, kiln_predict_step), which calls the step
// with the pointers of its slots, and kiln_compiled_program {abi,
// description, init, train, eval, predict}, a null pointer for a step that
// the module lacks; everything else becomes internal and loses its kiln
// attributes.
// RUN: kiln-opt %s -kiln-emit-program -split-input-file | FileCheck %s

// CHECK-LABEL: module attributes
// Internal, without kiln attributes (llvm ones stay).
// CHECK: llvm.func internal @train_step(%{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) {
// CHECK: llvm.func internal @eval_step(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) {
// CHECK: llvm.func internal @kiln_init() {
// CHECK: llvm.func @kiln_rt_execute(i64, !llvm.ptr)

// The training step's slots are 0, 1 and 3 of the frame.
// CHECK-LABEL: llvm.func @kiln_train_step(
// CHECK-SAME: %[[FRAME:.*]]: !llvm.ptr) {
// CHECK-NEXT: %[[A0:.*]] = llvm.getelementptr %[[FRAME]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P0:.*]] = llvm.load %[[A0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[A1:.*]] = llvm.getelementptr %[[FRAME]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P1:.*]] = llvm.load %[[A1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[A3:.*]] = llvm.getelementptr %[[FRAME]][3] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[P3:.*]] = llvm.load %[[A3]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: llvm.call @train_step(%[[P0]], %[[P1]], %[[P3]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: llvm.return

// The evaluation step's are 0 and 2.
// CHECK-LABEL: llvm.func @kiln_eval_step(
// CHECK-SAME: %[[FRAME:.*]]: !llvm.ptr) {
// CHECK-NEXT: %[[A0:.*]] = llvm.getelementptr %[[FRAME]][0]
// CHECK-NEXT: %[[P0:.*]] = llvm.load %[[A0]]
// CHECK-NEXT: %[[A2:.*]] = llvm.getelementptr %[[FRAME]][2]
// CHECK-NEXT: %[[P2:.*]] = llvm.load %[[A2]]
// CHECK-NEXT: llvm.call @eval_step(%[[P0]], %[[P2]]) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: llvm.return

// The description is a NUL-terminated string.
// CHECK: llvm.mlir.global internal constant @kiln_description("{\22abi\22:1}\00")
// CHECK: llvm.mlir.global external constant @kiln_compiled_program() {{.*}} : !llvm.struct<(i32, ptr, ptr, ptr, ptr, ptr)> {
// CHECK-NEXT: %[[U:.*]] = llvm.mlir.undef : !llvm.struct<(i32, ptr, ptr, ptr, ptr, ptr)>
// CHECK-NEXT: %[[ABI:.*]] = llvm.mlir.constant({{[0-9]+}} : i32) : i32
// CHECK-NEXT: %[[D:.*]] = llvm.mlir.addressof @kiln_description : !llvm.ptr
// CHECK-NEXT: %[[I:.*]] = llvm.mlir.addressof @kiln_init : !llvm.ptr
// CHECK-NEXT: %[[T:.*]] = llvm.mlir.addressof @kiln_train_step : !llvm.ptr
// CHECK-NEXT: %[[E:.*]] = llvm.mlir.addressof @kiln_eval_step : !llvm.ptr
// CHECK-NEXT: %[[P:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: %[[V0:.*]] = llvm.insertvalue %[[ABI]], %[[U]][0]
// CHECK-NEXT: %[[V1:.*]] = llvm.insertvalue %[[D]], %[[V0]][1]
// CHECK-NEXT: %[[V2:.*]] = llvm.insertvalue %[[I]], %[[V1]][2]
// CHECK-NEXT: %[[V3:.*]] = llvm.insertvalue %[[T]], %[[V2]][3]
// CHECK-NEXT: %[[V4:.*]] = llvm.insertvalue %[[E]], %[[V3]][4]
// CHECK-NEXT: %[[V5:.*]] = llvm.insertvalue %[[P]], %[[V4]][5]
// CHECK-NEXT: llvm.return %[[V5]] : !llvm.struct<(i32, ptr, ptr, ptr, ptr, ptr)>
module attributes {kiln.description = "{\22abi\22:1}", kiln.train_slots = array<i64: 0, 1, 3>, kiln.eval_slots = array<i64: 0, 2>} {
  llvm.func @train_step(%w: !llvm.ptr {kiln.param = "w", llvm.noalias}, %x: !llvm.ptr {kiln.input = "x"}, %arena: !llvm.ptr {kiln.arena})
      attributes {kiln.flops = 10 : i64} {
    llvm.return
  }
  llvm.func @eval_step(%w: !llvm.ptr {kiln.param = "w"}, %p: !llvm.ptr {kiln.output = "predictions"}) {
    llvm.return
  }
  llvm.func @kiln_init() {
    llvm.return
  }
  llvm.func @kiln_rt_execute(i64, !llvm.ptr)
}

// -----

// Steps without arguments read nothing from the frame.
// CHECK-LABEL: llvm.func @kiln_train_step(
// CHECK-NEXT: llvm.call @train_step() : () -> ()
// CHECK-NEXT: llvm.return
// CHECK-LABEL: llvm.func @kiln_eval_step(
// CHECK-NEXT: llvm.call @eval_step() : () -> ()
// CHECK-NEXT: llvm.return
module attributes {kiln.description = "{}", kiln.train_slots = array<i64>, kiln.eval_slots = array<i64>} {
  llvm.func @train_step() {
    llvm.return
  }
  llvm.func @eval_step() {
    llvm.return
  }
  llvm.func @kiln_init() {
    llvm.return
  }
}

// -----

// An inference library: the prediction step alone, the others null.
// CHECK-LABEL: llvm.func @kiln_predict_step(
// CHECK-SAME: %[[FRAME:.*]]: !llvm.ptr) {
// CHECK-NEXT: %[[A1:.*]] = llvm.getelementptr %[[FRAME]][1]
// CHECK-NEXT: %[[P1:.*]] = llvm.load %[[A1]]
// CHECK-NEXT: %[[A0:.*]] = llvm.getelementptr %[[FRAME]][0]
// CHECK-NEXT: %[[P0:.*]] = llvm.load %[[A0]]
// CHECK-NEXT: llvm.call @predict_step(%[[P1]], %[[P0]]) : (!llvm.ptr, !llvm.ptr) -> ()
// CHECK: %[[NONE:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: %[[NONE2:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: %[[P:.*]] = llvm.mlir.addressof @kiln_predict_step : !llvm.ptr
// CHECK: llvm.insertvalue %[[NONE]], %{{.*}}[3]
// CHECK-NEXT: llvm.insertvalue %[[NONE2]], %{{.*}}[4]
// CHECK-NEXT: llvm.insertvalue %[[P]], %{{.*}}[5]
module attributes {kiln.description = "{}", kiln.predict_slots = array<i64: 1, 0>} {
  llvm.func @predict_step(%w: !llvm.ptr {kiln.param = "w"}, %y: !llvm.ptr {kiln.output = "y"}) {
    llvm.return
  }
  llvm.func @kiln_init() {
    llvm.return
  }
}
