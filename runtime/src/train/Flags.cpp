//===- Flags.cpp - Parsing the flags of a trainer, and its --help ---------===//
//
// One table lists every flag, its value and its help, so that --help cannot
// forget a flag that the parser knows. Values are checked strictly (whole
// decimal numbers, no sign, no trailing text): a typo in a long run's flags
// should stop it at once, not after hours.
//
//===----------------------------------------------------------------------===//

#include "train/Flags.h"
#include "train/Error.h"
#include "train/Program.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

using namespace kiln;
using namespace kiln::train;

namespace {

constexpr int64_t kMaxThreads = 4096;

struct Flag {
  const char *name;
  /// What the value is called in --help; null for flags without a value.
  const char *value;
  const char *help;
  void (*apply)(Options &options, const std::string &flag,
                const std::string &value);
};

/// A whole decimal number in [least, most].
uint64_t parseNumber(const std::string &flag, const std::string &value,
                     uint64_t least, uint64_t most) {
  auto fail = [&] {
    return usageError(flag + ": expected a whole number from " +
                      std::to_string(least) + " to " + std::to_string(most) +
                      ", got '" + value + "'");
  };
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    throw fail();
  errno = 0;
  unsigned long long number = std::strtoull(value.c_str(), nullptr, 10);
  if (errno == ERANGE || number < least || number > most)
    throw fail();
  return number;
}

int64_t parseCount(const std::string &flag, const std::string &value) {
  return static_cast<int64_t>(parseNumber(flag, value, 1, INT64_MAX));
}

std::string parsePath(const std::string &flag, const std::string &value) {
  if (value.empty())
    throw usageError(flag + ": expected a path, got an empty string");
  return value;
}

const Flag kFlags[] = {
    {"epochs", "N", "train for N epochs instead of the recipe's",
     [](Options &o, const std::string &f, const std::string &v) {
       o.epochs = parseCount(f, v);
     }},
    {"max-steps", "N",
     "stop after N updates in all (the schedule then ends at N)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.maxSteps = parseCount(f, v);
     }},
    {"seed", "N",
     "seed of initialization and shuffling instead of the "
     "recipe's",
     [](Options &o, const std::string &f, const std::string &v) {
       o.seed = parseNumber(f, v, 0, UINT64_MAX);
     }},
    {"threads", "N", "threads of the runtime; 0, the default, is one per core",
     [](Options &o, const std::string &f, const std::string &v) {
       o.threads = static_cast<int32_t>(parseNumber(f, v, 0, kMaxThreads));
     }},
    {"data", "PATH",
     "read the data from PATH instead of the recipe's directory: the "
     "directory that the data source's relative paths are read from",
     [](Options &o, const std::string &f, const std::string &v) {
       o.data = parsePath(f, v);
     }},
    {"init", "FILE",
     "initial parameters from a safetensors file, by name (e.g. a PyTorch "
     "state_dict); other tensors are ignored",
     [](Options &o, const std::string &f, const std::string &v) {
       o.init = parsePath(f, v);
     }},
    {"save", "FILE", "write a checkpoint after every epoch and at the end",
     [](Options &o, const std::string &f, const std::string &v) {
       o.save = parsePath(f, v);
     }},
    {"save-every", "N", "also write it every N updates (needs --save)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.saveEvery = parseCount(f, v);
     }},
    {"resume", "FILE",
     "continue the run saved in checkpoint FILE, exactly where it stopped",
     [](Options &o, const std::string &f, const std::string &v) {
       o.resume = parsePath(f, v);
     }},
    {"shuffle", "on|off",
     "shuffle the examples of each epoch (on, the default) or take them in "
     "file order (off)",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v != "on" && v != "off")
         throw usageError(f + ": expected 'on' or 'off', got '" + v + "'");
       o.shuffle = v == "on";
     }},
    {"eval-every", "N",
     "also evaluate on the test set every N updates, besides each epoch's "
     "end",
     [](Options &o, const std::string &f, const std::string &v) {
       o.evalEvery = parseCount(f, v);
     }},
    {"metrics", "FILE",
     "write JSON lines to FILE (replacing it): one per update (step, epoch, "
     "loss, lr), one per evaluation (epoch, step, accuracy, loss)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.metrics = parsePath(f, v);
     }},
    {"benchmark", "N",
     "time N training steps (after a few untimed ones) on a synthetic "
     "batch, print the median step time and exit",
     [](Options &o, const std::string &f, const std::string &v) {
       o.benchmark = parseCount(f, v);
     }},
    {"quiet", nullptr, "print only the final result",
     [](Options &o, const std::string &, const std::string &) {
       o.quiet = true;
     }},
    {"help", nullptr, "print this help and exit",
     [](Options &o, const std::string &, const std::string &) {
       o.help = true;
     }},
    {"version", nullptr, "print the version and exit",
     [](Options &o, const std::string &, const std::string &) {
       o.version = true;
     }},
};

