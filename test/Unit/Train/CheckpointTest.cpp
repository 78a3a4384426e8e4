//===- CheckpointTest.cpp - Checkpoints, resuming, and initial weights ----===//

#include "TrainTesting.h"

#include "io/Safetensors.h"
#include "program/Weights.h"
#include "train/Checkpoint.h"
#include "train/Init.h"

#include <cstring>
#include <filesystem>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

std::vector<uint8_t> slotBytes(const Program &program,
                               const SlotBuffers &buffers, size_t slot) {
  const auto *bytes = buffers.get<const uint8_t>(slot);
  return {bytes, bytes + program.slots[slot].numBytes()};
}

/// Buffers with initialized parameters and non-zero state.
void fill(const Program &program, SlotBuffers &buffers, uint64_t seed) {
  initializeParameters(program, buffers, seed);
  for (size_t state : program.state) {
    float *values = buffers.get<float>(state);
    for (int64_t i = 0; i < program.slots[state].numElements(); ++i)
      values[i] = 0.25f * static_cast<float>(i + seed);
  }
}

io::TensorData f32(std::vector<int64_t> shape, float value) {
  io::TensorData tensor = io::TensorData::zeros(io::DType::F32, shape);
  std::fill_n(tensor.data<float>(), tensor.numElements(), value);
  return tensor;
}

void write(const std::string &path, const io::TensorFile &file) {
  std::string error;
  ASSERT_TRUE(io::writeTensorFile(path, file, error)) << error;
}

TEST(CheckpointTest, RoundTrip) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers saved(program), restored(program);
  fill(program, saved, 3);
  std::string path = dir.path("ck.safetensors");
  saveCheckpoint(path, program, saved, {7, 3, false});
  EXPECT_FALSE(std::filesystem::exists(partialPath(path)));

  RunPosition position = loadCheckpoint(path, program, restored);
  EXPECT_EQ(position.step, 7);
  EXPECT_EQ(position.seed, 3u);
  EXPECT_FALSE(position.shuffle);
  for (size_t slot : program.params)
    EXPECT_EQ(slotBytes(program, saved, slot),
              slotBytes(program, restored, slot));
  for (size_t slot : program.state)
    EXPECT_EQ(slotBytes(program, saved, slot),
              slotBytes(program, restored, slot));

  // PyTorch's names and layouts, the state by slot name, and the metadata.
  io::TensorFile file;
  std::string error;
  ASSERT_TRUE(io::readTensorFile(path, file, error)) << error;
  std::vector<std::string> names;
  for (const auto &[name, tensor] : file.tensors)
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "fc.bias", "fc.bias.momentum_buffer", "fc.weight",
                       "fc.weight.momentum_buffer"}));
  EXPECT_EQ(file.tensors["fc.weight"].shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(file.tensors["fc.weight"].dtype, io::DType::F32);
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{
                               {"abi", KILN_TEST_ABI},
                               {"fingerprint", fingerprint(program)},
                               {"format", "kiln-checkpoint"},
                               {"model", "small"},
                               {"seed", "3"},
                               {"shuffle", "off"},
                               {"step", "7"}}));
}

TEST(CheckpointTest, SaveReplacesTheCheckpointAndAStalePartialFile) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);
  std::string path = dir.path("ck.safetensors");
  {
    std::FILE *stale = std::fopen(partialPath(path).c_str(), "w");
    ASSERT_TRUE(stale);
    std::fclose(stale);
  }
  saveCheckpoint(path, program, buffers, {1, 0, true});
  saveCheckpoint(path, program, buffers, {2, 0, true});
  EXPECT_EQ(loadCheckpoint(path, program, buffers).step, 2);
  std::vector<std::string> files;
  for (const auto &entry : std::filesystem::directory_iterator(dir.path("")))
    files.push_back(entry.path().filename().string());
  EXPECT_EQ(files, (std::vector<std::string>{"ck.safetensors"}));
}

TEST(CheckpointTest, SaveErrors) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);
  Error error = expectError([&] {
    saveCheckpoint(dir.path("missing/ck.safetensors"), program, buffers,
                   {1, 0, true});
  });
  EXPECT_NE(std::string(error.what()).find("missing/ck.safetensors"),
            std::string::npos)
      << error.what();
}

TEST(CheckpointTest, FingerprintIsOfTheSlots) {
  Program program = smallParsed();
  std::string print = fingerprint(program);
  EXPECT_EQ(print.size(), 16u);
  // The arena's size is the compiler's business.
  EXPECT_EQ(print,
            fingerprint(Program::parse(editDescription(
                [](nlohmann::json &j) { j["slots"][12]["shape"] = {128}; }))));
  EXPECT_NE(print,
            fingerprint(Program::parse(editDescription(
                [](nlohmann::json &j) { j["slots"][0]["name"] = "w"; }))));
  EXPECT_NE(print,
            fingerprint(Program::parse(editDescription([](nlohmann::json &j) {
              j["recipe"]["batch_size"] = 2;
              for (int slot : {6, 7, 10, 13})
                j["slots"][slot]["shape"][0] = 2;
            }))));
  // One of two ranks, with half of the same global batch (kilnc --ranks 2),
  // reads and writes the same checkpoints.
  EXPECT_EQ(print,
            fingerprint(Program::parse(editDescription([](nlohmann::json &j) {
              j["recipe"]["batch_size"] = 2;
              j["recipe"]["ranks"] = 2;
              for (int slot : {6, 7, 10, 13})
                j["slots"][slot]["shape"][0] = 2;
            }))));
}

