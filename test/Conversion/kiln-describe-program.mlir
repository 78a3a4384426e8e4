// kiln-describe-program records the slots of the program as the JSON
// description of kiln_runtime.h (module attribute kiln.description, keys in
// sorted order), and the slot of each argument of each step.
// RUN: kiln-opt %s -kiln-describe-program -split-input-file | FileCheck %s

// The slots are the training step's arguments in order, then the evaluation
// step's that it lacks (predictions), then the prediction step's (logits);
// the arena is as large as any step needs (256 bytes, the evaluation
// step's). Each step's summary lists the slot of each of its arguments. Each slot has its name, role,
// dtype and shape, its initializer and the range of its values when known,
// with the ignored label that it also takes.
// CHECK: module attributes {kiln.description = "{
// CHECK-SAME: \22abi\22:{{[0-9]+}},
// CHECK-SAME: \22eval\22:{\22arena_bytes\22:256,\22flops\22:40,\22peak_bytes\22:200,\22slots\22:[0,4,5,8,6,7]},
// CHECK-SAME: \22model\22:\22tiny\22,
// CHECK-SAME: \22predict\22:{\22arena_bytes\22:64,\22flops\22:24,\22peak_bytes\22:48,\22slots\22:[0,4,9,7]},
// CHECK-SAME: \22recipe\22:{\22batch_size\22:2,\22metrics\22:[\22accuracy\22],\22optimizer\22:{\22kind\22:\22sgd\22,\22lr\22:0.5,\22nesterov\22:false},\22schedule\22:{\22kind\22:\22constant\22}},
// CHECK-SAME: \22slots\22:[
// CHECK-SAME: {\22dtype\22:\22f32\22,\22init\22:{\22distribution\22:\22uniform\22,\22high\22:0.5,\22low\22:-0.5},\22name\22:\22fc.weight\22,\22role\22:\22param\22,\22shape\22:[3,4]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22fc.weight.momentum_buffer\22,\22role\22:\22state\22,\22shape\22:[3,4]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22name\22:\22step\22,\22role\22:\22step\22,\22shape\22:[]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22name\22:\22total_steps\22,\22role\22:\22total_steps\22,\22shape\22:[]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22x\22,\22role\22:\22input\22,\22shape\22:[2,4]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22ignore_index\22:-100,\22name\22:\22label\22,\22range\22:3,\22role\22:\22input\22,\22shape\22:[2]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22loss\22,\22role\22:\22output\22,\22shape\22:[]},
// CHECK-SAME: {\22dtype\22:\22u8\22,\22name\22:\22arena\22,\22role\22:\22arena\22,\22shape\22:[256]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22name\22:\22predictions\22,\22role\22:\22output\22,\22shape\22:[2]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22logits\22,\22role\22:\22output\22,\22shape\22:[2,3]}],
// CHECK-SAME: \22train\22:{\22arena_bytes\22:128,\22flops\22:100,\22peak_bytes\22:96,\22slots\22:[0,1,2,3,4,5,6,7]}}",
// CHECK-SAME: kiln.eval_slots = array<i64: 0, 4, 5, 8, 6, 7>
// CHECK-SAME: kiln.predict_slots = array<i64: 0, 4, 9, 7>
// CHECK-SAME: kiln.train_slots = array<i64: 0, 1, 2, 3, 4, 5, 6, 7>
module attributes {kiln.model = "tiny",
    kiln.recipe = {batch_size = 2 : i64, metrics = ["accuracy"], schedule = {kind = "constant"},
                   optimizer = {kind = "sgd", lr = 0.5 : f64, nesterov = false}}} {
  func.func @train_step(%w: memref<3x4xf32> {kiln.param = "fc.weight", kiln.init = {distribution = "uniform", low = -0.5 : f64, high = 0.5 : f64}},
                        %m: memref<3x4xf32> {kiln.state = "fc.weight.momentum_buffer"},
                        %step: memref<i64> {kiln.step}, %total: memref<i64> {kiln.total_steps},
                        %x: memref<2x4xf32> {kiln.input = "x"}, %y: memref<2xi64> {kiln.input = "label", kiln.range = 3 : i64, kiln.ignore_index = -100 : i64},
                        %loss: memref<f32> {kiln.output = "loss"}, %arena: memref<128xi8> {kiln.arena})
      attributes {kiln.flops = 100 : i64, kiln.arena_bytes = 128 : i64, kiln.peak_bytes = 96 : i64} {
    return
  }
  func.func @eval_step(%w: memref<3x4xf32> {kiln.param = "fc.weight"}, %x: memref<2x4xf32> {kiln.input = "x"},
                       %y: memref<2xi64> {kiln.input = "label", kiln.range = 3 : i64, kiln.ignore_index = -100 : i64},
                       %pred: memref<2xi64> {kiln.output = "predictions"}, %loss: memref<f32> {kiln.output = "loss"},
                       %arena: memref<256xi8> {kiln.arena})
      attributes {kiln.flops = 40 : i64, kiln.arena_bytes = 256 : i64, kiln.peak_bytes = 200 : i64} {
    return
  }
  func.func @predict_step(%w: memref<3x4xf32> {kiln.param = "fc.weight"}, %x: memref<2x4xf32> {kiln.input = "x"},
                          %logits: memref<2x3xf32> {kiln.output = "logits"}, %arena: memref<64xi8> {kiln.arena})
      attributes {kiln.flops = 24 : i64, kiln.arena_bytes = 64 : i64, kiln.peak_bytes = 48 : i64} {
    return
  }
}

