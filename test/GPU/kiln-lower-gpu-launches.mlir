// RUN: kiln-opt --kiln-lower-gpu-launches --split-input-file --verify-diagnostics %s | FileCheck %s

// The binary becomes a global (PTX gets its NUL), kiln_init registers it with
// the kernels' names in the order of their numbers, and each launch becomes
// a call with its parameters in a shared array of 8-byte slots.
// CHECK-NOT: gpu.container_module
// CHECK: kiln.description = "{\22abi\22: 1, \22device\22: \22cuda\22, \22gpu_arch\22: \22sm_90\22, \22gpu_format\22: \22ptx\22, \22kernels\22: 2}"
// CHECK-NOT: gpu.binary
// CHECK-LABEL: llvm.func @train_step
// CHECK-DAG: %[[COUNT:.*]] = llvm.mlir.constant(2 : i64) : i64
// CHECK-DAG: %[[SLOTS:.*]] = llvm.alloca %[[COUNT]] x i64 {alignment = 8 : i64}
// CHECK-DAG: %[[POINTERS:.*]] = llvm.alloca %[[COUNT]] x !llvm.ptr {alignment = 8 : i64}
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[SLOTS]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: llvm.store %arg0, %[[SLOT0]] : !llvm.ptr, !llvm.ptr
// CHECK: %[[POINTER0:.*]] = llvm.getelementptr %[[POINTERS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: llvm.store %[[SLOT0]], %[[POINTER0]] : !llvm.ptr, !llvm.ptr
// CHECK: %[[SLOT1:.*]] = llvm.getelementptr %[[SLOTS]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: llvm.store %arg1, %[[SLOT1]] : i64, !llvm.ptr
// CHECK: %[[SHARED:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: %[[K0:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.call @kiln_cuda_launch(%[[K0]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[SHARED]], %[[POINTERS]])
// CHECK: %[[K1:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK: llvm.call @kiln_cuda_launch(%[[K1]],
// CHECK: %{{.*}} = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: %[[K0AGAIN:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK-NEXT: llvm.call @kiln_cuda_launch(%[[K0AGAIN]],
// CHECK-NOT: gpu.launch_func
// CHECK-DAG: llvm.func @kiln_cuda_load_module(!llvm.ptr, !llvm.ptr, i32, !llvm.ptr)
// CHECK-DAG: llvm.func @kiln_cuda_launch(i32, i64, i64, i64, i64, i64, i64, i32, !llvm.ptr)
// CHECK-DAG: llvm.mlir.global internal constant @kiln_gpu_image("PTX TEXT\00") {addr_space = 0 : i32, alignment = 16 : i64}
// CHECK-DAG: llvm.mlir.global internal constant @kiln_gpu_kernel_names("first\00second\00")
// CHECK-DAG: llvm.mlir.global internal constant @kiln_gpu_format("ptx\00")
// CHECK-LABEL: llvm.func @kiln_init()
// CHECK: %[[COUNT2:.*]] = llvm.mlir.constant(2 : i32) : i32
// CHECK: llvm.call @kiln_cuda_load_module(%{{.*}}, %{{.*}}, %[[COUNT2]], %{{.*}})
module attributes {gpu.container_module, kiln.description = "{\"abi\": 1}"} {
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = "PTX TEXT">]
  llvm.func @train_step(%arg0: !llvm.ptr, %arg1: i64) {
    %c1 = llvm.mlir.constant(1 : index) : i64
    %c256 = llvm.mlir.constant(256 : index) : i64
    gpu.launch_func @kernels::@first blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) : i64 args(%arg0 : !llvm.ptr, %arg1 : i64)
    gpu.launch_func @kernels::@second blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) : i64 args(%arg0 : !llvm.ptr)
    gpu.launch_func @kernels::@first blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) : i64 args(%arg0 : !llvm.ptr, %arg1 : i64)
    llvm.return
  }
}

// -----

// A cubin.
// CHECK: \22gpu_format\22: \22cubin\22
// CHECK: llvm.mlir.global internal constant @kiln_gpu_format("cubin\00")
module attributes {gpu.container_module, kiln.description = "{\"abi\": 1}"} {
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_80">, bin = "\7FELF">]
  llvm.func @eval_step(%arg0: !llvm.ptr) {
    %c1 = llvm.mlir.constant(1 : index) : i64
    gpu.launch_func @kernels::@only blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) : i64 args(%arg0 : !llvm.ptr)
    llvm.return
  }
}

// -----

// expected-error @below {{kiln-lower-gpu-launches needs exactly one gpu.binary (run kiln-merge-gpu-modules and gpu-module-to-binary); found 0}}
module attributes {gpu.container_module} {
  llvm.func @train_step() {
    llvm.return
  }
}

// -----

module attributes {gpu.container_module, kiln.description = "{\"abi\": 1}"} {
  gpu.binary @kernels [#gpu.object<#nvvm.target<chip = "sm_90">, assembly = "PTX">]
  func.func @train_step(%arg0: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    // expected-error @below {{kiln-lower-gpu-launches runs after the host is in the LLVM dialect (gpu-to-llvm)}}
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%arg0 : memref<4xf32>)
    return
  }
}
