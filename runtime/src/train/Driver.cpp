//===- Driver.cpp - A whole training run, from flags to the final result --===//
//
// The order of the work is chosen so that mistakes show early: flags first,
// then the program's description, the files given by flags (initial weights,
// checkpoint, metrics), and only then the data, which may take seconds to
// load, and the program's init. Progress and notes go to stderr, the final
// result to stdout, so that `trainer > result.txt` keeps just the result.
//
//===----------------------------------------------------------------------===//

#include "train/Driver.h"
#include "train/Benchmark.h"
#include "train/Checkpoint.h"
#include "train/Commands.h"
#include "train/Data.h"
#include "train/Error.h"
#include "train/Executor.h"
#include "train/Flags.h"
#include "train/Init.h"
#include "train/Program.h"
#include "train/Progress.h"
#include "train/Ranks.h"
#include "train/Trainer.h"

#include "cpu/Runtime.h"
#include "kiln/Version.h"
#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>

#include <unistd.h>

using namespace kiln;
using namespace kiln::train;

namespace {

std::string baseName(const char *path) {
  std::string name = path && *path ? path : "trainer";
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

ProgressStyle progressStyle(bool quiet) {
  if (quiet)
    return ProgressStyle::Quiet;
  const char *term = std::getenv("TERM");
  bool terminal =
      ::isatty(STDERR_FILENO) && !(term && std::string(term) == "dumb");
  return terminal ? ProgressStyle::Bar : ProgressStyle::Lines;
}

void printResult(const Evaluation &result, int64_t steps) {
  if (!result.examples)
    std::printf("trained %lld steps; the test set is empty\n",
                static_cast<long long>(steps));
  else if (result.hasAccuracy)
    std::printf("test accuracy %.4f (%lld/%lld) test loss %.4f\n",
                result.accuracy(), static_cast<long long>(result.correct),
                static_cast<long long>(result.predictions()), result.loss());
  else
    std::printf("test loss %.4f (%lld examples)\n", result.loss(),
                static_cast<long long>(result.examples));
  std::fflush(stdout);
}

/// Prints `text` on stderr unless the run is quiet.
void note(ProgressStyle style, const std::string &text) {
  if (style != ProgressStyle::Quiet)
    std::fprintf(stderr, "%s\n", text.c_str());
}

TrainSettings settingsFrom(const Options &options, const Program &program) {
  TrainSettings settings;
  settings.epochs = options.epochs.value_or(program.recipe.epochs);
  settings.maxSteps = options.maxSteps.value_or(0);
  settings.seed = options.seed.value_or(program.recipe.seed);
  settings.shuffle = options.shuffle.value_or(true);
  settings.saveEvery = options.saveEvery;
  settings.evalEvery = options.evalEvery;
  settings.savePath = options.save;
  return settings;
}

/// Sets the parameters and state: drawn from the seed, then from --init or
/// --resume. A resumed run takes its seed and order from the checkpoint;
/// returns the updates it had done.
int64_t setParameters(const Options &options, const Program &program,
                      SlotBuffers &buffers, TrainSettings &settings,
                      ProgressStyle style,
                      std::map<std::string, std::string> &resumedData) {
  initializeParameters(program, buffers, settings.seed);
  if (!options.init.empty())
    loadTrained(options.init, program, buffers,
                [style](const std::string &text) { note(style, text); });
  if (options.resume.empty())
    return 0;
  RunPosition position = loadCheckpoint(options.resume, program, buffers);
  if (options.seed && *options.seed != position.seed)
    throw usageError("--seed " + std::to_string(*options.seed) +
                         " differs from the seed of the run in " +
                         options.resume + ", " + std::to_string(position.seed),
                     "a resumed run keeps its checkpoint's seed; leave --seed "
                     "out");
  if (options.shuffle && *options.shuffle != position.shuffle)
    throw usageError(std::string("--shuffle=") +
                         (*options.shuffle ? "on" : "off") +
                         " differs from the run in " + options.resume,
                     "a resumed run keeps its checkpoint's order; leave "
                     "--shuffle out");
  settings.seed = position.seed;
  settings.shuffle = position.shuffle;
  resumedData = position.data;
  return position.step;
}

/// A resumed run must read data whose outputs mean what they meant: the
/// same classes in the same order, the same vocabulary.
void checkResumedData(const std::string &path,
                      const std::map<std::string, std::string> &saved,
                      const std::map<std::string, std::string> &now) {
  for (const auto &[key, value] : now) {
    auto it = saved.find(key);
    if (it != saved.end() && it->second == value)
      continue;
    throw Error(path + ": its run read data whose " + key + " was " +
                    (it == saved.end() ? "not recorded" : it->second) +
                    ", but the data now gives " + value,
                "resume with the data the run was trained on");
  }
}

std::string formatSeconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f s", seconds);
  return text;
}

std::string formatPercent(double part, double whole) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f%%",
                whole > 0 ? 100 * part / whole : 0.0);
  return text;
}