// -----

// The training step's larger arena is kept. Without a model name or a recipe
// the description has neither; steps without annotations count 0. An argument
// with no name is argN and has no role; f64 slots are described as such.
// CHECK: module attributes {kiln.description = "{
// CHECK-SAME: \22abi\22:{{[0-9]+}},\22eval\22:{\22arena_bytes\22:0,\22flops\22:0,\22peak_bytes\22:0,\22slots\22:[0,2,1]},
// CHECK-SAME: \22slots\22:[{\22dtype\22:\22f64\22,\22name\22:\22w\22,\22role\22:\22param\22,\22shape\22:[5]},
// CHECK-SAME: {\22dtype\22:\22u8\22,\22name\22:\22arena\22,\22role\22:\22arena\22,\22shape\22:[512]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22arg1\22,\22role\22:\22\22,\22shape\22:[2]}],
// CHECK-SAME: \22train\22:{\22arena_bytes\22:0,\22flops\22:0,\22peak_bytes\22:0,\22slots\22:[0,1]}}",
// CHECK-SAME: kiln.eval_slots = array<i64: 0, 2, 1>, kiln.train_slots = array<i64: 0, 1>} {
module {
  func.func @train_step(%w: memref<5xf64> {kiln.param = "w"}, %arena: memref<512xi8> {kiln.arena}) {
    return
  }
  func.func @eval_step(%w: memref<5xf64> {kiln.param = "w"}, %other: memref<2xf32>, %arena: memref<64xi8> {kiln.arena}) {
    return
  }
}

// -----

// An input's slot is as large as the largest batch that a step takes: with
// accumulate = 2, the training step's two micro-batches of 2 (x), of which
// the other steps read the first rows; whichever step that is (label, an
// input larger in the evaluation step only to show it).
// CHECK: module attributes {kiln.description = "{
// CHECK-SAME: \22slots\22:[{\22dtype\22:\22f32\22,\22name\22:\22x\22,\22role\22:\22input\22,\22shape\22:[4,3]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22name\22:\22label\22,\22role\22:\22input\22,\22shape\22:[6]}],
module {
  func.func @train_step(%x: memref<4x3xf32> {kiln.input = "x"}, %y: memref<4xi64> {kiln.input = "label"}) {
    return
  }
  func.func @eval_step(%x: memref<2x3xf32> {kiln.input = "x"}, %y: memref<6xi64> {kiln.input = "label"}) {
    return
  }
}

// -----

// An inference library has the prediction step alone, and may have no
// recipe.
// CHECK: module attributes {kiln.description = "{\22abi\22:{{[0-9]+}},\22model\22:\22lib\22,
// CHECK-SAME: \22predict\22:{\22arena_bytes\22:0,\22flops\22:0,\22peak_bytes\22:0,\22slots\22:[0,1,2,3]},
// CHECK-SAME: \22slots\22:[{\22dtype\22:\22f32\22,\22name\22:\22w\22,\22role\22:\22param\22,\22shape\22:[4]},
// CHECK-SAME: {\22dtype\22:\22i64\22,\22name\22:\22ids\22,\22role\22:\22input\22,\22shape\22:[1,3]},
// CHECK-SAME: {\22dtype\22:\22f32\22,\22name\22:\22y\22,\22role\22:\22output\22,\22shape\22:[1,4]},
// CHECK-SAME: {\22dtype\22:\22u8\22,\22name\22:\22arena\22,\22role\22:\22arena\22,\22shape\22:[32]}]}",
// CHECK-SAME: kiln.predict_slots = array<i64: 0, 1, 2, 3>
// CHECK-NOT: kiln.train_slots
module attributes {kiln.model = "lib"} {
  func.func @predict_step(%w: memref<4xf32> {kiln.param = "w"}, %ids: memref<1x3xi64> {kiln.input = "ids"},
                          %y: memref<1x4xf32> {kiln.output = "y"}, %arena: memref<32xi8> {kiln.arena}) {
    return
  }
}
