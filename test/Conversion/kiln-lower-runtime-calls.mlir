// kiln-lower-runtime-calls turns each bufferized runtime call into
// kiln_rt_execute(site, args), the buffers' addresses in an array on the
// stack, and defines kiln_init, which creates every site once, in site order,
// with kiln_rt_create(site, kind, size of config, config).
// RUN: kiln-opt %s -kiln-lower-runtime-calls -split-input-file | FileCheck %s

// One constant global per site holds its config.
// CHECK-DAG: llvm.mlir.global internal constant @kiln_config_0(dense<[1, 2, 3, 4, 0, 1, 0, 0, 0, 0]> : tensor<10xi64>) {{.*}} : !llvm.array<10 x i64>
// CHECK-DAG: llvm.mlir.global internal constant @kiln_config_1(dense<[2, 3, 1, 0]> : tensor<4xi64>) {{.*}} : !llvm.array<4 x i64>
// CHECK-DAG: llvm.mlir.global internal constant @kiln_config_2(dense<[1, 2, 3, 4, 0, 1, 0, 0, 0, 0]> : tensor<10xi64>) {{.*}} : !llvm.array<10 x i64>
// CHECK-NOT: @kiln_config_

// Each call stores the aligned pointers of its inputs, then of its outputs,
// in its own array.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %[[X:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<3x4xf32>, %[[Y:.*]]: memref<2x3xf32>)
// CHECK-NEXT: %[[N:.*]] = llvm.mlir.constant(3 : i64) : i64
// CHECK-NEXT: %[[ARGS:.*]] = llvm.alloca %[[N]] x !llvm.ptr : (i64) -> !llvm.ptr
// CHECK-NEXT: %[[S0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[I0:.*]] = memref.extract_aligned_pointer_as_index %[[X]] : memref<2x4xf32> -> index
// CHECK-NEXT: %[[J0:.*]] = arith.index_cast %[[I0]] : index to i64
// CHECK-NEXT: %[[P0:.*]] = llvm.inttoptr %[[J0]] : i64 to !llvm.ptr
// CHECK-NEXT: llvm.store %[[P0]], %[[S0]] : !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[S1:.*]] = llvm.getelementptr %[[ARGS]][1]
// CHECK-NEXT: %[[I1:.*]] = memref.extract_aligned_pointer_as_index %[[W]]
// CHECK-NEXT: %[[J1:.*]] = arith.index_cast %[[I1]]
// CHECK-NEXT: %[[P1:.*]] = llvm.inttoptr %[[J1]]
// CHECK-NEXT: llvm.store %[[P1]], %[[S1]]
// CHECK-NEXT: %[[S2:.*]] = llvm.getelementptr %[[ARGS]][2]
// CHECK-NEXT: %[[I2:.*]] = memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK-NEXT: %[[J2:.*]] = arith.index_cast %[[I2]]
// CHECK-NEXT: %[[P2:.*]] = llvm.inttoptr %[[J2]]
// CHECK-NEXT: llvm.store %[[P2]], %[[S2]]
// CHECK-NEXT: %[[SITE:.*]] = arith.constant 2 : i64
// CHECK-NEXT: call @kiln_rt_execute(%[[SITE]], %[[ARGS]]) : (i64, !llvm.ptr) -> ()
// CHECK-NEXT: return
func.func @eval_step(%x: memref<2x4xf32>, %w: memref<3x4xf32>, %y: memref<2x3xf32>) {
  kiln.runtime_call <matmul> site 2 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%x, %w : memref<2x4xf32>, memref<3x4xf32>) outs(%y : memref<2x3xf32>)
  return
}

