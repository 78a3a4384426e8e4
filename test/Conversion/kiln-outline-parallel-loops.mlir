// kiln-outline-parallel-loops moves linalg ops on buffers of at least 16384
// iterations into private functions over a range [begin, end) of one
// parallel loop, which the step calls over the whole loop.
// RUN: kiln-opt %s -kiln-outline-parallel-loops -split-input-file | FileCheck %s
// RUN: kiln-opt %s -kiln-outline-parallel-loops=max-inline-ops=1 -split-input-file | FileCheck %s --check-prefix=SERIAL

// The body slices each buffer along the split loop's dimension; the step
// passes the buffers and the scalars the op uses, while constants are
// copied into the body. A small op stays where it is.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[A:.*]]: memref<65536xf32>, %[[B:.*]]: memref<65536xf32>, %[[S:.*]]: f32, %[[SMALL:.*]]: memref<64xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[N:.*]] = arith.constant 65536 : index
// CHECK: call @step_parallel_0(%[[ZERO]], %[[N]], %[[A]], %[[B]], %[[S]]) : (index, index, memref<65536xf32>, memref<65536xf32>, f32) -> ()
// CHECK: linalg.generic {{.*}} outs(%[[SMALL]] : memref<64xf32>)
// CHECK: return
// CHECK-LABEL: func.func private @step_parallel_0(
// CHECK-SAME: %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[BA:.*]]: memref<65536xf32>, %[[BB:.*]]: memref<65536xf32>, %[[BS:.*]]: f32)
// CHECK-SAME: attributes {kiln.parallel_body}
// CHECK: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[SIZE:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK: %[[SA:.*]] = memref.subview %[[BA]][%[[BEGIN]]] [%[[SIZE]]] [1] : memref<65536xf32> to memref<?xf32, strided<[1], offset: ?>>
// CHECK: %[[SB:.*]] = memref.subview %[[BB]][%[[BEGIN]]] [%[[SIZE]]] [1] : memref<65536xf32> to memref<?xf32, strided<[1], offset: ?>>
// CHECK: linalg.generic {{.*}} ins(%[[SA]] : memref<?xf32, strided<[1], offset: ?>>) outs(%[[SB]] : memref<?xf32, strided<[1], offset: ?>>)
// CHECK: arith.mulf %{{.*}}, %[[TWO]]
// CHECK: arith.addf %{{.*}}, %[[BS]]
// CHECK: return
// Without the steps' slots, nothing is known apart.
// CHECK-NOT: llvm.noalias
#id = affine_map<(d0) -> (d0)>
func.func @step(%a: memref<65536xf32>, %b: memref<65536xf32>, %s: f32, %small: memref<64xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<65536xf32>) outs(%b : memref<65536xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %two : f32
    %1 = arith.addf %0, %s : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%small : memref<64xf32>) {
  ^bb0(%out: f32):
    linalg.yield %two : f32
  }
  return
}

// -----

