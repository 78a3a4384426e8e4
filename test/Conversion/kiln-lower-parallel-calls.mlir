// kiln-lower-parallel-calls gives each parallel body a task that reads its
// arguments from a struct, and turns each call of a body into the struct on
// the caller's stack and a call of kiln_rt_parallel_for over end - begin.
// RUN: kiln-opt %s -kiln-lower-parallel-calls | FileCheck %s

// CHECK-LABEL: llvm.func @step(
// CHECK-SAME: %[[P:.*]]: !llvm.ptr, %[[S:.*]]: f32)
// CHECK: %[[ONE:.*]] = llvm.mlir.constant(1 : i64) : i64
// CHECK: %[[FRAME:.*]] = llvm.alloca %[[ONE]] x !llvm.struct<(i64, i64, ptr, f32)>
// CHECK: %[[BEGIN:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: %[[END:.*]] = llvm.mlir.constant(4096 : i64) : i64
// CHECK: %[[F0:.*]] = llvm.getelementptr %[[FRAME]][0, 0]
// CHECK: llvm.store %[[BEGIN]], %[[F0]] : i64, !llvm.ptr
// CHECK: %[[F1:.*]] = llvm.getelementptr %[[FRAME]][0, 1]
// CHECK: llvm.store %[[END]], %[[F1]] : i64, !llvm.ptr
// CHECK: %[[F2:.*]] = llvm.getelementptr %[[FRAME]][0, 2]
// CHECK: llvm.store %[[P]], %[[F2]] : !llvm.ptr, !llvm.ptr
// CHECK: %[[F3:.*]] = llvm.getelementptr %[[FRAME]][0, 3]
// CHECK: llvm.store %[[S]], %[[F3]] : f32, !llvm.ptr
// CHECK: %[[COUNT:.*]] = llvm.sub %[[END]], %[[BEGIN]] : i64
// CHECK: %[[TASK:.*]] = llvm.mlir.addressof @body_task : !llvm.ptr
// CHECK: llvm.call @kiln_rt_parallel_for(%[[TASK]], %[[FRAME]], %[[COUNT]]) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK-NOT: llvm.call @body(
// CHECK: llvm.return
// The task calls the body on [start + begin, start + end).
// CHECK-LABEL: llvm.func internal @body_task(
// CHECK-SAME: %[[CONTEXT:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[START:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: %[[PTR:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[SCALE:.*]] = llvm.load %{{.*}} : !llvm.ptr -> f32
// CHECK: %[[FROM:.*]] = llvm.add %[[START]], %[[B]] : i64
// CHECK: %[[TO:.*]] = llvm.add %[[START]], %[[E]] : i64
// CHECK: llvm.call @body(%[[FROM]], %[[TO]], %[[PTR]], %[[SCALE]])
// CHECK: llvm.func @kiln_rt_parallel_for(!llvm.ptr, !llvm.ptr, i64)
llvm.func @body(%begin: i64, %end: i64, %p: !llvm.ptr, %s: f32) attributes {kiln.parallel_body} {
  llvm.return
}
llvm.func @step(%p: !llvm.ptr, %s: f32) {
  %begin = llvm.mlir.constant(0 : i64) : i64
  %end = llvm.mlir.constant(4096 : i64) : i64
  llvm.call @body(%begin, %end, %p, %s) : (i64, i64, !llvm.ptr, f32) -> ()
  llvm.return
}