/// The edit distance of `a` and `b`, to suggest the flag a typo meant.
size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// `spelled` as given, `name` without its dashes.
Error unknownFlag(const std::string &spelled, const std::string &name) {
  const Flag *closest = nullptr;
  size_t best = 3; // Farther than two edits is no longer a typo.
  for (const Flag &flag : kFlags) {
    size_t distance = editDistance(name, flag.name);
    if (distance < best) {
      best = distance;
      closest = &flag;
    }
  }
  std::string message = "unknown flag '" + spelled + "'";
  if (closest)
    message += "; did you mean '--" + std::string(closest->name) + "'?";
  return usageError(message);
}

/// --benchmark runs no training: the flags that shape a run contradict it.
void checkBenchmark(const Options &options) {
  const std::pair<bool, const char *> runFlags[] = {
      {options.epochs.has_value(), "--epochs"},
      {options.maxSteps.has_value(), "--max-steps"},
      {options.shuffle.has_value(), "--shuffle"},
      {!options.data.empty(), "--data"},
      {!options.save.empty(), "--save"},
      {!options.resume.empty(), "--resume"},
      {options.evalEvery != 0, "--eval-every"},
      {!options.metrics.empty(), "--metrics"},
  };
  for (const auto &[given, name] : runFlags)
    if (given)
      throw usageError(std::string("--benchmark times the training step on a "
                                   "synthetic batch; it takes no ") +
                           name,
                       "with --benchmark give only --threads, --seed, --init "
                       "and --quiet");
}

} // namespace

Options kiln::train::parseFlags(const std::vector<std::string> &args) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg == "-h") {
      options.help = true;
      continue;
    }
    size_t dashes = arg.compare(0, 2, "--") == 0      ? 2
                    : arg.size() > 1 && arg[0] == '-' ? 1
                                                      : 0;
    if (dashes == 0 || arg.size() == dashes)
      throw usageError("unexpected argument '" + arg +
                       "'; the trainer takes only flags");
    size_t equals = arg.find('=');
    std::string name =
        arg.substr(dashes, equals == std::string::npos ? std::string::npos
                                                       : equals - dashes);
    auto flag = std::find_if(std::begin(kFlags), std::end(kFlags),
                             [&](const Flag &f) { return name == f.name; });
    // One dash is the habit of LLVM's tools: a typo here, and said so.
    if (flag == std::end(kFlags) || dashes == 1)
      throw unknownFlag(arg.substr(0, equals), name);
    std::string spelled = "--" + name;
    std::string value;
    if (!flag->value) {
      if (equals != std::string::npos)
        throw usageError(spelled + " takes no value");
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw usageError(spelled + " needs a value (" + flag->value + ")");
    }
    flag->apply(options, spelled, value);
  }
  if (options.saveEvery && options.save.empty())
    throw usageError("--save-every needs --save FILE, the checkpoint to write");
  if (!options.init.empty() && !options.resume.empty())
    throw usageError("--init and --resume both set the parameters; give one",
                     "--resume continues a run; --init starts a new one from "
                     "given weights");
  if (options.benchmark)
    checkBenchmark(options);
  return options;
}

std::string kiln::train::usage(const std::string &programName,
                               const Program &program) {
  const Recipe &recipe = program.recipe;
  int64_t values = 0;
  for (size_t param : program.params)
    values += program.slots[param].numElements();

  std::string text = "usage: " + programName + " [flags]\n\n";
  text += "Trains the model '" + program.model +
          "' and prints its final test result (accuracy, or loss).\n"
          "It follows the recipe below, evaluating on the test set after "
          "every epoch;\nflags override the recipe.\n\nRecipe:\n";
  auto row = [&](const char *name, const std::string &value) {
    if (!value.empty())
      text += "  " + std::string(name) +
              std::string(13 - std::string(name).size(), ' ') + value + "\n";
  };
  row("data", recipe.data.summary);
  row("batch size", std::to_string(recipe.batchSize));
  row("epochs", std::to_string(recipe.epochs));
  row("optimizer", recipe.optimizer);
  row("schedule", recipe.schedule);
  row("clip norm", recipe.clipGradNorm);
  row("metric", recipe.metric);
  row("seed", std::to_string(recipe.seed));
  row("parameters", std::to_string(program.params.size()) + " tensors, " +
                        std::to_string(values) + " values");

  text += "\nFlags (each also as --flag=value):\n";
  constexpr size_t kColumn = 20;
  for (const Flag &flag : kFlags) {
    std::string left = "  --" + std::string(flag.name);
    if (flag.value)
      left += " " + std::string(flag.value);
    // Help wraps at 80 columns, continuing under its first word.
    std::string line = left + std::string(kColumn - left.size(), ' ');
    std::string word, help = std::string(flag.help) + " ";
    for (char c : help) {
      if (c != ' ') {
        word += c;
        continue;
      }
      if (line.size() + 1 + word.size() > 80 && line.size() > kColumn) {
        text += line + "\n";
        line = std::string(kColumn, ' ');
      }
      line += (line.size() > kColumn ? " " : "") + word;
      word.clear();
    }
    text += line + "\n";
  }
  text += "\nProgress goes to stderr (a progress bar on a terminal), the "
          "final result to\nstdout. Exit status: 0 on success, 1 on a data or "
          "file error, 2 on a bad flag.\n";
  return text;
}
