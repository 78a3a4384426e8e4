//===- LinearTrainer.cpp - kiln-test-trainer, on synthetic data -----------===//
//
// By hand, the object file that kilnc would generate for the model below,
// linked with the trainer's main() into kiln-test-trainer for the lit tests
// of test/Trainer:
//
//   model linear {
//     input x: f32[batch, 64]
//     input label: i64[batch]
//     layer fc = linear(out: 4)
//     forward {
//       logits = fc(dropout(x, 0.1))
//       return logits
//     }
//   }
//   train {
//     data = synthetic(train: 128, test: 100, classes: 4)
//     batch_size = 16
//     epochs = 10
//     loss = cross_entropy(logits, label)
//     optimizer = sgd(lr: 0.1, momentum: 0.9)
//     schedule = step(every: 40, gamma: 0.5)
//     metric = accuracy(logits, label)
//   }
//
// 100 test examples make a last, partial batch of 4.
//
//===----------------------------------------------------------------------===//

#include "LinearProgram.h"

#include "cpu/Runtime.h"
#include "kiln/kiln_runtime.h"

#include <cstdio>

namespace {

struct Config {
  static constexpr int64_t Batch = 16, Features = 64, Classes = 4, Every = 40;
  static constexpr float LearningRate = 0.1f, Momentum = 0.9f, Gamma = 0.5f;
  static constexpr double Dropout = 0.1;
};
using Linear = kiln::testing::LinearProgram<Config>;
static_assert(Linear::kArenaBytes == 4352, "the description's arena");

constexpr const char *kDescription = R"({
  "abi": )" KILN_TEST_ABI R"(,
  "model": "linear",
  "recipe": {
    "batch_size": 16, "epochs": 10, "seed": 0,
    "data": {"kind": "synthetic", "train": 128, "test": 100, "classes": 4,
             "seed": 0},
    "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.9},
    "schedule": {"kind": "step", "every": 40, "gamma": 0.5},
    "metric": "accuracy"
  },
  "slots": [
    {"name": "fc.weight", "role": "param", "dtype": "f32", "shape": [4, 64],
     "init": {"distribution": "uniform", "low": -0.125,
              "high": 0.125}},
    {"name": "fc.bias", "role": "param", "dtype": "f32", "shape": [4],
     "init": {"distribution": "uniform", "low": -0.125,
              "high": 0.125}},
    {"name": "fc.weight.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [4, 64]},
    {"name": "fc.bias.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [4]},
    {"name": "step", "role": "step", "dtype": "i64", "shape": []},
    {"name": "total_steps", "role": "total_steps", "dtype": "i64", "shape": []},
    {"name": "x", "role": "input", "dtype": "f32", "shape": [16, 64]},
    {"name": "label", "role": "input", "dtype": "i64", "shape": [16],
     "range": 4},
    {"name": "loss", "role": "output", "dtype": "f32", "shape": []},
    {"name": "correct", "role": "output", "dtype": "i64", "shape": []},
    {"name": "predictions", "role": "output", "dtype": "i64", "shape": [16]},
    {"name": "lr", "role": "output", "dtype": "f32", "shape": []},
    {"name": "arena", "role": "arena", "dtype": "u8", "shape": [4352]},
    {"name": "logits", "role": "output", "dtype": "f32", "shape": [16, 4]}
  ],
  "train": {"flops": 24576, "arena_bytes": 4352, "peak_bytes": 4352,
            "slots": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]},
  "eval": {"flops": 8192, "arena_bytes": 4352, "peak_bytes": 4352,
           "slots": [0, 1, 6, 7, 8, 9, 10, 12]},
  "predict": {"flops": 8192, "arena_bytes": 0, "peak_bytes": 0,
              "slots": [0, 1, 6, 13, 12]}
})";

/// Says how many threads the runtime has when the program's init runs, as
/// --threads, OMP_NUM_THREADS or the default set them.
void initAndTraceThreads() {
  std::fprintf(stderr, "runtime threads: %d\n", kiln::cpu::getNumThreads());
  Linear::init();
}

} // namespace

extern "C" const kiln_program kiln_compiled_program = {
    KILN_ABI_VERSION,  kDescription,     initAndTraceThreads,
    Linear::trainStep, Linear::evalStep, Linear::predictStep};
