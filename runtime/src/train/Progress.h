//===- Progress.h - What a run shows on stderr, and its metrics file ------===//

#ifndef KILN_RUNTIME_TRAIN_PROGRESS_H
#define KILN_RUNTIME_TRAIN_PROGRESS_H

#include "train/Evaluate.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kiln::train {

/// A bar redrawn in place (a terminal), a plain line every tenth of an
/// epoch (a log file), or nothing but the final result (--quiet).
enum class ProgressStyle { Bar, Lines, Quiet };

/// "45s", "3m05s", "2h07m".
std::string formatDuration(double seconds);

/// Reports a run as it goes: its progress, one line per epoch, and notes.
class Progress {
public:
  /// `examplesPerStep` are an update's examples, for samples/s.
  Progress(ProgressStyle style, std::FILE *stream, int64_t examplesPerStep,
           int64_t stepsPerEpoch, int64_t epochs, int64_t totalSteps);
  /// Ends a bar that is still drawn, so that what follows starts a line.
  ~Progress();

  /// Starts the clock of an epoch.
  void beginEpoch();
  /// Update `step` of epoch `epoch` (both from 1) gave `loss` in `seconds`.
  void step(int64_t step, int64_t epoch, float loss, double seconds);
  /// The line of epoch `epoch`, which ended at update `step`, early when
  /// `complete` is false (--max-steps); `evaluation` is null when the test
  /// set is empty.
  void endEpoch(int64_t epoch, int64_t step, bool complete,
                const Evaluation *evaluation);
  /// An evaluation between the ends of epochs (--eval-every).
  void evaluation(int64_t step, const Evaluation &result);

private:
  using Clock = std::chrono::steady_clock;

  void print(const std::string &line);
  void clearBar();

  ProgressStyle style;
  std::FILE *stream;
  int64_t examplesPerStep, stepsPerEpoch, epochs, totalSteps;
  Clock::time_point start, lastDraw;
  bool barShown = false;
  /// The current epoch's updates in this process: their count, loss sum and
  /// time.
  int64_t epochSteps = 0;
  double epochLoss = 0, epochSeconds = 0;
  /// The updates of this process, for samples/s and the ETA.
  int64_t runSteps = 0;
  double runSeconds = 0;
};

/// The --metrics file: JSON lines, one object per update and one per
/// evaluation, flushed as they are written so that a crashed run keeps them.
class MetricsLog {
public:
  /// Creates or replaces `path`; an empty path writes nothing. Throws Error.
  explicit MetricsLog(const std::string &path);
  ~MetricsLog();
  MetricsLog(const MetricsLog &) = delete;
  MetricsLog &operator=(const MetricsLog &) = delete;

  void step(int64_t step, int64_t epoch, float loss, float lr);
  void evaluation(int64_t epoch, int64_t step, const Evaluation &result);

private:
  void write(const std::string &line);

  std::string path;
  std::FILE *file = nullptr;
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_PROGRESS_H
