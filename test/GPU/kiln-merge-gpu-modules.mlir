// RUN: kiln-opt --kiln-merge-gpu-modules %s | FileCheck %s

// The outlining names each module uniquely but the kernels after their
// function: a kernel takes its module's name. A global that both modules
// copied stays once.
// CHECK: gpu.module @step_kernel {
// CHECK-DAG:   memref.global "private" constant @table
// CHECK-DAG:   gpu.func @step_kernel() kernel
// CHECK-DAG:   gpu.func @step_kernel_0() kernel
// CHECK: }
// CHECK-NOT: gpu.module
// CHECK: gpu.launch_func @step_kernel::@step_kernel blocks
// CHECK: gpu.launch_func @step_kernel::@step_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @step_kernel {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @step_kernel() kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  gpu.module @step_kernel_0 {
    memref.global "private" constant @table : memref<2xf32> = dense<[1.0, 2.0]>
    gpu.func @step_kernel() kernel {
      %t = memref.get_global @table : memref<2xf32>
      gpu.return
    }
  }
  func.func @step() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @step_kernel::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @step_kernel_0::@step_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}
