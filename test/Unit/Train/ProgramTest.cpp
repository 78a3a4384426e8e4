//===- ProgramTest.cpp - The description of a compiled program ------------===//

#include "TrainTesting.h"


using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;
using nlohmann::json;

namespace {

TEST(ProgramTest, ParsesTheSmallProgram) {
  Program program = smallParsed();
  EXPECT_EQ(program.model, "small");
  EXPECT_EQ(program.recipe.batchSize, 4);
  EXPECT_EQ(program.recipe.epochs, 2);
  EXPECT_EQ(program.recipe.seed, 5u);
  EXPECT_EQ(program.recipe.data.kind, "synthetic");
  EXPECT_EQ(program.recipe.data.args.integer("train"), 32);
  EXPECT_EQ(program.recipe.data.args.integer("test"), 10);
  EXPECT_EQ(program.recipe.data.args.integer("classes"), 3);
  EXPECT_EQ(program.recipe.data.args.integer("seed"), 1);
  EXPECT_TRUE(program.recipe.dropLast);
  EXPECT_TRUE(program.recipe.transforms.empty());
  EXPECT_EQ(program.recipe.optimizer, "sgd(lr: 0.5, momentum: 0.9)");
  EXPECT_EQ(program.recipe.metric, "accuracy");
  EXPECT_EQ(program.recipe.schedule, "");

  EXPECT_EQ(program.params, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(program.state, (std::vector<size_t>{2, 3}));
  EXPECT_EQ(program.inputs, (std::vector<size_t>{6, 7}));
  EXPECT_EQ(program.step, 4u);
  EXPECT_EQ(program.totalSteps, 5u);
  EXPECT_EQ(program.loss, 8u);
  EXPECT_EQ(program.correct, 9u);
  EXPECT_EQ(program.predictions, 10u);
  EXPECT_EQ(program.lr, 11u);
  EXPECT_EQ(program.arena, 12u);
  EXPECT_EQ(program.labels, 7u);
  EXPECT_EQ(program.predictInputs, (std::vector<size_t>{6}));
  EXPECT_EQ(program.predictOutputs, (std::vector<size_t>{13}));
  ASSERT_TRUE(program.predict);
  EXPECT_EQ(program.predict->slots, (std::vector<size_t>{0, 1, 6, 13, 12}));

  const Slot &weight = program.slots[0];
  EXPECT_EQ(weight.name, "fc.weight");
  EXPECT_EQ(weight.shape, (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(weight.init.kind, Distribution::Kind::Uniform);
  EXPECT_EQ(weight.init.first, -0.5);
  EXPECT_EQ(weight.init.second, 0.5);
  EXPECT_EQ(program.slots[1].init.kind, Distribution::Kind::Normal);
  EXPECT_EQ(program.slots[7].range, 3);
  EXPECT_EQ(program.slots[12].numBytes(), 96u);
  EXPECT_EQ(program.find("fc.bias", Role::Param), &program.slots[1]);
  EXPECT_EQ(program.find("fc.bias", Role::State), nullptr);
}

TEST(ProgramTest, DataSourcesAndTheirArguments) {
  Program mnist = Program::parse(editDescription([](json &j) {
    j["recipe"]["data"] = {
        {"kind", "fashion_mnist"}, {"dir", "/d"}, {"scale", 0.5}};
    j["slots"][6]["shape"] = {4, 1, 28, 28};
  }));
  EXPECT_EQ(mnist.recipe.data.kind, "fashion_mnist");
  EXPECT_EQ(mnist.recipe.data.args.string("dir"), "/d");
  EXPECT_EQ(mnist.recipe.data.args.real("scale"), 0.5);
  EXPECT_EQ(mnist.recipe.data.summary, "fashion_mnist(dir: \"/d\", scale: 0.5)");

  Program seeded = Program::parse(
      editDescription([](json &j) { j["recipe"]["seed"] = UINT64_MAX; }));
  EXPECT_EQ(seeded.recipe.seed, UINT64_MAX);

  Program table = Program::parse(editDescription([](json &j) {
    j["recipe"]["data"] = {{"kind", "csv"},
                           {"train", "t.csv"},
                           {"features", {"a", "b"}},
                           {"standardize", true}};
    j["recipe"]["drop_last"] = false;
  }));
  const data::Arguments &args = table.recipe.data.args;
  EXPECT_EQ(args.strings("features"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(args.boolean("standardize"));
  EXPECT_FALSE(table.recipe.dropLast);
  EXPECT_THROW(args.integer("train"), data::BadArgument);
  EXPECT_THROW(args.string("label"), data::BadArgument);
}

TEST(ProgramTest, Transforms) {
  Program program = Program::parse(editDescription([](json &j) {
    j["recipe"]["transforms"] = {
        {{"kind", "normalize"}, {"input", "x"}, {"mean", {0.5}}, {"std", {2}}},
        {{"kind", "random_crop"}, {"input", "x"}, {"padding", 4}},
        {{"kind", "random_flip"}, {"input", "x"}, {"p", 0.25}}};
  }));
  const std::vector<data::Transform> &t = program.recipe.transforms;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, data::Transform::Kind::Normalize);
  EXPECT_EQ(t[0].field, 0u);
  EXPECT_EQ(t[0].std, (std::vector<double>{2}));
  EXPECT_EQ(t[1].padding, 4);
  EXPECT_EQ(t[2].p, 0.25);
}

TEST(ProgramTest, NoMetricNeedsNoPredictions) {
  Program program = Program::parse(editDescription([](json &j) {
    j["recipe"].erase("metric");
    // Without "correct" and "predictions", slots 9 and 10.
    auto &slots = j["slots"];
    slots.erase(slots.begin() + 9, slots.begin() + 11);
    j["train"]["slots"] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    j["eval"]["slots"] = {0, 1, 6, 7, 8, 10};
    j["predict"]["slots"] = {0, 1, 6, 11, 10};
  }));
  EXPECT_FALSE(program.correct);
  EXPECT_FALSE(program.predictions);
  EXPECT_FALSE(program.labels);
}

TEST(ProgramTest, AccumulatedInputsHoldEveryMicroBatch) {
  // accumulate = 3: the training step takes 3 batches of 4 in each input;
  // the evaluation step's predictions stay a batch of 4.
  Program program = Program::parse(editDescription([](json &j) {
    j["recipe"]["accumulate"] = 3;
    j["slots"][6]["shape"] = {12, 3};
    j["slots"][7]["shape"] = {12};
  }));
  EXPECT_EQ(program.recipe.batchSize, 4);
  EXPECT_EQ(program.recipe.accumulate, 3);
  EXPECT_EQ(program.recipe.updateBatch(), 12);
  EXPECT_EQ(program.labels, 7u);
  EXPECT_EQ(program.positions, 1);
  EXPECT_EQ(smallParsed().recipe.accumulate, 1);

  std::string message = expectError([] {
                          Program::parse(editDescription(
                              [](json &j) { j["recipe"]["accumulate"] = 3; }));
                        }).what();
  EXPECT_NE(message.find("an input's first dimension is the batch size times "
                         "accumulate, 12, but its shape is [4, 3]"),
            std::string::npos)
      << message;
}

TEST(ProgramTest, Errors) {
  const std::pair<std::function<void(json &)>, const char *> cases[] = {
      {[](json &j) { j["abi"] = 1; },
       "the program was compiled for runtime ABI 1, but this runtime has "
       "ABI " KILN_TEST_ABI},
      {[](json &j) { j.erase("model"); }, "top level: 'model' is missing"},
      {[](json &j) { j["recipe"]["batch_size"] = 0; },
       "recipe.batch_size: expected an integer of at least 1, got 0"},
      {[](json &j) { j["recipe"]["seed"] = -1; },
       "recipe.seed: expected a non-negative integer, got -1"},
      {[](json &j) { j["recipe"]["data"]["kind"] = "mnist"; },
       "recipe.data.kind: unknown data source 'mnist'"},
      {[](json &j) {
         j["recipe"]["data"]["train"] = {{"a", 1}};
       },
       "recipe.data.train: expected a boolean, number, string or list"},
      {[](json &j) { j["recipe"]["drop_last"] = 1; },
       "recipe.drop_last: expected a boolean, got 1"},
      {[](json &j) {
         j["recipe"]["transforms"] = {{{"kind", "blur"}, {"input", "x"}}};
       },
       "recipe.transforms[0].kind: unknown transform 'blur'"},
      {[](json &j) {
         j["recipe"]["transforms"] = {{{"kind", "random_flip"}, {"input", "y"}}};
       },
       "recipe.transforms[0].input: no input 'y'"},
      {[](json &j) {
         j["recipe"]["transforms"] = {{{"kind", "random_flip"}, {"input", "x"}}};
       },
       "recipe.transforms[0]: argument 'p' is missing"},
      {[](json &j) { j["slots"][0]["role"] = "weight"; },
       "slots[0] ('fc.weight').role: unknown role 'weight'"},
      {[](json &j) { j["slots"][0]["dtype"] = "bf16"; },
       "unknown dtype 'bf16'"},
      {[](json &j) {
         j["slots"][0]["shape"] = {3, -1};
       },
       "slots[0] ('fc.weight').shape: expected an integer of at least 0"},
      {[](json &j) {
         j["slots"][0]["shape"] = {1ll << 40, 1ll << 40};
       },
       "the slot is too large"},
      {[](json &j) { j["slots"][0].erase("init"); },
       "slots[0] ('fc.weight'): 'init' is missing"},
      {[](json &j) { j["slots"][0]["init"]["distribution"] = "xavier"; },
       "unknown distribution 'xavier'"},
      {[](json &j) { j["slots"][0]["init"]["low"] = 1; }, "low is above high"},
      {[](json &j) { j["slots"][1]["init"]["std"] = -1; }, "std is negative"},
      {[](json &j) { j["slots"][0]["dtype"] = "f64"; }, "parameters are f32"},
      {[](json &j) { j["slots"][2]["name"] = "fc.weight"; },
       "two parameters, state or buffer slots have this name"},
      {[](json &j) {
         j["slots"][6]["shape"] = {8, 3};
       },
       "an input's first dimension is the batch size, 4, but its shape is "
       "[8, 3]"},
      {[](json &j) { j["recipe"]["accumulate"] = 0; },
       "recipe.accumulate: expected an integer of at least 1"},
      {[](json &j) { j["slots"][5]["role"] = "step"; },
       "more than one slot has role 'step'"},
      {[](json &j) { j["slots"][4]["dtype"] = "f32"; },
       "slot 'step': expected i64[], got f32[]"},
      {[](json &j) { j["slots"][8]["name"] = "cost"; }, "no output 'loss'"},
      {[](json &j) { j["slots"][10]["shape"] = {3}; },
       "output 'predictions': expected i64[4], got i64[3]"},
      {[](json &j) { j["slots"][7]["dtype"] = "f32"; },
       "recipe.metric: the metric needs an i64 input of shape [4] (the "
       "labels)"},
      {[](json &j) { j["slots"][12]["dtype"] = "f32"; },
       "the arena is u8[bytes]"},
      {[](json &j) { j["slots"][7]["ignore_index"] = "pad"; },
       "slots[7] ('label').ignore_index: expected an integer"},
      {[](json &j) { j.erase("predict"); },
       "top level: a trainer has the steps 'train', 'eval' and 'predict'"},
      {[](json &j) {
         j["predict"]["slots"] = {0, 1, 6, 14};
       },
       "predict.slots: slot 14 does not exist"},
      {[](json &j) { j["eval"].erase("slots"); }, "eval: 'slots' is missing"},
      {[](json &j) {
         j["predict"]["slots"] = {0, 1, 6, 12};
       },
       "predict: the prediction step has no outputs"},
      {[](json &j) {
         j["slots"][13]["shape"] = {3, 3};
       },
       "slot 'logits': a model's output leads with the batch size, 4"},
  };
  for (const auto &[edit, message] : cases) {
    std::string description = editDescription(edit);
    Error error = expectError([&] { Program::parse(description); });
    EXPECT_EQ(error.status(), kExitFailure);
    EXPECT_NE(std::string(error.what()).find(message), std::string::npos)
        << error.what();
    EXPECT_NE(error.hint().find("rebuild it with the kilnc"), std::string::npos);
  }
  Error error = expectError([] { Program::parse("{\"abi\": "); });
  EXPECT_NE(std::string(error.what())
                .find("the program's description is "
                      "invalid: JSON:"),
            std::string::npos)
      << error.what();
}

// An inference library's description: the prediction step alone, no recipe;
// its inputs and outputs can be the caller's buffers.
TEST(DescriptionTest, ALibrarysDescription) {
  program::Description library = program::Description::parse(R"({
    "abi": )" KILN_TEST_ABI R"(, "model": "lib",
    "slots": [
      {"name": "w", "role": "param", "dtype": "f32", "shape": [3, 2],
       "init": {"distribution": "zeros"}},
      {"name": "x", "role": "input", "dtype": "f32", "shape": [1, 2]},
      {"name": "y", "role": "output", "dtype": "f32", "shape": [1, 3]},
      {"name": "arena", "role": "arena", "dtype": "u8", "shape": [64]}],
    "predict": {"flops": 12, "slots": [0, 1, 2, 3]}})");
  EXPECT_FALSE(library.train || library.eval);
  ASSERT_TRUE(library.predict);
  EXPECT_EQ(library.predict->flops, 12);
  EXPECT_EQ(library.params, std::vector<size_t>{0});
  EXPECT_EQ(library.slotsOf(*library.predict, Role::Input),
            std::vector<size_t>{1});
  EXPECT_EQ(library.slotsOf(*library.predict, Role::Output),
            std::vector<size_t>{2});
  SlotBuffers buffers(library, {1, 2});
  float given[3];
  buffers.set(2, given);
  EXPECT_EQ(buffers.get<float>(2), given);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffers.get<void>(0)) % 64, 0u);

  // A trainer needs all three steps and the recipe.
  Error error = expectError([] {
    Program::parse(R"({"abi": )" KILN_TEST_ABI
                   R"(, "model": "lib", "slots": []})");
  });
  EXPECT_NE(std::string(error.what()).find("'recipe' is missing"),
            std::string::npos)
      << error.what();
}

TEST(SlotBuffersTest, AlignedAndZero) {
  Program program = smallParsed();
  SlotBuffers buffers(program);
  for (size_t i = 0; i < program.slots.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffers.frame()[i]) % 64, 0u);
    const auto *bytes = buffers.get<uint8_t>(i);
    for (size_t b = 0; b < program.slots[i].numBytes(); ++b)
      ASSERT_EQ(bytes[b], 0);
  }
}

} // namespace
