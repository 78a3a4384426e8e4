//===- TrainerTest.cpp - The training loop --------------------------------===//

#include "TrainTesting.h"

#include "train/Checkpoint.h"
#include "train/Data.h"
#include "train/Executor.h"
#include "train/Init.h"
#include "train/Progress.h"
#include "train/Ranks.h"
#include "train/Trainer.h"

#include <fstream>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

std::vector<std::string> readLines(const std::string &path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    lines.push_back(line);
  return lines;
}

TEST(TrainerTest, StepCounts) {
  Program program = smallParsed();
  // 32 examples in batches of 4.
  EXPECT_EQ(stepsPerEpoch(program, 32), 8);
  TrainSettings settings;
  settings.epochs = 3;
  EXPECT_EQ(totalSteps(settings, 8), 24);
  settings.maxSteps = 30;
  EXPECT_EQ(totalSteps(settings, 8), 24);
  settings.maxSteps = 5;
  EXPECT_EQ(totalSteps(settings, 8), 5);
  settings.maxSteps = 0;
  settings.epochs = INT64_MAX;
  EXPECT_EQ(totalSteps(settings, 8), INT64_MAX);

  // A partial last batch is dropped, or completed when drop_last is off.
  EXPECT_EQ(stepsPerEpoch(program, 35), 8);
  program.recipe.dropLast = false;
  EXPECT_EQ(stepsPerEpoch(program, 35), 9);
  EXPECT_EQ(stepsPerEpoch(program, 32), 8);
}

/// Trains the small program from `done` (restoring `resume` when given),
/// writing metrics to `metricsPath` and, when `savePath` is given, a
/// checkpoint at the end.
Evaluation trainSmall(const TrainSettings &settings, int64_t done,
                      const std::string &resume,
                      const std::string &metricsPath) {
  Program program = smallParsed();
  SlotBuffers buffers(program);
  initializeParameters(program, buffers, settings.seed);
  if (!resume.empty())
    EXPECT_EQ(loadCheckpoint(resume, program, buffers).step, done);
  RunData data = openData(program, "");
  std::FILE *quiet = std::tmpfile();
  Progress progress(ProgressStyle::Quiet, quiet, 4, 8, settings.epochs, 16);
  MetricsLog metrics(metricsPath);
  HostExecutor executor(smallProgram(), program, buffers);
  RunResult result = runTraining(executor, program, buffers, data, settings,
                                 done, progress, metrics, Ranks());
  std::fclose(quiet);
  EXPECT_EQ(result.steps, totalSteps(settings, 8) - done);
  return result.evaluation;
}

TEST(TrainerTest, ResumedRunRepeatsTheUninterruptedOne) {
  TempDir dir;
  TrainSettings settings;
  settings.epochs = 2;
  settings.seed = 5;
  settings.evalEvery = 3;
  Evaluation whole = trainSmall(settings, 0, "", dir.path("whole.jsonl"));

  TrainSettings first = settings;
  first.maxSteps = 11;
  first.savePath = dir.path("ck.safetensors");
  trainSmall(first, 0, "", dir.path("first.jsonl"));
  Evaluation rest =
      trainSmall(settings, 11, first.savePath, dir.path("rest.jsonl"));

  std::vector<std::string> expected = readLines(dir.path("whole.jsonl"));
  std::vector<std::string> firstLines = readLines(dir.path("first.jsonl"));
  // The first part's lines, up to its last step (then its final evaluation,
  // at step 11, which the whole run does not have).
  size_t stepLines = 0;
  for (const std::string &line : firstLines)
    stepLines += line.rfind("{\"step\":", 0) == 0;
  EXPECT_EQ(stepLines, 11u);
  std::vector<std::string> restLines = readLines(dir.path("rest.jsonl"));
  ASSERT_LE(restLines.size(), expected.size());
  EXPECT_EQ(restLines, std::vector<std::string>(
                           expected.end() - restLines.size(), expected.end()));
  EXPECT_EQ(restLines.front().rfind("{\"step\":12,", 0), 0u);
  EXPECT_EQ(rest.correct, whole.correct);
  EXPECT_EQ(rest.lossSum, whole.lossSum);
}

TEST(TrainerTest, EmptyTestSetIsNotEvaluated) {
  TempDir dir;
  Program program = Program::parse(editDescription(
      [](nlohmann::json &j) { j["recipe"]["data"]["test"] = 0; }));
  SlotBuffers buffers(program);
  RunData data = openData(program, "");
  TrainSettings settings;
  settings.evalEvery = 2;
  std::FILE *quiet = std::tmpfile();
  Progress progress(ProgressStyle::Quiet, quiet, 4, 8, 1, 8);
  MetricsLog metrics(dir.path("m.jsonl"));
  HostExecutor executor(smallProgram(), program, buffers);
  RunResult result = runTraining(executor, program, buffers, data, settings, 0,
                                 progress, metrics, Ranks());
  std::fclose(quiet);
  EXPECT_EQ(result.evaluation.examples, 0);
  std::vector<std::string> lines = readLines(dir.path("m.jsonl"));
  EXPECT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines.back().rfind("{\"step\":8,", 0), 0u);
}

} // namespace
