//===- TrainTesting.cpp - A small program and helpers for the tests -------===//

#include "TrainTesting.h"

#include <cstdio>
#include <filesystem>

#include <unistd.h>

using namespace kiln;
using namespace kiln::testing;

const std::string &kiln::testing::smallDescription() {
  static const std::string description = R"({
  "abi": )" KILN_TEST_ABI R"(,
  "model": "small",
  "recipe": {
    "batch_size": 4, "epochs": 2, "seed": 5,
    "data": {"kind": "synthetic", "train": 32, "test": 10, "classes": 3,
             "seed": 1},
    "optimizer": {"kind": "sgd", "lr": 0.5, "momentum": 0.9},
    "metric": "accuracy"
  },
  "slots": [
    {"name": "fc.weight", "role": "param", "dtype": "f32", "shape": [3, 3],
     "init": {"distribution": "uniform", "low": -0.5, "high": 0.5}},
    {"name": "fc.bias", "role": "param", "dtype": "f32", "shape": [3],
     "init": {"distribution": "normal", "mean": 0, "std": 0.1}},
    {"name": "fc.weight.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [3, 3]},
    {"name": "fc.bias.momentum_buffer", "role": "state", "dtype": "f32",
     "shape": [3]},
    {"name": "step", "role": "step", "dtype": "i64", "shape": []},
    {"name": "total_steps", "role": "total_steps", "dtype": "i64", "shape": []},
    {"name": "x", "role": "input", "dtype": "f32", "shape": [4, 3]},
    {"name": "label", "role": "input", "dtype": "i64", "shape": [4],
     "range": 3},
    {"name": "loss", "role": "output", "dtype": "f32", "shape": []},
    {"name": "correct", "role": "output", "dtype": "i64", "shape": []},
    {"name": "predictions", "role": "output", "dtype": "i64", "shape": [4]},
    {"name": "lr", "role": "output", "dtype": "f32", "shape": []},
    {"name": "arena", "role": "arena", "dtype": "u8", "shape": [96]},
    {"name": "logits", "role": "output", "dtype": "f32", "shape": [4, 3]}
  ],
  "train": {"flops": 0, "slots": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]},
  "eval": {"flops": 0, "slots": [0, 1, 6, 7, 8, 9, 10, 12]},
  "predict": {"flops": 0, "slots": [0, 1, 6, 13, 12]}
})";
  static_assert(SmallLinear::kArenaBytes == 96, "the description's arena");
  return description;
}

const kiln_program &kiln::testing::smallProgram() {
  static const kiln_program program = {
      KILN_ABI_VERSION,       smallDescription().c_str(), SmallLinear::init,
      SmallLinear::trainStep, SmallLinear::evalStep,      SmallLinear::predictStep};
  return program;
}

train::Program kiln::testing::smallParsed() {
  return train::Program::parse(smallDescription());
}

std::string kiln::testing::editDescription(
    const std::function<void(nlohmann::json &)> &edit) {
  nlohmann::json json = nlohmann::json::parse(smallDescription());
  edit(json);
  return json.dump();
}

train::Error kiln::testing::expectError(const std::function<void()> &body) {
  try {
    body();
  } catch (const train::Error &error) {
    return error;
  }
  ADD_FAILURE() << "no error";
  return train::Error("no error");
}

TempDir::TempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "kiln-train-XXXXXX").string();
  if (!::mkdtemp(pattern.data()))
    ADD_FAILURE() << "cannot create a temporary directory";
  root = pattern;
}

TempDir::~TempDir() { std::filesystem::remove_all(root); }
