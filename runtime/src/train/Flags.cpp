//===- Flags.cpp - Parsing the flags of a trainer, and its --help ---------===//
//
// One table lists every flag, the commands it belongs to, its value and its
// help, so that --help cannot forget a flag that the parser knows. Values are
// checked strictly (whole decimal numbers, no sign, no trailing text): a typo
// in a long run's flags should stop it at once, not after hours.
//
//===----------------------------------------------------------------------===//

#include "train/Flags.h"
#include "train/Error.h"
#include "train/Program.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace kiln;
using namespace kiln::train;

namespace {

constexpr int64_t kMaxThreads = 4096;

/// The commands a flag belongs to, as a mask.
enum : unsigned {
  kTrain = 1 << unsigned(Command::Train),
  kPredict = 1 << unsigned(Command::Predict),
  kGenerate = 1 << unsigned(Command::Generate),
  kUse = kPredict | kGenerate,
  kAll = kTrain | kUse
};

constexpr Command kCommands[] = {Command::Train, Command::Predict,
                                 Command::Generate};

struct Flag {
  unsigned commands;
  const char *name;
  /// What the value is called in --help; null for flags without a value.
  const char *value;
  const char *help;
  void (*apply)(Options &options, const std::string &flag,
                const std::string &value);
};

/// A whole decimal number in [least, most]; `word` names the flag's other
/// value, if it has one.
uint64_t parseNumber(const std::string &flag, const std::string &value,
                     uint64_t least, uint64_t most,
                     const char *word = nullptr) {
  auto fail = [&] {
    return usageError(flag + ": expected " +
                      (word ? "'" + std::string(word) + "' or " : "") +
                      "a whole number from " + std::to_string(least) + " to " +
                      std::to_string(most) + ", got '" + value + "'");
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

/// A finite decimal number, the whole value, of at least `least` if given.
double parseReal(const std::string &flag, const std::string &value,
                 std::optional<double> least = std::nullopt) {
  char *end = nullptr;
  errno = 0;
  double number = value.empty() ? NAN : std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno == ERANGE ||
      !std::isfinite(number) || (least && number < *least)) {
    char bound[32] = "";
    if (least)
      std::snprintf(bound, sizeof(bound), " of at least %g", *least);
    throw usageError(flag + ": expected a number" + bound + ", got '" + value +
                     "'");
  }
  return number;
}

const Flag kFlags[] = {
    {kTrain, "epochs", "N", "train for N epochs instead of the recipe's",
     [](Options &o, const std::string &f, const std::string &v) {
       o.epochs = parseCount(f, v);
     }},
    {kTrain, "max-steps", "N",
     "stop after N updates in all (the schedule then ends at N)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.maxSteps = parseCount(f, v);
     }},
    {kTrain | kGenerate, "seed", "N",
     "seed of initialization and shuffling instead of the recipe's; for "
     "generate, of sampling (default 0)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.seed = parseNumber(f, v, 0, UINT64_MAX);
     }},
    {kAll, "threads", "N|auto",
     "threads of the runtime; 0 (the default): one per usable core; auto: "
     "as 0, and training moves to one thread fewer while that is faster "
     "(another process busy on a core), which may change the last bits of "
     "the results",
     [](Options &o, const std::string &f, const std::string &v) {
       o.adaptThreads = v == "auto";
       o.threads = o.adaptThreads
                       ? std::nullopt
                       : std::optional<int32_t>(static_cast<int32_t>(
                             parseNumber(f, v, 0, kMaxThreads, "auto")));
     }},
    {kTrain, "data", "PATH",
     "read the data from PATH instead of the recipe's directory: the "
     "directory that the data source's relative paths are read from",
     [](Options &o, const std::string &f, const std::string &v) {
       o.data = parsePath(f, v);
     }},
    {kTrain, "init", "FILE",
     "initial parameters from a safetensors file, by name (e.g. a PyTorch "
     "state_dict); other tensors are ignored",
     [](Options &o, const std::string &f, const std::string &v) {
       o.init = parsePath(f, v);
     }},
    {kTrain, "save", "FILE",
     "write a checkpoint after every epoch and at the end",
     [](Options &o, const std::string &f, const std::string &v) {
       o.save = parsePath(f, v);
     }},
    {kTrain, "save-every", "N", "also write it every N updates (needs --save)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.saveEvery = parseCount(f, v);
     }},
    {kTrain, "resume", "FILE",
     "continue the run saved in checkpoint FILE, exactly where it stopped",
     [](Options &o, const std::string &f, const std::string &v) {
       o.resume = parsePath(f, v);
     }},
    {kTrain, "shuffle", "on|off",
     "shuffle the examples of each epoch (on, the default) or take them in "
     "file order (off)",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v != "on" && v != "off")
         throw usageError(f + ": expected 'on' or 'off', got '" + v + "'");
       o.shuffle = v == "on";
     }},
    {kTrain, "eval-every", "N",
     "also evaluate on the test set every N updates, besides each epoch's "
     "end",
     [](Options &o, const std::string &f, const std::string &v) {
       o.evalEvery = parseCount(f, v);
     }},
    {kTrain, "metrics", "FILE",
     "write JSON lines to FILE (replacing it): one per update (step, epoch, "
     "loss, lr), one per evaluation (epoch, step, accuracy, loss)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.metrics = parsePath(f, v);
     }},
    {kTrain, "benchmark", "N",
     "time N training steps (after a few untimed ones) on a synthetic "
     "batch, print the median step time and exit",
     [](Options &o, const std::string &f, const std::string &v) {
       o.benchmark = parseCount(f, v);
     }},
    {kUse, "checkpoint", "FILE",
     "the trained parameters: a checkpoint (--save) or a PyTorch state_dict "
     "in safetensors",
     [](Options &o, const std::string &f, const std::string &v) {
       o.checkpoint = parsePath(f, v);
     }},
    {kPredict, "input", "PATH",
     "the examples: a .npy, .npz or safetensors file or a directory of .npy "
     "files (arrays by input name), a .csv table, or a folder of images",
     [](Options &o, const std::string &f, const std::string &v) {
       o.input = parsePath(f, v);
     }},
    {kPredict, "output", "FILE",
     "where the outputs go, by extension: .npy (the model's output), .npz "
     "or .safetensors (every output and the predicted classes), .csv (a row "
     "per example)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.output = parsePath(f, v);
     }},
    {kPredict, "scale", "X",
     "multiply array inputs by X instead of the recipe's scale",
     [](Options &o, const std::string &f, const std::string &v) {
       o.scale = parseReal(f, v);
     }},
    {kGenerate, "prompt", "TEXT", "the text to continue (required)",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v.empty())
         throw usageError(f + ": expected text, got an empty string");
       o.prompt = v;
     }},
    {kGenerate, "tokens", "N", "the tokens to add (default 200)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.tokens = parseCount(f, v);
     }},
    {kGenerate, "temperature", "T",
     "divide the logits by T before sampling; 0 takes the likeliest token "
     "(default 1)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.temperature = parseReal(f, v, 0);
     }},
    {kGenerate, "top-k", "K",
     "sample among the K likeliest tokens only; 0, the default, keeps all",
     [](Options &o, const std::string &f, const std::string &v) {
       o.topK = static_cast<int64_t>(parseNumber(f, v, 0, INT64_MAX));
     }},
    {kAll, "quiet", nullptr, "print only the final result",
     [](Options &o, const std::string &, const std::string &) {
       o.quiet = true;
     }},
    {kAll, "help", nullptr, "print this help and exit",
     [](Options &o, const std::string &, const std::string &) {
       o.help = true;
     }},
    {kAll, "version", nullptr, "print the version and exit",
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

/// What --help calls the command's runs: "training", "predict".
std::string describeCommand(Command command) {
  return command == Command::Train ? "training"
                                   : std::string("'") + commandName(command) +
                                         "'";
}

/// `spelled` as given, `name` without its dashes.
Error unknownFlag(const std::string &spelled, const std::string &name,
                  Command command) {
  const Flag *closest = nullptr;
  size_t best = 3; // Farther than two edits is no longer a typo.
  for (const Flag &flag : kFlags) {
    size_t distance = editDistance(name, flag.name);
    if (distance < best && (flag.commands & (1u << unsigned(command)))) {
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
  size_t first = 0;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    auto command = std::find_if(
        std::begin(kCommands), std::end(kCommands),
        [&](Command c) { return args[0] == commandName(c); });
    if (command == std::end(kCommands))
      throw usageError("unknown command '" + args[0] +
                       "'; the commands are train (the default), predict "
                       "and generate, and the rest are flags");
    options.command = *command;
    first = 1;
  }
  unsigned mask = 1u << unsigned(options.command);
  for (size_t i = first; i < args.size(); ++i) {
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
                       "'; after the command the trainer takes only flags");
    size_t equals = arg.find('=');
    std::string name =
        arg.substr(dashes, equals == std::string::npos ? std::string::npos
                                                       : equals - dashes);
    auto flag = std::find_if(std::begin(kFlags), std::end(kFlags),
                             [&](const Flag &f) { return name == f.name; });
    // One dash is the habit of LLVM's tools: a typo here, and said so.
    if (flag == std::end(kFlags) || dashes == 1)
      throw unknownFlag(arg.substr(0, equals), name, options.command);
    std::string spelled = "--" + name;
    if (!(flag->commands & mask)) {
      std::string owners;
      for (Command command : kCommands)
        if (flag->commands & (1u << unsigned(command)))
          owners += (owners.empty() ? "" : " and ") + describeCommand(command);
      throw usageError(spelled + " is a flag of " + owners + ", not of " +
                       describeCommand(options.command));
    }
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
  if (options.help || options.version)
    return options;
  if (options.saveEvery && options.save.empty())
    throw usageError("--save-every needs --save FILE, the checkpoint to write");
  if (!options.init.empty() && !options.resume.empty())
    throw usageError("--init and --resume both set the parameters; give one",
                     "--resume continues a run; --init starts a new one from "
                     "given weights");
  if (options.benchmark)
    checkBenchmark(options);
  const char *command = commandName(options.command);
  if (options.command != Command::Train && options.checkpoint.empty())
    throw usageError(std::string(command) +
                     " needs --checkpoint FILE, the trained parameters");
  if (options.command == Command::Predict && options.input.empty())
    throw usageError("predict needs --input PATH, the examples to predict");
  if (options.command == Command::Predict && options.output.empty())
    throw usageError("predict needs --output FILE, where the outputs go");
  if (options.command == Command::Generate && !options.prompt)
    throw usageError("generate needs --prompt TEXT, the text to continue");
  return options;
}

const char *kiln::train::commandName(Command command) {
  switch (command) {
  case Command::Train:
    return "train";
  case Command::Predict:
    return "predict";
  case Command::Generate:
    return "generate";
  }
  return "?";
}

std::string kiln::train::usage(const std::string &programName,
                               const Program &program, Command command) {
  const Recipe &recipe = program.recipe;
  int64_t values = 0;
  for (size_t param : program.params)
    values += program.slots[param].numElements();
  std::string batch = std::to_string(recipe.batchSize);

  std::string text;
  switch (command) {
  case Command::Train:
    text = "usage: " + programName + " [flags]\n\n"
           "Trains the model '" + program.model +
           "' and prints its final test result (accuracy, or loss).\n"
           "It follows the recipe below, evaluating on the test set after "
           "every epoch;\nflags override the recipe.\n\nRecipe:\n";
    break;
  case Command::Predict:
    text = "usage: " + programName +
           " predict --checkpoint FILE --input PATH --output FILE [flags]\n\n"
           "Runs the trained model '" + program.model +
           "' forward (dropout off) on every example of PATH,\nin batches "
           "of " + batch + ", and writes its outputs to FILE; for a "
           "classifier also the\npredicted classes, and the accuracy when "
           "PATH has the labels. The inputs\nare prepared as the recipe's "
           "data were:\n\n";
    break;
  case Command::Generate:
    text = "usage: " + programName +
           " generate --checkpoint FILE --prompt TEXT [flags]\n\n"
           "Continues TEXT with the trained language model '" + program.model +
           "': each token is\ndrawn from the model's next-token logits over "
           "the last tokens that fit its\ninput, and the text is printed "
           "as it grows. The tokens are those of the\nrecipe's data:\n\n";
    break;
  }
  auto row = [&](const char *name, const std::string &value) {
    if (!value.empty())
      text += "  " + std::string(name) +
              std::string(13 - std::string(name).size(), ' ') + value + "\n";
  };
  row("data", recipe.data.summary);
  row("batch size", batch);
  if (command == Command::Train) {
    if (recipe.accumulate > 1)
      row("accumulate",
          std::to_string(recipe.accumulate) + " micro-batches per update");
    row("epochs", std::to_string(recipe.epochs));
    row("optimizer", recipe.optimizer);
    row("schedule", recipe.schedule);
    row("clip norm", recipe.clipGradNorm);
    row("metric", recipe.metric);
    row("precision", recipe.precision);
    row("seed", std::to_string(recipe.seed));
  }
  row("parameters", std::to_string(program.params.size()) + " tensors, " +
                        std::to_string(values) + " values");

  text += "\nFlags (each also as --flag=value):\n";
  constexpr size_t kColumn = 20;
  for (const Flag &flag : kFlags) {
    if (!(flag.commands & (1u << unsigned(command))))
      continue;
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
  if (command == Command::Train)
    text += "\nA trained model is used with '" + programName +
            " predict' (outputs for a file of\nexamples) and '" +
            programName + " generate' (text from a language model);\n"
            "each has its --help.\n";
  text += "\nProgress goes to stderr (a progress bar on a terminal), the "
          "final result to\nstdout. Exit status: 0 on success, 1 on a data or "
          "file error, 2 on a bad flag.\n";
  return text;
}