// A sum over rows splits its parallel loop, the columns: each column's sum
// keeps its order. linalg.index of the split loop counts from the slice's
// start.
// CHECK-LABEL: func.func @column_sums(
// CHECK: call @column_sums_parallel_0(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (index, index, memref<256x128xf32>, memref<128xf32>) -> ()
// CHECK-LABEL: func.func private @column_sums_parallel_0(
// CHECK-SAME: %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[X:.*]]: memref<256x128xf32>, %[[Y:.*]]: memref<128xf32>)
// CHECK: %[[SIZE:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK: memref.subview %[[X]][0, %[[BEGIN]]] [256, %[[SIZE]]] [1, 1]
// CHECK: memref.subview %[[Y]][%[[BEGIN]]] [%[[SIZE]]] [1]
// CHECK: iterator_types = ["reduction", "parallel"]
// CHECK: %[[J:.*]] = linalg.index 1 : index
// CHECK: %[[COLUMN:.*]] = arith.addi %[[J]], %[[BEGIN]] : index
// CHECK: arith.index_cast %[[COLUMN]] : index to i64
#rows = affine_map<(d0, d1) -> (d0, d1)>
#columns = affine_map<(d0, d1) -> (d1)>
func.func @column_sums(%x: memref<256x128xf32>, %y: memref<128xf32>) {
  linalg.generic {indexing_maps = [#rows, #columns], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<256x128xf32>) outs(%y : memref<128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %j = linalg.index 1 : index
    %k = arith.index_cast %j : index to i64
    %f = arith.sitofp %k : i64 to f32
    %0 = arith.addf %in, %out : f32
    %1 = arith.addf %0, %f : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

// A view whose layout is only known at run time cannot be passed with bare
// pointers: the body makes it from its source and offset instead.
// CHECK-LABEL: func.func @dynamic_view(
// CHECK-SAME: %[[X:.*]]: memref<4x32768xf32>, %[[I:.*]]: index, %[[Y:.*]]: memref<32768xf32>)
// CHECK: call @dynamic_view_parallel_0(%{{.*}}, %{{.*}}, %[[X]], %[[I]], %[[Y]]) : (index, index, memref<4x32768xf32>, index, memref<32768xf32>) -> ()
// CHECK-LABEL: func.func private @dynamic_view_parallel_0(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %[[BX:.*]]: memref<4x32768xf32>, %[[BI:.*]]: index, %{{.*}}: memref<32768xf32>)
// CHECK: memref.subview %[[BX]][%[[BI]], 0] [1, 32768] [1, 1]
func.func @dynamic_view(%x: memref<4x32768xf32>, %i: index, %y: memref<32768xf32>) {
  %row = memref.subview %x[%i, 0] [1, 32768] [1, 1] : memref<4x32768xf32> to memref<32768xf32, strided<[1], offset: ?>>
  linalg.copy ins(%row : memref<32768xf32, strided<[1], offset: ?>>) outs(%y : memref<32768xf32>)
  return
}

// -----

// Every output must index the split loop, so that threads write apart: with
// one output indexed by the columns only, the columns are split, not the
// rows.
// CHECK-LABEL: func.func private @outputs_apart_parallel_0(
// CHECK-SAME: %[[BEGIN:.*]]: index, %[[END:.*]]: index, %[[X:.*]]: memref<128x256xf32>, %[[Y:.*]]: memref<256xf32>)
// CHECK: %[[SIZE:.*]] = arith.subi %[[END]], %[[BEGIN]] : index
// CHECK: memref.subview %[[X]][0, %[[BEGIN]]] [128, %[[SIZE]]] [1, 1]
// CHECK: memref.subview %[[Y]][%[[BEGIN]]] [%[[SIZE]]] [1]
#rows = affine_map<(d0, d1) -> (d0, d1)>
#columns = affine_map<(d0, d1) -> (d1)>
func.func @outputs_apart(%x: memref<128x256xf32>, %y: memref<256xf32>) {
  linalg.generic {indexing_maps = [#rows, #columns], iterator_types = ["parallel", "parallel"]}
      outs(%x, %y : memref<128x256xf32>, memref<256xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %b, %a : f32, f32
  }
  return
}

// -----

// A step of more than max-inline-ops linalg ops (64 by default) moves each
// small one into a noinline function of its own, which takes the buffers and
// scalars that the op uses; a large op still becomes a parallel body.
// CHECK-LABEL: func.func @long_step(
// CHECK-NOT: call @long_step_op_
// SERIAL-LABEL: func.func @long_step(
// SERIAL-SAME: %[[A:.*]]: memref<64xf32>, %[[B:.*]]: memref<64xf32>, %[[S:.*]]: f32, %[[BIG:.*]]: memref<65536xf32>)
// SERIAL: call @long_step_op_0(%[[A]], %[[B]], %[[S]]) : (memref<64xf32>, memref<64xf32>, f32) -> ()
// SERIAL: call @long_step_op_1(%[[B]]) : (memref<64xf32>) -> ()
// SERIAL: call @long_step_parallel_0(%{{.*}}, %{{.*}}, %[[BIG]]) : (index, index, memref<65536xf32>) -> ()
// SERIAL-NOT: linalg.generic
// SERIAL: return
// SERIAL-DAG: func.func private @long_step_op_0(%{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: f32) attributes {passthrough = ["noinline"]}
// A body's only buffer overlaps no other.
// SERIAL-DAG: func.func private @long_step_op_1(%{{.*}}: memref<64xf32> {llvm.noalias}) attributes {passthrough = ["noinline"]}
// SERIAL-DAG: func.func private @long_step_parallel_0(%{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<65536xf32> {llvm.noalias}) attributes {kiln.parallel_body}
#id = affine_map<(d0) -> (d0)>
func.func @long_step(%a: memref<64xf32>, %b: memref<64xf32>, %s: f32, %big: memref<65536xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<64xf32>) outs(%b : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %s : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%b : memref<64xf32>) {
  ^bb0(%out: f32):
    %0 = arith.mulf %out, %out : f32
    linalg.yield %0 : f32
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%big : memref<65536xf32>)
  return
}

// -----

// With the steps' slots (kiln-describe-program), a buffer that overlaps no
// other buffer of its body, or only ones that neither writes, is
// `llvm.noalias`. Here %in and %out are apart in the arena, %param is a
// slot of its own, %alias is the same slot as %param under another
// argument, and %early overlaps %in.
// The bodies follow the step in reverse order.
// CHECK-LABEL: func.func @train_step(
// A view placed at an unknown offset may be anywhere in its slot.
// CHECK-LABEL: func.func private @train_step_parallel_4(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32>, %{{.*}}: memref<32768xf32>)
// Two buffers that are only read may overlap; the output is apart from both.
// CHECK-LABEL: func.func private @train_step_parallel_3(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32> {llvm.noalias}, %{{.*}}: memref<32768xf32> {llvm.noalias}, %{{.*}}: memref<32768xf32> {llvm.noalias})
// CHECK-LABEL: func.func private @train_step_parallel_2(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32>, %{{.*}}: memref<32768xf32>)
// CHECK-LABEL: func.func private @train_step_parallel_1(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32>, %{{.*}}: memref<32768xf32>)
// CHECK-LABEL: func.func private @train_step_parallel_0(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32> {llvm.noalias}, %{{.*}}: memref<32768xf32> {llvm.noalias}, %{{.*}}: memref<32768xf32> {llvm.noalias})
#id = affine_map<(d0) -> (d0)>
module attributes {kiln.train_slots = array<i64: 0, 0, 1, 2>} {
  func.func @train_step(%param: memref<32768xf32>, %alias: memref<32768xf32>,
                        %unused: memref<32768xf32>,
                        %arena: memref<393216xi8> {kiln.arena}, %at: index) {
    %c0 = arith.constant 0 : index
    %c131072 = arith.constant 131072 : index
    %c65536 = arith.constant 65536 : index
    %in = memref.view %arena[%c0][] : memref<393216xi8> to memref<32768xf32>
    %out = memref.view %arena[%c131072][] : memref<393216xi8> to memref<32768xf32>
    %early = memref.view %arena[%c65536][] : memref<393216xi8> to memref<32768xf32>
    %anywhere = memref.view %arena[%at][] : memref<393216xi8> to memref<32768xf32>
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%in, %param : memref<32768xf32>, memref<32768xf32>) outs(%out : memref<32768xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32):
      %0 = arith.addf %a, %b : f32
      linalg.yield %0 : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%param : memref<32768xf32>) outs(%alias : memref<32768xf32>) {
    ^bb0(%a: f32, %c: f32):
      linalg.yield %a : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%early : memref<32768xf32>) outs(%in : memref<32768xf32>) {
    ^bb0(%a: f32, %c: f32):
      linalg.yield %a : f32
    }
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%early, %in : memref<32768xf32>, memref<32768xf32>) outs(%param : memref<32768xf32>) {
    ^bb0(%a: f32, %b: f32, %c: f32):
      %0 = arith.addf %a, %b : f32
      linalg.yield %0 : f32
    }
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%anywhere : memref<32768xf32>) outs(%out : memref<32768xf32>) {
    ^bb0(%a: f32, %c: f32):
      linalg.yield %a : f32
    }
    return
  }
}

