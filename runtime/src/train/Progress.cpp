//===- Progress.cpp - What a run shows on stderr, and its metrics file ----===//
//
// Speeds and the ETA count the training steps' own time, not evaluations or
// saves, so that they describe the model rather than the test set's size.
// Metrics lines are written with nlohmann-json: a NaN loss becomes null, and
// every float is printed in full, so that two runs compare bit for bit.
//
//===----------------------------------------------------------------------===//

#include "train/Progress.h"
#include "train/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

using namespace kiln;
using namespace kiln::train;

namespace {

/// A bar is redrawn at most this often: drawing every step of a small model
/// would cost more than the step.
constexpr std::chrono::milliseconds kRedrawInterval(100);

std::string format(const char *pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

std::string describe(const Evaluation &result) {
  std::string text;
  if (result.hasAccuracy)
    text += "test acc " + format("%.4f", result.accuracy()) + " ";
  return text + "test loss " + format("%.4f", result.loss());
}

} // namespace

std::string kiln::train::formatDuration(double seconds) {
  auto whole = static_cast<int64_t>(std::llround(std::max(seconds, 0.0)));
  char text[32];
  if (whole < 60)
    std::snprintf(text, sizeof(text), "%llds", static_cast<long long>(whole));
  else if (whole < 3600)
    std::snprintf(text, sizeof(text), "%lldm%02llds",
                  static_cast<long long>(whole / 60),
                  static_cast<long long>(whole % 60));
  else
    std::snprintf(text, sizeof(text), "%lldh%02lldm",
                  static_cast<long long>(whole / 3600),
                  static_cast<long long>(whole / 60 % 60));
  return text;
}

Progress::Progress(ProgressStyle style, std::FILE *stream,
                   int64_t examplesPerStep, int64_t stepsPerEpoch,
                   int64_t epochs, int64_t totalSteps)
    : style(style), stream(stream), examplesPerStep(examplesPerStep),
      stepsPerEpoch(stepsPerEpoch), epochs(epochs), totalSteps(totalSteps),
      start(Clock::now()) {}

Progress::~Progress() {
  if (barShown)
    std::fputc('\n', stream);
}

void Progress::beginEpoch() {
  epochSteps = 0;
  epochLoss = 0;
  epochSeconds = 0;
}

void Progress::step(int64_t step, int64_t epoch, float loss, double seconds) {
  ++epochSteps;
  epochLoss += loss;
  epochSeconds += seconds;
  ++runSteps;
  runSeconds += seconds;
  if (style == ProgressStyle::Quiet)
    return;

  Clock::time_point now = Clock::now();
  int64_t inEpoch = (step - 1) % stepsPerEpoch + 1;
  if (style == ProgressStyle::Bar) {
    if (barShown && now - lastDraw < kRedrawInterval)
      return;
  } else if (inEpoch % ((stepsPerEpoch + 9) / 10) != 0) {
    return;
  }
  lastDraw = now;
  double perStep = runSeconds / runSteps;
  std::string line =
      "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) +
      "  step " + std::to_string(step) + "/" + std::to_string(totalSteps) +
      "  loss " + format("%.4f", epochLoss / epochSteps) + "  " +
      format("%.0f", perStep > 0 ? examplesPerStep / perStep : 0) +
      " samples/s  ETA " + formatDuration(perStep * (totalSteps - step));
  if (style == ProgressStyle::Bar) {
    // \033[K erases what a longer previous line left on the right.
    std::fprintf(stream, "\r%s\033[K", line.c_str());
    std::fflush(stream);
    barShown = true;
    return;
  }
  print(line);
}

void Progress::endEpoch(int64_t epoch, int64_t step, bool complete,
                        const Evaluation *evaluation) {
  std::string line = "epoch " + std::to_string(epoch);
  if (!complete)
    line += " (stopped at step " + std::to_string(step) + ")";
  line += ":";
  if (epochSteps)
    line += " train loss " + format("%.4f", epochLoss / epochSteps);
  if (evaluation)
    line += " " + describe(*evaluation);
  line += " elapsed " +
          formatDuration(
              std::chrono::duration<double>(Clock::now() - start).count());
  if (epochSteps)
    line +=
        " (" + format("%.3g", 1000 * epochSeconds / epochSteps) + " ms/step)";
  print(line);
}

void Progress::evaluation(int64_t step, const Evaluation &result) {
  print("step " + std::to_string(step) + ": " + describe(result));
}

void Progress::print(const std::string &line) {
  if (style == ProgressStyle::Quiet)
    return;
  clearBar();
  std::fprintf(stream, "%s\n", line.c_str());
  std::fflush(stream);
}

void Progress::clearBar() {
  if (!barShown)
    return;
  std::fputs("\r\033[K", stream);
  barShown = false;
}

MetricsLog::MetricsLog(const std::string &path) : path(path) {
  if (path.empty())
    return;
  file = std::fopen(path.c_str(), "w");
  if (!file)
    throw Error(path + ": cannot create the metrics file (" +
                    std::strerror(errno) + ")",
                "check that its directory exists and is writable");
}

MetricsLog::~MetricsLog() {
  if (file)
    std::fclose(file);
}

void MetricsLog::step(int64_t step, int64_t epoch, float loss, float lr) {
  if (!file)
    return;
  nlohmann::ordered_json line = {{"step", step},
                                 {"epoch", epoch},
                                 {"loss", static_cast<double>(loss)},
                                 {"lr", static_cast<double>(lr)}};
  write(line.dump());
}

void MetricsLog::evaluation(int64_t epoch, int64_t step,
                            const Evaluation &result) {
  if (!file)
    return;
  nlohmann::ordered_json line = {{"epoch", epoch}, {"step", step}};
  line["accuracy"] = result.hasAccuracy
                         ? nlohmann::ordered_json(result.accuracy())
                         : nlohmann::ordered_json();
  line["loss"] = result.loss();
  write(line.dump());
}

void MetricsLog::write(const std::string &line) {
  if (std::fprintf(file, "%s\n", line.c_str()) < 0 || std::fflush(file) != 0)
    throw Error(path + ": cannot write the metrics file (" +
                    std::strerror(errno) + ")",
                "check the free space of its disk");
}
