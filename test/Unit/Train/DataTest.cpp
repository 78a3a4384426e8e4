//===- DataTest.cpp - The recipe's data source against the model's inputs -===//

#include "TrainTesting.h"

#include "data/Datasets.h"
#include "train/Data.h"

#include <filesystem>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

std::string message(const std::function<void()> &body) {
  Error error = expectError(body);
  EXPECT_EQ(error.status(), kExitFailure);
  return error.what();
}

bool haveFashionMnist() {
  return std::filesystem::exists(std::filesystem::path(data::kFashionMnistDir) /
                                 "train-images-idx3-ubyte.gz");
}

TEST(DataTest, TheInputsAreTheFields) {
  std::vector<data::Field> fields = inputFields(smallParsed());
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].name, "x");
  EXPECT_EQ(fields[0].dtype, io::DType::F32);
  EXPECT_EQ(fields[0].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(fields[0].range, 0);
  EXPECT_EQ(fields[1].name, "label");
  EXPECT_EQ(fields[1].dtype, io::DType::I64);
  EXPECT_TRUE(fields[1].shape.empty());
  EXPECT_EQ(fields[1].range, 3);
  EXPECT_FALSE(fields[1].ignoreIndex);

  // The label that the loss ignores comes with the range.
  std::vector<data::Field> ignoring =
      inputFields(Program::parse(editDescription(
          [](nlohmann::json &j) { j["slots"][7]["ignore_index"] = -100; })));
  EXPECT_EQ(ignoring[1].range, 3);
  EXPECT_EQ(ignoring[1].ignoreIndex, -100);
}

TEST(DataTest, SyntheticTakesTheInputsShapes) {
  RunData data = openData(smallParsed(), "");
  EXPECT_EQ(data.train().size(), 32);
  EXPECT_EQ(data.test().size(), 10);
  EXPECT_EQ(data.source.description, "synthetic data (seed 1)");
  float x[3];
  int64_t label = -1;
  void *rows[] = {x, &label};
  std::string error;
  ASSERT_TRUE(data.train().read(31, rows, error)) << error;
  EXPECT_GE(label, 0);
  EXPECT_LT(label, 3);
}

TEST(DataTest, FieldsMustFitTheInputs) {
  if (!haveFashionMnist())
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Program flat = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "fashion_mnist"},
                           {"dir", data::kFashionMnistDir},
                           {"scale", 1}};
  }));
  EXPECT_EQ(message([&] { openData(flat, ""); }),
            "input 'x' takes f32[3] per example, but fashion_mnist field 0 "
            "(images) is f32[1, 28, 28]; declare each input with its field's "
            "type and shape");

  Program one = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "fashion_mnist"},
                           {"dir", data::kFashionMnistDir},
                           {"scale", 1}};
    j["slots"][6]["shape"] = {4, 1, 28, 28};
    j["slots"].push_back({{"name", "extra"},
                          {"role", "input"},
                          {"dtype", "f32"},
                          {"shape", {4}}});
  }));
  EXPECT_EQ(message([&] { openData(one, ""); })
                .rfind("the model has 3 inputs, but fashion_mnist gives 2 "
                       "fields",
                       0),
            0u);
}

TEST(DataTest, ValuesMustLieInTheInputsRange) {
  // Synthetic labels drawn for more classes than the model has.
  Program more = Program::parse(editDescription(
      [](nlohmann::json &j) { j["recipe"]["data"]["classes"] = 5; }));
  std::string text = message([&] { openData(more, ""); });
  EXPECT_EQ(text.rfind("training example ", 0), 0u) << text;
  EXPECT_NE(text.find(" of synthetic field 1 holds "), std::string::npos);
  EXPECT_NE(text.find("outside [0, 3), the range of input 'label'; the data "
                      "does not fit the model"),
            std::string::npos);
}

TEST(DataTest, WordLangFitsItsInputs) {
  if (!std::filesystem::exists(std::filesystem::path(data::kDictDir) /
                               "american-english"))
    GTEST_SKIP() << "the word lists are not installed in " << data::kDictDir;
  Program words = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "wordlang"},
                           {"dict", data::kDictDir},
                           {"train", 20},
                           {"test", 3},
                           {"length", 16}};
    j["slots"][6] = {{"name", "ids"},
                     {"role", "input"},
                     {"dtype", "i64"},
                     {"shape", {4, 16}},
                     {"range", 100}};
    j["slots"][7]["range"] = 10;
  }));
  RunData data = openData(words, "");
  EXPECT_EQ(data.train().size(), 200);
  EXPECT_EQ(data.test().size(), 30);
}

TEST(DataTest, LoaderErrorsNameTheFile) {
  Program mnist = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {
        {"kind", "fashion_mnist"}, {"dir", "/recipe"}, {"scale", 1}};
    j["slots"][6]["shape"] = {4, 1, 28, 28};
  }));
  EXPECT_EQ(message([&] {
              openData(mnist, "");
            }).rfind("/recipe/train-images-idx3-ubyte.gz: byte 0", 0),
            0u);
  // --data overrides the recipe's directory.
  EXPECT_EQ(message([&] {
              openData(mnist, "/flag");
            }).rfind("/flag/train-images-idx3-ubyte.gz: byte 0", 0),
            0u);
}

TEST(DataTest, AMissingArgumentIsAnInvalidDescription) {
  Program words = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "wordlang"}, {"dict", "/nowhere"}};
  }));
  Error error = expectError([&] { openData(words, ""); });
  EXPECT_EQ(std::string(error.what()),
            "the program's description is invalid: recipe.data: argument "
            "'train' is missing");
  EXPECT_NE(error.hint().find("rebuild the trainer"), std::string::npos);
}

TEST(DataTest, TransformsMustFitTheirInputs) {
  // normalize takes an image [C, H, W]; 'x' is f32[3] per example.
  Program program = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["transforms"] = {{{"kind", "normalize"},
                                  {"input", "x"},
                                  {"mean", {0.5}},
                                  {"std", {0.5}}}};
  }));
  ASSERT_EQ(program.recipe.transforms.size(), 1u);
  EXPECT_FALSE(message([&] { openData(program, ""); }).empty());
}

} // namespace