// A site may be executed more than once; it is created once.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:.*]]: memref<2x4xf32>, %[[W:.*]]: memref<3x4xf32>, %[[Y:.*]]: memref<2x3xf32>, %[[S:.*]]: memref<2x3xf32>)
// CHECK: llvm.alloca
// CHECK: llvm.getelementptr %[[A1:.*]][0]
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[X]]
// CHECK: %[[SITE0:.*]] = arith.constant 0 : i64
// CHECK-NEXT: call @kiln_rt_execute(%[[SITE0]], %[[A1]])
// CHECK-NEXT: llvm.getelementptr %[[A2:.*]][0]
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[Y]]
// CHECK: llvm.getelementptr %[[A2]][1]
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[S]]
// CHECK: %[[SITE1:.*]] = arith.constant 1 : i64
// CHECK-NEXT: call @kiln_rt_execute(%[[SITE1]], %[[A2]])
// CHECK-NEXT: llvm.getelementptr %[[A3:.*]][0]
// CHECK: %[[SITE0B:.*]] = arith.constant 0 : i64
// CHECK-NEXT: call @kiln_rt_execute(%[[SITE0B]], %[[A3]])
// CHECK-NOT: kiln.runtime_call
// CHECK: return
func.func @train_step(%x: memref<2x4xf32>, %w: memref<3x4xf32>, %y: memref<2x3xf32>, %s: memref<2x3xf32>) {
  kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%x, %w : memref<2x4xf32>, memref<3x4xf32>) outs(%y : memref<2x3xf32>)
  kiln.runtime_call <softmax_forward> site 1 config [2, 3, 1, 0] ins(%y : memref<2x3xf32>) outs(%s : memref<2x3xf32>)
  kiln.runtime_call <matmul> site 0 config [1, 2, 3, 4, 0, 1, 0, 0, 0, 0] ins(%x, %w : memref<2x4xf32>, memref<3x4xf32>) outs(%y : memref<2x3xf32>)
  return
}

// CHECK: func.func private @kiln_rt_create(i64, i32, i32, !llvm.ptr)
// CHECK: func.func private @kiln_rt_execute(i64, !llvm.ptr)
// Kinds: 6 is matmul, 7 softmax_forward (kiln_runtime.h's numbers).
// CHECK-LABEL: func.func @kiln_init() {
// CHECK-NEXT: %[[C0:.*]] = llvm.mlir.addressof @kiln_config_0 : !llvm.ptr
// CHECK-NEXT: %[[SITE:.*]] = arith.constant 0 : i64
// CHECK-NEXT: %[[KIND:.*]] = arith.constant 6 : i32
// CHECK-NEXT: %[[SIZE:.*]] = arith.constant 10 : i32
// CHECK-NEXT: call @kiln_rt_create(%[[SITE]], %[[KIND]], %[[SIZE]], %[[C0]]) : (i64, i32, i32, !llvm.ptr) -> ()
// CHECK-NEXT: %[[C1:.*]] = llvm.mlir.addressof @kiln_config_1 : !llvm.ptr
// CHECK-NEXT: %[[SITE:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[KIND:.*]] = arith.constant 7 : i32
// CHECK-NEXT: %[[SIZE:.*]] = arith.constant 4 : i32
// CHECK-NEXT: call @kiln_rt_create(%[[SITE]], %[[KIND]], %[[SIZE]], %[[C1]])
// CHECK-NEXT: %[[C2:.*]] = llvm.mlir.addressof @kiln_config_2 : !llvm.ptr
// CHECK-NEXT: %[[SITE:.*]] = arith.constant 2 : i64
// CHECK-NEXT: %[[KIND:.*]] = arith.constant 6 : i32
// CHECK-NEXT: %[[SIZE:.*]] = arith.constant 10 : i32
// CHECK-NEXT: call @kiln_rt_create(%[[SITE]], %[[KIND]], %[[SIZE]], %[[C2]])
// CHECK-NEXT: return

// -----

// An empty config still gets a global (LLVM has no empty constant arrays),
// but the runtime is told it has no values. Calls in regions keep their
// array in the entry block.
// CHECK: llvm.mlir.global internal constant @kiln_config_5(dense<0> : tensor<1xi64>) {{.*}} : !llvm.array<1 x i64>
// CHECK-LABEL: func.func @nested(
// CHECK-NEXT: llvm.mlir.constant(2 : i64) : i64
// CHECK-NEXT: %[[ARGS:.*]] = llvm.alloca
// CHECK: scf.for
// CHECK: call @kiln_rt_execute(%{{.*}}, %[[ARGS]])
// CHECK-LABEL: func.func @kiln_init() {
// CHECK: %[[SIZE:.*]] = arith.constant 0 : i32
// CHECK-NEXT: call @kiln_rt_create(%{{.*}}, %{{.*}}, %[[SIZE]], %{{.*}})
func.func @nested(%x: memref<4xf32>, %y: memref<4xf32>, %lo: index, %hi: index) {
  scf.for %i = %lo to %hi step %hi {
    kiln.runtime_call <softmax_forward> site 5 config [] ins(%x : memref<4xf32>) outs(%y : memref<4xf32>)
  }
  return
}

// -----

// Without runtime calls, kiln_init does nothing.
// CHECK-LABEL: func.func @kiln_init() {
// CHECK-NEXT: return
func.func @step(%x: memref<4xf32>) {
  return
}
