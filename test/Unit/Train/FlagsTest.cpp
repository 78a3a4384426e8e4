//===- FlagsTest.cpp - The command line of the trainer --------------------===//

#include "TrainTesting.h"

#include "train/Driver.h"
#include "train/Flags.h"

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

TEST(FlagsTest, Defaults) {
  Options options = parseFlags({});
  EXPECT_FALSE(options.epochs);
  EXPECT_FALSE(options.maxSteps);
  EXPECT_FALSE(options.seed);
  EXPECT_FALSE(options.threads);
  EXPECT_FALSE(options.shuffle);
  EXPECT_TRUE(options.data.empty() && options.init.empty() &&
              options.save.empty() && options.resume.empty() &&
              options.metrics.empty());
  EXPECT_EQ(options.saveEvery, 0);
  EXPECT_EQ(options.evalEvery, 0);
  EXPECT_EQ(options.benchmark, 0);
  EXPECT_FALSE(options.quiet || options.help || options.version);
}

TEST(FlagsTest, EveryFlagInBothForms) {
  Options spaced = parseFlags({"--epochs",     "3",
                               "--max-steps",  "100",
                               "--seed",       "18446744073709551615",
                               "--threads",    "0",
                               "--data",       "dir",
                               "--init",       "w.safetensors",
                               "--save",       "ck.safetensors",
                               "--save-every", "50",
                               "--shuffle",    "off",
                               "--eval-every", "25",
                               "--metrics",    "m.jsonl",
                               "--quiet"});
  Options joined = parseFlags(
      {"--epochs=3", "--max-steps=100", "--seed=18446744073709551615",
       "--threads=0", "--data=dir", "--init=w.safetensors",
       "--save=ck.safetensors", "--save-every=50", "--shuffle=off",
       "--eval-every=25", "--metrics=m.jsonl", "--quiet"});
  for (const Options &options : {spaced, joined}) {
    EXPECT_EQ(options.epochs, 3);
    EXPECT_EQ(options.maxSteps, 100);
    EXPECT_EQ(options.seed, UINT64_MAX);
    EXPECT_EQ(options.threads, 0);
    EXPECT_EQ(options.data, "dir");
    EXPECT_EQ(options.init, "w.safetensors");
    EXPECT_EQ(options.save, "ck.safetensors");
    EXPECT_EQ(options.saveEvery, 50);
    EXPECT_EQ(options.shuffle, false);
    EXPECT_EQ(options.evalEvery, 25);
    EXPECT_EQ(options.metrics, "m.jsonl");
    EXPECT_TRUE(options.quiet);
  }
  EXPECT_EQ(parseFlags({"--resume", "ck"}).resume, "ck");
  // --benchmark goes with the flags that do not shape a training run.
  for (const Options &options :
       {parseFlags({"--benchmark", "20", "--threads", "2", "--seed", "3",
                    "--init", "w.safetensors", "--quiet"}),
        parseFlags({"--benchmark=20"})})
    EXPECT_EQ(options.benchmark, 20);
  // --threads auto: the default count, which training may lower by one.
  Options adapting = parseFlags({"--threads", "auto"});
  EXPECT_TRUE(adapting.adaptThreads);
  EXPECT_FALSE(adapting.threads);
  EXPECT_FALSE(parseFlags({"--threads", "2"}).adaptThreads);
  EXPECT_TRUE(parseFlags({"--help"}).help);
  EXPECT_TRUE(parseFlags({"-h"}).help);
  EXPECT_TRUE(parseFlags({"--version"}).version);
  EXPECT_EQ(parseFlags({"--shuffle=on"}).shuffle, true);
  // The last of a repeated flag wins, as in most tools.
  EXPECT_EQ(parseFlags({"--epochs=3", "--epochs=4"}).epochs, 4);
  // A value may look like a flag when it follows one that takes a value.
  EXPECT_EQ(parseFlags({"--data", "--odd-dir"}).data, "--odd-dir");
}

