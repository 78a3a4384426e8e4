//===- Flags.h - The command line of a training executable ----------------===//

#ifndef KILN_RUNTIME_TRAIN_FLAGS_H
#define KILN_RUNTIME_TRAIN_FLAGS_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

struct Program;

/// The flags of a run. Those that override the recipe are optional, so that
/// a resumed run can tell a flag the user gave from the recipe's value.
struct Options {
  std::optional<int64_t> epochs, maxSteps;
  std::optional<uint64_t> seed;
  std::optional<int32_t> threads;
  std::optional<bool> shuffle;
  std::string data, init, save, resume, metrics;
  /// 0 when off.
  int64_t saveEvery = 0, evalEvery = 0;
  /// Timed training steps of --benchmark; 0 when off.
  int64_t benchmark = 0;
  bool quiet = false, help = false, version = false;
};

/// Parses the arguments that follow the program's name. Throws a usage
/// Error (exit status 2) for an unknown flag, a missing or bad value, or
/// flags that contradict each other.
Options parseFlags(const std::vector<std::string> &args);

/// The text of --help: every flag, and the recipe of `program`.
std::string usage(const std::string &programName, const Program &program);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_FLAGS_H