/// --benchmark: times training steps on a synthetic batch, without data.
/// With --threads auto: how many steps ran on each thread count.
std::optional<std::string> describeThreads(const Executor &executor) {
  auto *host = dynamic_cast<const HostExecutor *>(&executor);
  const ThreadGovernor *governor = host ? host->governor() : nullptr;
  if (!governor)
    return std::nullopt;
  int full = cpu::getNumThreads();
  return "threads auto: " + std::to_string(governor->steps()[0]) +
         " steps on " + std::to_string(full) + " threads, " +
         std::to_string(governor->steps()[1]) + " on " +
         std::to_string(full - 1) + ", " + std::to_string(governor->moves()) +
         " moves";
}

int benchmark(const Options &options, const kiln_program &compiled,
              const Program &program, SlotBuffers &buffers, uint64_t seed,
              ProgressStyle style, const Ranks &ranks) {
  note(style,
       "model '" + program.model + "': timing " +
           std::to_string(options.benchmark) +
           " training steps on a synthetic batch of " +
           std::to_string(program.recipe.updateBatch()) +
           (ranks.size() > 1
                ? " on each of " + std::to_string(ranks.size()) + " ranks"
                : ""));
  std::unique_ptr<Executor> executor = startProgram(
      compiled, program, buffers, options.threads, options.adaptThreads);
  BenchmarkTimes times =
      runBenchmark(*executor, program, buffers, options.benchmark, seed);
  if (ranks.leads()) {
    std::printf("%s\n", formatBenchmark(program, times).c_str());
    if (std::optional<std::string> threads = describeThreads(*executor))
      std::printf("%s\n", threads->c_str());
    std::fflush(stdout);
  }
  return kExitSuccess;
}

