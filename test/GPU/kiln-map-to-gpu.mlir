// RUN: kiln-opt --kiln-map-to-gpu --split-input-file --verify-diagnostics %s | FileCheck %s

// An elementwise op: one thread per element, linearized, 256 per block.
// CHECK-LABEL: func.func @elementwise
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}})
// CHECK:   %[[BASE:.*]] = arith.muli %[[BX]], %c256
// CHECK:   %[[I:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK:   %[[IN:.*]] = arith.cmpi ult, %[[I]], %c400
// CHECK:   scf.if %[[IN]] {
// CHECK:     %[[COL:.*]] = arith.remui %[[I]], %c100
// CHECK:     %[[ROW:.*]] = arith.divui %[[I]], %c100
// CHECK:     %[[X:.*]] = memref.load %arg0[%[[ROW]], %[[COL]]]
// CHECK:     %[[Y:.*]] = math.exp %[[X]]
// CHECK:     memref.store %[[Y]], %arg1[%[[ROW]], %[[COL]]]
// CHECK-NOT: linalg
func.func @elementwise(%x: memref<4x100xf32>, %y: memref<4x100xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x100xf32>) outs(%y : memref<4x100xf32>) {
  ^bb0(%a: f32, %b: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  }
  return
}

// -----

// Many results and short reductions: one thread per result, accumulating in
// a register from the fill it absorbs (no kernel of its own for the fill).
// CHECK-LABEL: func.func @rows
// CHECK-COUNT-1: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK:   %[[SUM:.*]] = scf.for %{{.*}} = %c0{{.*}} to %c8{{.*}} step %c1{{.*}} iter_args(%[[ACC:.*]] = %cst) -> (f32)
// CHECK:     memref.load %arg0
// CHECK:     arith.addf
// CHECK:   memref.store %[[SUM]], %arg1
func.func @rows(%x: memref<4096x8xf32>, %y: memref<4096xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<4096xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4096x8xf32>) outs(%y : memref<4096xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Few results and long reductions: one block per result, whose threads
// combine their partial sums with gpu.all_reduce; the first thread adds
// the total to the stored element.
// CHECK-LABEL: func.func @columns
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c4, {{.*}} threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK:   %[[PART:.*]] = scf.for %[[R:.*]] = %[[TX]] to %c4096 step %c256{{.*}} iter_args(%[[ACC:.*]] = %cst{{.*}}) -> (f32)
// CHECK:     memref.load %arg0[%[[R]], %[[BX]]]
// CHECK:   %[[TOTAL:.*]] = gpu.all_reduce add %[[PART]] uniform
// CHECK:   %[[FIRST:.*]] = arith.cmpi eq, %[[TX]], %c0
// CHECK:   scf.if %[[FIRST]]
// CHECK:     %[[OLD:.*]] = memref.load %arg1[%[[BX]]]
// CHECK:     %[[NEW:.*]] = arith.addf %[[OLD]], %[[TOTAL]]
// CHECK:     memref.store %[[NEW]], %arg1[%[[BX]]]
func.func @columns(%x: memref<4096x4xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4096x4xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A matrix product: 64 x 64 tiles of the result per block, staged through
// shared memory 16 along k at a time, starting from the broadcast bias that
// it absorbs.
// CHECK-LABEL: func.func @product
// CHECK-COUNT-1: gpu.launch
// CHECK-SAME: in (%{{.*}} = %c2, %{{.*}} = %c3, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) workgroup(%[[X:.*]] : memref<16x65xf32, #gpu.address_space<workgroup>>, %[[Y:.*]] : memref<16x65xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c40 step %c16
// CHECK:   memref.store %{{.*}}, %[[X]]
// CHECK:   memref.store %{{.*}}, %[[Y]]
// CHECK:   gpu.barrier
// CHECK:   scf.for %{{.*}} = %c0{{.*}} to %c16{{.*}} step %c1
// CHECK-COUNT-16: math.fma
// CHECK:   gpu.barrier
// CHECK-COUNT-16: memref.load %arg2
// CHECK-NOT: gpu.launch
func.func @product(%a: memref<130x40xf32>, %b: memref<100x40xf32>, %bias: memref<100xf32>, %c: memref<130x100xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias : memref<100xf32>) outs(%c : memref<130x100xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<130x40xf32>, memref<100x40xf32>) outs(%c : memref<130x100xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Copies become kernels; a constant global is rebuilt inside the kernel,
// which the outlining copies to the GPU module.
// CHECK-LABEL: func.func @copies
// CHECK-NOT: memref.get_global
// CHECK: gpu.launch
// CHECK:   %[[TABLE:.*]] = memref.get_global @table
// CHECK:   memref.load %[[TABLE]]
// CHECK:   memref.store %{{.*}}, %arg0
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @copies(%y: memref<4xf32>) {
  %t = memref.get_global @table : memref<4xf32>
  memref.copy %t, %y : memref<4xf32> to memref<4xf32>
  return
}

// -----

func.func @host_store(%y: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  // expected-error @below {{'memref.store' would run on the host, which must not touch the device's buffers; only linalg ops and copies become kernels}}
  memref.store %one, %y[%c0] : memref<4xf32>
  return
}
