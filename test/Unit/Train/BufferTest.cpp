//===- BufferTest.cpp - Buffers: layer state beside the parameters --------===//

#include "TrainTesting.h"

#include "io/Safetensors.h"
#include "program/Weights.h"
#include "train/Checkpoint.h"
#include "train/Init.h"

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;
using nlohmann::json;

namespace {

/// The small program with batch norm's buffers as slots 14 and 15: a running
/// variance that starts at ones and a batch count, in every step.
Program withBuffers() {
  return Program::parse(editDescription([](json &j) {
    j["slots"].push_back({{"name", "bn.running_var"},
                          {"role", "buffer"},
                          {"dtype", "f32"},
                          {"shape", {3}},
                          {"init", {{"distribution", "ones"}}}});
    j["slots"].push_back({{"name", "bn.num_batches_tracked"},
                          {"role", "buffer"},
                          {"dtype", "i64"},
                          {"shape", json::array()},
                          {"init", {{"distribution", "zeros"}}}});
    for (const char *step : {"train", "eval", "predict"}) {
      j[step]["slots"].push_back(14);
      j[step]["slots"].push_back(15);
    }
  }));
}

TEST(BufferTest, ParsedAndInitialized) {
  Program program = withBuffers();
  EXPECT_EQ(program.buffers, (std::vector<size_t>{14, 15}));
  EXPECT_EQ(program.slots[14].init.kind, Distribution::Kind::Ones);
  SlotBuffers buffers(program);
  initializeParameters(program, buffers, 1);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(buffers.get<float>(14)[i], 1.0f);
  EXPECT_EQ(*buffers.get<int64_t>(15), 0);
}

TEST(BufferTest, NeedsAnInit) {
  try {
    Program::parse(editDescription([](json &j) {
      j["slots"].push_back({{"name", "bn.running_mean"},
                            {"role", "buffer"},
                            {"dtype", "f32"},
                            {"shape", {3}}});
    }));
    FAIL() << "a buffer without init was accepted";
  } catch (const Error &error) {
    EXPECT_NE(std::string(error.what()).find("'bn.running_mean'"),
              std::string::npos)
        << error.what();
  }
}

TEST(BufferTest, CheckpointedAndLoaded) {
  TempDir dir;
  Program program = withBuffers();
  SlotBuffers saved(program), restored(program);
  initializeParameters(program, saved, 1);
  saved.get<float>(14)[1] = 0.25f;
  *saved.get<int64_t>(15) = 42;
  std::string path = dir.path("ck.safetensors");
  saveCheckpoint(path, program, saved, {7, 3, false});
  loadCheckpoint(path, program, restored);
  EXPECT_EQ(restored.get<float>(14)[1], 0.25f);
  EXPECT_EQ(*restored.get<int64_t>(15), 42);

  // A checkpoint is also a weights file: predict and --init read buffers too.
  SlotBuffers loaded(program);
  program::loadParameters(path, program, loaded);
  EXPECT_EQ(loaded.get<float>(14)[1], 0.25f);
  EXPECT_EQ(*loaded.get<int64_t>(15), 42);
}

TEST(BufferTest, AMissingBufferIsNamed) {
  TempDir dir;
  Program program = withBuffers();
  SlotBuffers buffers(program);
  io::TensorFile file;
  file.tensors["fc.weight"] = io::TensorData::zeros(io::DType::F32, {3, 3});
  file.tensors["fc.bias"] = io::TensorData::zeros(io::DType::F32, {3});
  file.tensors["bn.running_var"] = io::TensorData::zeros(io::DType::F32, {3});
  std::string path = dir.path("w.safetensors"), error;
  ASSERT_TRUE(io::writeTensorFile(path, file, error)) << error;
  try {
    program::loadParameters(path, program, buffers);
    FAIL() << "a missing buffer was accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(
                  "no tensor 'bn.num_batches_tracked' for the buffer of that "
                  "name of model 'small', i64[]"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