int run(const std::string &name, const std::vector<std::string> &args,
        const kiln_program &compiled, Ranks &ranks) {
  Options options = parseFlags(args);
  if (compiled.abi_version != KILN_ABI_VERSION)
    throw Error("the program was compiled for runtime ABI " +
                    std::to_string(compiled.abi_version) +
                    ", but this runtime has ABI " +
                    std::to_string(KILN_ABI_VERSION),
                "rebuild the trainer with the kilnc that matches this runtime");
  Program program = Program::parse(compiled.description);
  if (options.help) {
    std::fputs(usage(name, program, options.command).c_str(), stdout);
    return kExitSuccess;
  }
  if (options.version) {
    std::printf("%s: trains model '%s'; Kiln " KILN_VERSION
                " (commit " KILN_COMMIT "), runtime ABI %d\n",
                name.c_str(), program.model.c_str(), KILN_ABI_VERSION);
    return kExitSuccess;
  }
  ProgressStyle style = progressStyle(options.quiet);
  Notes notes = [style](const std::string &text) { note(style, text); };
  if (options.command == Command::Predict)
    return runPredict(options, compiled, program, notes);
  if (options.command == Command::Generate)
    return runGenerate(options, compiled, program, notes);
  ranks.join(program);
  // Rank 0 speaks for the run; the others only report their errors.
  if (!ranks.leads()) {
    style = ProgressStyle::Quiet;
    options.save.clear();
    options.metrics.clear();
  }
  if (!options.data.empty() && program.recipe.data.kind == "synthetic")
    throw usageError("--data: the recipe's data is synthetic and reads no "
                     "files");

  TrainSettings settings = settingsFrom(options, program);
  SlotBuffers buffers(program);
  std::map<std::string, std::string> resumedData;
  int64_t done = setParameters(options, program, buffers, settings, style,
                               resumedData);
  ranks.checkSameWeights(program, buffers);
  if (options.benchmark)
    return benchmark(options, compiled, program, buffers, settings.seed, style,
                     ranks);
  MetricsLog metrics(options.metrics);

  RunData data = openData(program, options.data);
  if (!options.resume.empty())
    checkResumedData(options.resume, resumedData, data.source.metadata);
  settings.dataMetadata = data.source.metadata;
  // An update reads `batch` examples: all its micro-batches, on all ranks.
  int64_t examples = data.train().size(), batch = program.recipe.globalBatch();
  int64_t perEpoch = stepsPerEpoch(program, examples);
  if (perEpoch == 0)
    throw Error("the training set has " + std::to_string(examples) +
                    " examples, fewer than one batch of " +
                    std::to_string(batch),
                program.recipe.accumulate > 1
                    ? "use more training data, a smaller batch_size or "
                      "accumulate, or drop_last = false"
                    : "use more training data, a smaller batch_size, or "
                      "drop_last = false");
  int64_t total = totalSteps(settings, perEpoch);
  if (done > total)
    throw Error(options.resume + ": its run has done " + std::to_string(done) +
                    " steps, more than the " + std::to_string(total) +
                    " of this run",
                "raise --epochs or --max-steps to continue it");
  note(style, "model '" + program.model + "' reads " + data.source.description +
                  ": " + std::to_string(examples) + " training and " +
                  std::to_string(data.test().size()) + " test examples, " +
                  std::to_string(perEpoch) + " steps of " +
                  std::to_string(batch) +
                  (ranks.size() > 1
                       ? " (" + std::to_string(ranks.size()) + " ranks of " +
                             std::to_string(program.recipe.updateBatch()) + ")"
                       : "") +
                  (program.recipe.accumulate > 1
                       ? " (" + std::to_string(program.recipe.accumulate) +
                             " micro-batches of " +
                             std::to_string(program.recipe.batchSize) + ")"
                       : "") +
                  " per epoch");
  if (int64_t rest = examples % batch) {
    if (program.recipe.dropLast)
      note(style, "each epoch drops its last " + std::to_string(rest) +
                      " training examples, a partial batch (drop_last = "
                      "true)");
    else
      note(style, "each epoch completes its last batch of " +
                      std::to_string(rest) + " with " +
                      std::to_string(batch - rest) +
                      " of its first examples (drop_last = false)");
  }
  for (const std::string &line : data.source.notes)
    note(style, line);
  if (program.recipe.precision == "bf16")
    note(style, "mixed precision (bf16): convolutions, matrix products, "
                "recurrent layers and attention multiply bfloat16 values and "
                "accumulate in float32; this runtime multiplies them as "
                "float32, so a step is no faster than in f32");
  if (done)
    note(style,
         "resuming " + options.resume + " after step " + std::to_string(done) +
             (done == total
                  ? ", the end of the run"
                  : " (epoch " + std::to_string(done / perEpoch + 1) +
                        ", batch " + std::to_string(done % perEpoch + 1) +
                        " of " + std::to_string(perEpoch) + ")"));
  std::unique_ptr<Executor> executor = startProgram(
      compiled, program, buffers, options.threads, options.adaptThreads);
  RunResult result;
  {
    // The epochs that the run reaches, which --max-steps may cut short.
    Progress progress(style, stderr, batch, perEpoch,
                      (total + perEpoch - 1) / perEpoch, total);
    result = runTraining(*executor, program, buffers, data, settings, done,
                         progress, metrics, ranks);
  }
  if (result.steps)
    note(style, "waited " + formatSeconds(result.dataWaitSeconds) +
                    " for data in " + std::to_string(result.steps) +
                    " steps of " + formatSeconds(result.stepSeconds) + " (" +
                    formatPercent(result.dataWaitSeconds, result.stepSeconds) +
                    ")");
  if (std::optional<std::string> threads = describeThreads(*executor))
    note(style, *threads);
  if (!options.metrics.empty())
    note(style, "the metrics of every step and evaluation are in " +
                    options.metrics + "; plot them with: kiln-plot " +
                    options.metrics + " -o curve.png");
  if (ranks.leads())
    printResult(result.evaluation, total);
  return kExitSuccess;
}

} // namespace

int kiln::train::runTrainer(int argc, char **argv,
                            const kiln_program &compiled) {
  std::string name = baseName(argc > 0 ? argv[0] : nullptr);
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  std::string message, hint;
  int status = kExitFailure;
  Ranks ranks;
  try {
    return run(name, args, compiled, ranks);
  } catch (const Error &error) {
    message = error.what();
    hint = error.hint();
    status = error.status();
    if (hint.empty() && status == kExitUsage)
      hint = "'" + name + " --help' lists the flags";
  } catch (const std::bad_alloc &) {
    message = "out of memory";
    hint = "free memory, or compile the model with a smaller batch size";
  }
  std::fflush(stdout);
  std::string where = ranks.size() > 1
                          ? "rank " + std::to_string(ranks.rank()) + " of " +
                                std::to_string(ranks.size()) + ": "
                          : "";
  std::fprintf(stderr, "%s: error: %s%s\n", name.c_str(), where.c_str(),
               message.c_str());
  if (!hint.empty())
    std::fprintf(stderr, "%s: note: %s\n", name.c_str(), hint.c_str());
  // The other ranks would wait for this one forever.
  if (ranks.size() > 1)
    ranks.abortRun(status);
  return status;
}