TEST(FlagsTest, Errors) {
  const std::pair<std::vector<std::string>, const char *> cases[] = {
      {{"--bogus"}, "unknown flag '--bogus'"},
      {{"--epoch", "3"}, "unknown flag '--epoch'; did you mean '--epochs'?"},
      {{"--sed=1"}, "did you mean '--seed'?"},
      {{"--frobnicate"}, "unknown flag '--frobnicate'"},
      {{"-epochs", "3"}, "unknown flag '-epochs'; did you mean '--epochs'?"},
      {{"-"}, "unexpected argument '-'"},
      {{"--"}, "unexpected argument '--'"},
      {{"model.kiln"},
       "unknown command 'model.kiln'; the commands are train (the default), "
       "predict and generate, and the rest are flags"},
      {{"predict", "extra"},
       "unexpected argument 'extra'; after the command the trainer takes "
       "only flags"},
      {{"predict", "--epochs", "2"},
       "--epochs is a flag of training, not of 'predict'"},
      {{"--prompt", "x"}, "--prompt is a flag of 'generate', not of training"},
      {{"--checkpoint=c"},
       "--checkpoint is a flag of 'predict' and 'generate', not of training"},
      {{"predict", "--checkpoint=c", "--input=i"},
       "predict needs --output FILE, where the outputs go"},
      {{"predict", "--checkpoint=c", "--output=o"},
       "predict needs --input PATH, the examples to predict"},
      {{"predict", "--input=i", "--output=o"},
       "predict needs --checkpoint FILE, the trained parameters"},
      {{"predict", "--checkpoint=c", "--input=i", "--output=o", "--scale=x"},
       "--scale: expected a number, got 'x'"},
      {{"generate", "--checkpoint=c"},
       "generate needs --prompt TEXT, the text to continue"},
      {{"generate", "--checkpoint=c", "--prompt="},
       "--prompt: expected text, got an empty string"},
      {{"generate", "--checkpoint=c", "--prompt=a", "--temperature=-1"},
       "--temperature: expected a number of at least 0, got '-1'"},
      {{"generate", "--checkpoint=c", "--prompt=a", "--temperature=inf"},
       "--temperature: expected a number of at least 0, got 'inf'"},
      {{"generate", "--checkpoint=c", "--prompt=a", "--tokens=0"},
       "--tokens: expected a whole number from 1"},
      {{"generate", "--checkpoint=c", "--prompt=a", "--top-k=-1"},
       "--top-k: expected a whole number from 0"},
      {{"generate", "--temprature=1"},
       "unknown flag '--temprature'; did you mean '--temperature'?"},
      {{"--epochs"}, "--epochs needs a value (N)"},
      {{"--epochs", "0"},
       "--epochs: expected a whole number from 1 to "
       "9223372036854775807, got '0'"},
      {{"--epochs=-2"}, "got '-2'"},
      {{"--epochs=+2"}, "got '+2'"},
      {{"--epochs=2.5"}, "got '2.5'"},
      {{"--epochs="}, "got ''"},
      {{"--max-steps=9223372036854775808"}, "got '9223372036854775808'"},
      {{"--seed=18446744073709551616"},
       "--seed: expected a whole number "
       "from 0 to 18446744073709551615"},
      {{"--threads=4097"},
       "--threads: expected 'auto' or a whole number from 0 to "
       "4096, got '4097'"},
      {{"--threads=Auto"}, "--threads: expected 'auto' or a whole number"},
      {{"--save-every=0"}, "--save-every: expected a whole number from 1"},
      {{"--eval-every", "x"}, "--eval-every: expected a whole number"},
      {{"--shuffle=no"}, "--shuffle: expected 'on' or 'off', got 'no'"},
      {{"--shuffle"}, "--shuffle needs a value (on|off)"},
      {{"--quiet=1"}, "--quiet takes no value"},
      {{"--data="}, "--data: expected a path, got an empty string"},
      {{"--save-every=3"}, "--save-every needs --save FILE"},
      {{"--init=a", "--resume=b"},
       "--init and --resume both set the "
       "parameters; give one"},
      {{"--benchmark=0"}, "--benchmark: expected a whole number from 1"},
      {{"--benchmark"}, "--benchmark needs a value (N)"},
      {{"--benchmark=5", "--epochs=2"},
       "--benchmark times the training step on a synthetic batch; it takes "
       "no --epochs"},
      {{"--max-steps=2", "--benchmark=5"}, "it takes no --max-steps"},
      {{"--benchmark=5", "--shuffle=off"}, "it takes no --shuffle"},
      {{"--benchmark=5", "--data=d"}, "it takes no --data"},
      {{"--benchmark=5", "--save=ck"}, "it takes no --save"},
      {{"--benchmark=5", "--resume=ck"}, "it takes no --resume"},
      {{"--benchmark=5", "--eval-every=3"}, "it takes no --eval-every"},
      {{"--benchmark=5", "--metrics=m"}, "it takes no --metrics"},
  };
  for (const auto &[args, message] : cases) {
    const std::vector<std::string> &flags = args;
    Error error = expectError([&] { parseFlags(flags); });
    EXPECT_EQ(error.status(), kExitUsage) << flags.front();
    EXPECT_NE(std::string(error.what()).find(message), std::string::npos)
        << error.what();
  }
}