// -----

// Inputs and outputs are the caller's in an inference library: two of them
// may be one buffer. A constant global is apart from every slot.
// CHECK-LABEL: func.func private @predict_step_parallel_1(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32> {llvm.noalias}, %{{.*}}: memref<32768xf32> {llvm.noalias})
// CHECK-LABEL: func.func private @predict_step_parallel_0(
// CHECK-SAME: %{{.*}}: index, %{{.*}}: index, %{{.*}}: memref<32768xf32>, %{{.*}}: memref<32768xf32>)
#id = affine_map<(d0) -> (d0)>
module attributes {kiln.predict_slots = array<i64: 0, 1>} {
  memref.global "private" constant @table : memref<32768xf32> = dense<1.0>
  func.func @predict_step(%x: memref<32768xf32> {kiln.input},
                          %y: memref<32768xf32> {kiln.output}) {
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%x : memref<32768xf32>) outs(%y : memref<32768xf32>) {
    ^bb0(%a: f32, %c: f32):
      linalg.yield %a : f32
    }
    %table = memref.get_global @table : memref<32768xf32>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
        ins(%table : memref<32768xf32>) outs(%y : memref<32768xf32>) {
    ^bb0(%a: f32, %c: f32):
      linalg.yield %a : f32
    }
    return
  }
}