TEST(CheckpointTest, RefusesAnotherModel) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);
  std::string path = dir.path("ck.safetensors");
  saveCheckpoint(path, program, buffers, {1, 0, true});

  Program other = Program::parse(editDescription([](nlohmann::json &j) {
    j["model"] = "wider";
    j["slots"][0]["shape"] = {3, 5};
    j["slots"][2]["shape"] = {3, 5};
    j["slots"][6]["shape"] = {4, 5};
  }));
  SlotBuffers otherBuffers(other);
  Error error = expectError([&] { loadCheckpoint(path, other, otherBuffers); });
  EXPECT_EQ(std::string(error.what()),
            path + ": the checkpoint was written by model 'small' (slots " +
                fingerprint(program) +
                "), not by this trainer's model 'wider' (slots " +
                fingerprint(other) + ")");
  EXPECT_NE(error.hint().find("--init FILE"), std::string::npos);
}

TEST(CheckpointTest, RefusesWhatIsNotACheckpoint) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);

  io::TensorFile weights;
  weights.tensors["fc.weight"] = f32({3, 3}, 1);
  write(dir.path("weights.safetensors"), weights);
  Error error = expectError([&] {
    loadCheckpoint(dir.path("weights.safetensors"), program, buffers);
  });
  EXPECT_NE(std::string(error.what()).find("not a Kiln checkpoint"),
            std::string::npos);

  // A checkpoint with damaged metadata, or a tensor missing.
  saveCheckpoint(dir.path("ck.safetensors"), program, buffers, {1, 0, true});
  io::TensorFile file;
  std::string readError;
  ASSERT_TRUE(io::readTensorFile(dir.path("ck.safetensors"), file, readError));
  io::TensorFile damaged = file;
  damaged.metadata["step"] = "-1";
  write(dir.path("damaged.safetensors"), damaged);
  error = expectError([&] {
    loadCheckpoint(dir.path("damaged.safetensors"), program, buffers);
  });
  EXPECT_NE(std::string(error.what()).find("metadata is damaged (step '-1'"),
            std::string::npos)
      << error.what();

  io::TensorFile missing = file;
  missing.tensors.erase("fc.bias.momentum_buffer");
  write(dir.path("missing.safetensors"), missing);
  error = expectError([&] {
    loadCheckpoint(dir.path("missing.safetensors"), program, buffers);
  });
  EXPECT_NE(std::string(error.what())
                .find("tensor 'fc.bias.momentum_buffer' is missing, expected "
                      "F32[3]"),
            std::string::npos)
      << error.what();

  error = expectError(
      [&] { loadCheckpoint(dir.path("none.safetensors"), program, buffers); });
  EXPECT_NE(std::string(error.what())
                .find("none.safetensors: byte 0: cannot "
                      "open the file"),
            std::string::npos)
      << error.what();
}

TEST(InitialWeightsTest, LoadsByNameAndIgnoresTheRest) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);
  io::TensorFile file;
  file.tensors["fc.weight"] = f32({3, 3}, 0.5f);
  // A state_dict in float64, with a buffer the model does not have.
  io::TensorData bias = io::TensorData::zeros(io::DType::F64, {3});
  bias.data<double>()[0] = 0.1;
  bias.data<double>()[2] = -2.5;
  file.tensors["fc.bias"] = bias;
  file.tensors["bn.running_mean"] = f32({3}, 1);
  file.tensors["bn.num_batches_tracked"] =
      io::TensorData::zeros(io::DType::I64, {});
  write(dir.path("init.safetensors"), file);

  std::vector<std::string> ignored =
      program::loadParameters(dir.path("init.safetensors"), program, buffers).ignored;
  EXPECT_EQ(ignored, (std::vector<std::string>{"bn.num_batches_tracked",
                                               "bn.running_mean"}));
  const float *weight = buffers.get<float>(program.params[0]);
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(weight[i], 0.5f);
  const float *values = buffers.get<float>(program.params[1]);
  EXPECT_EQ(values[0], 0.1f);
  EXPECT_EQ(values[1], 0.0f);
  EXPECT_EQ(values[2], -2.5f);
}

TEST(InitialWeightsTest, MissingMisshapenAndIntegerTensors) {
  TempDir dir;
  Program program = smallParsed();
  SlotBuffers buffers(program);
  std::string path = dir.path("init.safetensors");

  io::TensorFile file;
  file.tensors["fc.weight"] = f32({3, 3}, 0);
  write(path, file);
  Error error =
      expectError([&] { program::loadParameters(path, program, buffers); });
  EXPECT_EQ(std::string(error.what()),
            path + ": no tensor 'fc.bias' for the parameter of that name of "
                   "model 'small', f32[3]");

  file.tensors["fc.bias"] = f32({3, 1}, 0);
  write(path, file);
  error = expectError([&] { program::loadParameters(path, program, buffers); });
  EXPECT_EQ(std::string(error.what()),
            path + ": tensor 'fc.bias' has shape [3, 1], but the parameter "
                   "'fc.bias' of model 'small' has shape [3]");

  file.tensors["fc.bias"] = io::TensorData::zeros(io::DType::I64, {3});
  write(path, file);
  error = expectError([&] { program::loadParameters(path, program, buffers); });
  EXPECT_NE(std::string(error.what()).find("'fc.bias' holds I64 values, but the parameter holds f32"),
            std::string::npos)
      << error.what();
}

} // namespace