TEST(FlagsTest, Commands) {
  Options predict = parseFlags({"predict", "--checkpoint", "c.st", "--input",
                                "x.npz", "--output=y.csv", "--scale", "0.5",
                                "--threads", "1"});
  EXPECT_EQ(predict.command, Command::Predict);
  EXPECT_EQ(predict.checkpoint, "c.st");
  EXPECT_EQ(predict.input, "x.npz");
  EXPECT_EQ(predict.output, "y.csv");
  EXPECT_EQ(predict.scale, 0.5);
  EXPECT_EQ(predict.threads, 1);

  Options generate =
      parseFlags({"generate", "--checkpoint=c.st", "--prompt", "Once",
                  "--tokens", "50", "--temperature", "0.8", "--top-k", "40",
                  "--seed", "3"});
  EXPECT_EQ(generate.command, Command::Generate);
  EXPECT_EQ(generate.prompt, "Once");
  EXPECT_EQ(generate.tokens, 50);
  EXPECT_EQ(generate.temperature, 0.8);
  EXPECT_EQ(generate.topK, 40);
  EXPECT_EQ(generate.seed, 3u);
  Options defaults = parseFlags({"generate", "--checkpoint=c", "--prompt=a"});
  EXPECT_EQ(defaults.tokens, 200);
  EXPECT_EQ(defaults.temperature, 1.0);
  EXPECT_EQ(defaults.topK, 0);

  EXPECT_EQ(parseFlags({"train", "--epochs=2"}).command, Command::Train);
  // --help needs none of the command's required flags.
  EXPECT_TRUE(parseFlags({"predict", "--help"}).help);
}

TEST(FlagsTest, EachCommandsUsageListsItsFlags) {
  Program program = smallParsed();
  std::string predict = usage("small-train", program, Command::Predict);
  EXPECT_EQ(predict.rfind("usage: small-train predict --checkpoint FILE "
                          "--input PATH --output FILE",
                          0),
            0u);
  for (const char *flag : {"--checkpoint FILE", "--input PATH", "--output FILE",
                           "--scale X", "--threads N|auto", "--quiet"})
    EXPECT_NE(predict.find(std::string("  ") + flag + " "), std::string::npos)
        << flag;
  EXPECT_EQ(predict.find("--epochs"), std::string::npos);
  EXPECT_EQ(predict.find("--prompt"), std::string::npos);
  std::string generate = usage("small-train", program, Command::Generate);
  for (const char *flag : {"--prompt TEXT", "--tokens N", "--temperature T",
                           "--top-k K", "--seed N"})
    EXPECT_NE(generate.find(std::string("  ") + flag + " "), std::string::npos)
        << flag;
  EXPECT_EQ(generate.find("--input"), std::string::npos);
}

TEST(FlagsTest, UsageListsEveryFlagAndTheRecipe) {
  std::string text = usage("small-train", smallParsed());
  EXPECT_EQ(text.rfind("usage: small-train [flags]\n", 0), 0u);
  for (const char *flag :
       {"--epochs N", "--max-steps N", "--seed N", "--threads N|auto",
        "--data PATH", "--init FILE", "--save FILE", "--save-every N",
        "--resume FILE", "--shuffle on|off", "--eval-every N", "--metrics FILE",
        "--benchmark N", "--quiet", "--help", "--version"})
    EXPECT_NE(text.find(std::string("  ") + flag + " "), std::string::npos)
        << flag;
  for (const char *row :
       {"  data         synthetic(train: 32, test: 10, classes: 3, seed: 1)\n",
        "  batch size   4\n", "  epochs       2\n",
        "  optimizer    sgd(lr: 0.5, momentum: 0.9)\n",
        "  metric       accuracy\n", "  seed         5\n",
        "  parameters   2 tensors, 12 values\n"})
    EXPECT_NE(text.find(row), std::string::npos) << row;
  // The recipe has no schedule: no empty row for it.
  EXPECT_EQ(text.find("  schedule "), std::string::npos);
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    EXPECT_LE(end - begin, 80u) << text.substr(begin, end - begin);
    begin = end + 1;
  }
}

int runWith(std::vector<std::string> args) {
  std::vector<char *> argv;
  for (std::string &arg : args)
    argv.push_back(arg.data());
  return runTrainer(static_cast<int>(argv.size()), argv.data(), smallProgram());
}

TEST(FlagsTest, ExitStatusOfTheDriver) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(runWith({"small-train", "--help"}), kExitSuccess);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("--metrics FILE"),
            std::string::npos);

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(runWith({"small-train", "--epochs", "x"}), kExitUsage);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "small-train: error: --epochs: expected a whole number from 1 to "
            "9223372036854775807, got 'x'\n"
            "small-train: note: 'small-train --help' lists the flags\n");

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(runWith({"/some/dir/small-train", "--init", "/nonexistent"}),
            kExitFailure);
  EXPECT_EQ(::testing::internal::GetCapturedStderr().rfind(
                "small-train: error: /nonexistent: byte 0: cannot open the "
                "file",
                0),
            0u);
}

} // namespace
