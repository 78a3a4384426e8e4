//===- Flags.h - The command line of a training executable ----------------===//

#ifndef KILN_RUNTIME_TRAIN_FLAGS_H
#define KILN_RUNTIME_TRAIN_FLAGS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

struct Program;

/// What a run does: train (the default), or use a trained model.
enum class Command { Train, Predict, Generate };

/// "train", "predict", "generate".
const char *commandName(Command command);

/// The flags of a run. Those that override the recipe are optional, so that
/// a resumed run can tell a flag the user gave from the recipe's value.
struct Options {
  Command command = Command::Train;
  std::optional<int64_t> epochs, maxSteps;
  std::optional<uint64_t> seed;
  std::optional<int32_t> threads;
  /// --threads auto: training may move to one thread fewer.
  bool adaptThreads = false;
  std::optional<bool> shuffle;
  std::string data, init, save, resume, metrics;
  /// 0 when off.
  int64_t saveEvery = 0, evalEvery = 0;
  /// Timed training steps of --benchmark; 0 when off.
  int64_t benchmark = 0;
  bool quiet = false, help = false, version = false;

  /// predict and generate: the trained parameters.
  std::string checkpoint;
  /// predict: the examples, and where their outputs go.
  std::string input, output;
  /// predict: the factor of array inputs instead of the recipe's scale.
  std::optional<double> scale;
  /// generate: the text to continue, the tokens to add, and how to draw
  /// them (temperature 0 is greedy; top-k 0 keeps every token).
  std::optional<std::string> prompt;
  int64_t tokens = 200;
  double temperature = 1.0;
  int64_t topK = 0;
};

/// Parses the arguments that follow the program's name: an optional
/// command, then flags. Throws a usage Error (exit status 2) for an unknown
/// command or flag, a flag of another command, a missing or bad value, or
/// flags that contradict each other.
Options parseFlags(const std::vector<std::string> &args);

/// The text of --help for `command`: its flags, and the recipe of `program`.
std::string usage(const std::string &programName, const Program &program,
                  Command command = Command::Train);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_FLAGS_H
