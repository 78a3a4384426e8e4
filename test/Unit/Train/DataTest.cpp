//===- DataTest.cpp - The recipe's data against the model's inputs --------===//

#include "TrainTesting.h"

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

TEST(DataTest, SyntheticTakesTheInputsShapes) {
  Program program = smallParsed();
  data::Split split = loadData(program, "");
  ASSERT_EQ(split.train.fields.size(), 2u);
  EXPECT_EQ(split.train.fields[0].shape, (std::vector<int64_t>{32, 3}));
  EXPECT_EQ(split.test.fields[1].shape, (std::vector<int64_t>{10}));
  EXPECT_EQ(split.train.fields[1].dtype, io::DType::I64);
}

TEST(DataTest, FieldsMustFitTheInputs) {
  Program program = smallParsed();
  data::Split good = loadData(program, "");

  data::Split fewer = good;
  fewer.train.fields.pop_back();
  fewer.test.fields.pop_back();
  EXPECT_EQ(message([&] { checkData(program, fewer); }),
            "model 'small' has 2 inputs, but synthetic gives 1 fields");

  data::Split reals = good;
  reals.test.fields[1] = io::TensorData::zeros(io::DType::F32, {10});
  EXPECT_EQ(message([&] { checkData(program, reals); }),
            "input 'label' takes i64[] per example, but synthetic field 1 is "
            "f32[]");

  data::Split wider = good;
  wider.train.fields[0] = io::TensorData::zeros(io::DType::F32, {32, 4});
  EXPECT_EQ(message([&] { checkData(program, wider); }),
            "input 'x' takes f32[3] per example, but synthetic field 0 is "
            "f32[4]");
}

TEST(DataTest, ValuesMustLieInTheInputsRange) {
  Program program = smallParsed();
  data::Split split = loadData(program, "");
  split.train.fields[1].data<int64_t>()[17] = 3;
  Error error = expectError([&] { checkData(program, split); });
  EXPECT_EQ(std::string(error.what()),
            "training example 17 of synthetic field 1 holds 3, outside [0, "
            "3), the range of input 'label' of model 'small'");
  EXPECT_NE(error.hint().find("the data does not fit the model"),
            std::string::npos);

  split.train.fields[1].data<int64_t>()[17] = 0;
  split.test.fields[1].data<int64_t>()[9] = -1;
  EXPECT_EQ(message([&] {
              checkData(program, split);
            }).rfind("test example 9 of synthetic field 1 holds -1", 0),
            0u);

  // Synthetic labels drawn for more classes than the model has.
  Program more = Program::parse(editDescription(
      [](nlohmann::json &j) { j["recipe"]["data"]["classes"] = 5; }));
  EXPECT_NE(message([&] { loadData(more, ""); }).find("outside [0, 3)"),
            std::string::npos);
}

TEST(DataTest, WordLangFitsItsInputs) {
  if (!std::filesystem::exists(std::filesystem::path(data::kDictDir) /
                               "american-english"))
    GTEST_SKIP() << "the word lists are not installed in " << data::kDictDir;
  Program words = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "wordlang"}, {"train", 20}, {"test", 3}};
    j["slots"][6] = {{"name", "ids"},
                     {"role", "input"},
                     {"dtype", "i64"},
                     {"shape", {4, 16}},
                     {"range", 100}};
    j["slots"][7]["range"] = 10;
  }));
  data::Split split = loadData(words, "");
  EXPECT_EQ(split.train.fields[0].shape, (std::vector<int64_t>{200, 16}));
  EXPECT_EQ(split.test.fields[1].shape, (std::vector<int64_t>{30}));
}

TEST(DataTest, LoaderErrorsNameTheFile) {
  Program mnist = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "fashion_mnist"}, {"path", "/recipe"}};
    j["slots"][6]["shape"] = {4, 1, 28, 28};
  }));
  EXPECT_EQ(message([&] {
              loadData(mnist, "");
            }).rfind("/recipe/train-images-idx3-ubyte.gz: byte 0", 0),
            0u);
  // --data overrides the recipe's directory.
  EXPECT_EQ(message([&] {
              loadData(mnist, "/flag");
            }).rfind("/flag/train-images-idx3-ubyte.gz: byte 0", 0),
            0u);

  Program words = Program::parse(editDescription([](nlohmann::json &j) {
    j["recipe"]["data"] = {{"kind", "wordlang"}, {"path", "/nowhere"}};
    j["slots"][6] = {{"name", "ids"},
                     {"role", "input"},
                     {"dtype", "i64"},
                     {"shape", {4, 16}},
                     {"range", 100}};
  }));
  EXPECT_NE(message([&] { loadData(words, ""); }).find("/nowhere"),
            std::string::npos);
}

} // namespace
