//===- ProgressTest.cpp - What a run shows, and its metrics file ----------===//

#include "TrainTesting.h"

#include "train/Progress.h"

#include <cmath>
#include <fstream>
#include <sstream>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

/// Everything written to `file` so far.
std::string contents(std::FILE *file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  while (size_t count = std::fread(buffer, 1, sizeof(buffer), file))
    text.append(buffer, count);
  return text;
}

Evaluation halfRight() {
  Evaluation result;
  result.examples = 10;
  result.correct = 5;
  result.lossSum = 10 * 0.6931;
  result.hasAccuracy = true;
  return result;
}

TEST(ProgressTest, Durations) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(59.4), "59s");
  EXPECT_EQ(formatDuration(59.6), "1m00s");
  EXPECT_EQ(formatDuration(125), "2m05s");
  EXPECT_EQ(formatDuration(3600), "1h00m");
  EXPECT_EQ(formatDuration(7325), "2h02m");
  EXPECT_EQ(formatDuration(-1), "0s");
}

TEST(ProgressTest, LinesEveryTenthOfAnEpoch) {
  std::FILE *file = std::tmpfile();
  {
    Progress progress(ProgressStyle::Lines, file, 4, 20, 2, 40);
    progress.beginEpoch();
    for (int64_t step = 1; step <= 20; ++step)
      progress.step(step, 1, step <= 10 ? 1.0f : 2.0f, 0.001);
    Evaluation result = halfRight();
    progress.endEpoch(1, 20, true, &result);
  }
  std::istringstream lines(contents(file));
  std::fclose(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);)
    all.push_back(line);
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all[0],
            "epoch 1/2  step 2/40  loss 1.0000  4000 samples/s  ETA 0s");
  EXPECT_EQ(all[9].rfind("epoch 1/2  step 20/40  loss 1.5000  ", 0), 0u);
  EXPECT_EQ(all[10].rfind("epoch 1: train loss 1.5000 test acc 0.5000 test "
                          "loss 0.6931 elapsed 0s (1 ms/step)",
                          0),
            0u)
      << all[10];
}

TEST(ProgressTest, BarRedrawsOneLine) {
  std::FILE *file = std::tmpfile();
  {
    Progress progress(ProgressStyle::Bar, file, 4, 1, 1, 1);
    progress.beginEpoch();
    progress.step(1, 1, 0.5f, 0.002);
    progress.endEpoch(1, 1, true, nullptr);
  }
  // The bar is drawn over itself, and erased for the epoch's line.
  EXPECT_EQ(contents(file),
            "\repoch 1/1  step 1/1  loss 0.5000  2000 samples/s  ETA 0s\033[K"
            "\r\033[Kepoch 1: train loss 0.5000 elapsed 0s (2 ms/step)\n");
  std::fclose(file);
}

TEST(ProgressTest, BarEndsItsLineWhenTheRunStops) {
  std::FILE *file = std::tmpfile();
  {
    Progress progress(ProgressStyle::Bar, file, 4, 10, 1, 10);
    progress.beginEpoch();
    progress.step(1, 1, 0.5f, 0.002);
  }
  std::string text = contents(file);
  std::fclose(file);
  EXPECT_EQ(text.back(), '\n');
}

TEST(ProgressTest, StoppedEpochAndEvaluations) {
  std::FILE *file = std::tmpfile();
  {
    Progress progress(ProgressStyle::Lines, file, 4, 100, 3, 150);
    progress.beginEpoch();
    Evaluation result = halfRight();
    result.hasAccuracy = false;
    progress.evaluation(140, result);
    progress.endEpoch(2, 150, false, &result);
  }
  EXPECT_EQ(contents(file), "step 140: test loss 0.6931\n"
                            "epoch 2 (stopped at step 150): test loss 0.6931 "
                            "elapsed 0s\n");
  std::fclose(file);
}

TEST(ProgressTest, QuietPrintsNothing) {
  std::FILE *file = std::tmpfile();
  {
    Progress progress(ProgressStyle::Quiet, file, 4, 2, 1, 2);
    progress.beginEpoch();
    progress.step(1, 1, 0.5f, 0.001);
    Evaluation result = halfRight();
    progress.evaluation(1, result);
    progress.endEpoch(1, 1, false, &result);
  }
  EXPECT_EQ(contents(file), "");
  std::fclose(file);
}

TEST(MetricsLogTest, JsonLines) {
  TempDir dir;
  std::string path = dir.path("m.jsonl");
  {
    MetricsLog metrics(path);
    metrics.step(1, 1, 0.1f, 0.01f);
    metrics.step(2, 1, NAN, 0.01f);
    metrics.evaluation(1, 2, halfRight());
    Evaluation noMetric = halfRight();
    noMetric.hasAccuracy = false;
    metrics.evaluation(1, 2, noMetric);
  }
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);)
    lines.push_back(line);
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                R"({"step":1,"epoch":1,"loss":0.10000000149011612,)"
                R"("lr":0.009999999776482582})",
                R"({"step":2,"epoch":1,"loss":null,"lr":0.009999999776482582})",
                R"({"epoch":1,"step":2,"accuracy":0.5,"loss":0.6931})",
                R"({"epoch":1,"step":2,"accuracy":null,"loss":0.6931})"}));
  // Every float is written in full: it reads back to the same bits.
  EXPECT_EQ(
      static_cast<float>(nlohmann::json::parse(lines[0])["loss"].get<double>()),
      0.1f);
}

TEST(MetricsLogTest, NoPathWritesNothing) {
  MetricsLog metrics("");
  metrics.step(1, 1, 0.1f, 0.01f);
}

TEST(MetricsLogTest, UnwritablePath) {
  Error error = expectError([] { MetricsLog("/nonexistent/m.jsonl"); });
  EXPECT_EQ(std::string(error.what()),
            "/nonexistent/m.jsonl: cannot create the metrics file (No such "
            "file or directory)");
}

} // namespace
