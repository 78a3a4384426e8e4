//===- LinearMnistTrainer.cpp - kiln-test-mnist-trainer, on Fashion-MNIST -===//
//
// By hand, the object file that kilnc would generate for the model below,
// linked with the trainer's main() into kiln-test-mnist-trainer for the lit
// tests of test/Trainer that read real data files:
//
//   model linear {
//     input image: f32[batch, 1, 28, 28]
//     input label: i64[batch]
//     layer fc = linear(out: 10)
//     forward {
//       logits = fc(dropout(flatten(image, start: 1), 0.1))
//       return logits
//     }
//   }
//   train {
//     data = fashion_mnist(dir: "/usr/share/datasets/fashion-mnist",
//                          scale: 1 / 255)
//     batch_size = 64
//     loss = cross_entropy(logits, label)
//     optimizer = sgd(lr: 0.05, momentum: 0.9)
//     metric = accuracy(logits, label)
//   }
//
// 10000 test examples make a last, partial batch of 16.
//
//===----------------------------------------------------------------------===//

#include "LinearProgram.h"

#include "kiln/kiln_runtime.h"

#include <cstdio>

namespace {

struct Config {
  static constexpr int64_t Batch = 64, Features = 784, Classes = 10, Every = 0;
  static constexpr float LearningRate = 0.05f, Momentum = 0.9f, Gamma = 1;
  static constexpr double Dropout = 0.1;
};
using Linear = kiln::testing::LinearProgram<Config>;
static_assert(Linear::kArenaBytes == 203264, "the description's arena");

constexpr const char *kDescription = R"({
  "abi": )" KILN_TEST_ABI R"(,
  "model": "linear_mnist",
  "recipe": {
    "batch_size": 64, "epochs": 1, "seed": 0,
    "data": {"kind": "fashion_mnist",
             "dir": "/usr/share/datasets/fashion-mnist",
             "scale": 0.00392156862745098},
    "optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.9},
    "schedule": {"kind": "constant", "warmup": 0},
    "metric": "accuracy"
  },
  "slots": [
    {"name": "fc.weight", "role": "param", "dtype": "f32", "shape": [10, 784],
     "init": {"distribution": "uniform", "low": -0.03571428571428571,
              "high": 0.03571428571428571}},
    {"name": "fc.bias", "role": "param", "dtype": "f32", "shape": [10],
     "init": {"distribution": "uniform", "low": -0.03571428571428571,
              "high": 0.03571428571428571}},
    {"name": "fc.weight.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [10, 784]},
    {"name": "fc.bias.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [10]},
    {"name": "step", "role": "step", "dtype": "i64", "shape": []},
    {"name": "total_steps", "role": "total_steps", "dtype": "i64", "shape": []},
    {"name": "image", "role": "input", "dtype": "f32",
     "shape": [64, 1, 28, 28]},
    {"name": "label", "role": "input", "dtype": "i64", "shape": [64],
     "range": 10},
    {"name": "loss", "role": "output", "dtype": "f32", "shape": []},
    {"name": "correct", "role": "output", "dtype": "i64", "shape": []},
    {"name": "predictions", "role": "output", "dtype": "i64", "shape": [64]},
    {"name": "lr", "role": "output", "dtype": "f32", "shape": []},
    {"name": "arena", "role": "arena", "dtype": "u8", "shape": [203264]},
    {"name": "logits", "role": "output", "dtype": "f32", "shape": [64, 10]}
  ],
  "train": {"flops": 3010560, "arena_bytes": 203264, "peak_bytes": 203264,
            "slots": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]},
  "eval": {"flops": 1003520, "arena_bytes": 203264, "peak_bytes": 203264,
           "slots": [0, 1, 6, 7, 8, 9, 10, 12]},
  "predict": {"flops": 1003520, "arena_bytes": 0, "peak_bytes": 0,
              "slots": [0, 1, 6, 13, 12]}
})";

} // namespace

extern "C" const kiln_program kiln_compiled_program = {
    KILN_ABI_VERSION, kDescription,       Linear::init,
    Linear::trainStep, Linear::evalStep, Linear::predictStep};
