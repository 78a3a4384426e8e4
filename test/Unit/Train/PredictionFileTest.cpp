//===- PredictionFileTest.cpp - The files that `trainer predict` writes ---===//

#include "TrainTesting.h"

#include "train/PredictionFile.h"

#include <fstream>
#include <sstream>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

std::string contents(const std::string &path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Two examples of three logits, their classes and names.
Predictions twoExamples() {
  Predictions p;
  io::TensorData logits = io::TensorData::zeros(io::DType::F32, {2, 3});
  const float values[] = {0.1f, -2.5f, 1e-8f, 3.0f, 2.0f, 1.0f / 3};
  std::copy(values, values + 6, logits.data<float>());
  p.outputs.emplace_back("logits", logits);
  io::TensorData classes = io::TensorData::zeros(io::DType::I64, {2});
  classes.data<int64_t>()[0] = 0;
  classes.data<int64_t>()[1] = 2;
  p.classes = classes;
  p.classNames = {"cat", "dog, big", "bird"};
  p.exampleNames = {"a.png", "b \"1\".png"};
  p.metadata = {{"model", "m"}};
  return p;
}

TEST(PredictionFileTest, FormatsByExtension) {
  EXPECT_EQ(predictionFormat("o.npy"), PredictionFormat::Npy);
  EXPECT_EQ(predictionFormat("dir/o.npz"), PredictionFormat::Npz);
  EXPECT_EQ(predictionFormat("o.safetensors"), PredictionFormat::Safetensors);
  EXPECT_EQ(predictionFormat("o.csv"), PredictionFormat::Csv);
  Error error = expectError([] { predictionFormat("o.json"); });
  EXPECT_EQ(error.status(), kExitUsage);
  EXPECT_STREQ(error.what(), "--output o.json: predict writes .npy, .npz, "
                             ".safetensors or .csv files, told apart by the "
                             "extension");
}

TEST(PredictionFileTest, CsvRowsNameAndQuote) {
  TempDir dir;
  writePredictions(dir.path("o.csv"), twoExamples());
  // Nine significant digits tell every float apart; cells with commas or
  // quotes are quoted as RFC 4180 does.
  EXPECT_EQ(contents(dir.path("o.csv")),
            "index,name,prediction,class,logits[0],logits[1],logits[2]\n"
            "0,a.png,0,cat,0.100000001,-2.5,9.99999994e-09\n"
            "1,\"b \"\"1\"\".png\",2,bird,3,2,0.333333343\n");
}

TEST(PredictionFileTest, SafetensorsKeepTheClassNames) {
  TempDir dir;
  writePredictions(dir.path("o.safetensors"), twoExamples());
  io::TensorFile file;
  std::string error;
  ASSERT_TRUE(io::readTensorFile(dir.path("o.safetensors"), file, error))
      << error;
  EXPECT_EQ(file.tensors.at("logits").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(file.tensors.at("predictions").data<int64_t>()[1], 2);
  EXPECT_EQ(file.metadata.at("classes"), "[\"cat\", \"dog, big\", \"bird\"]");
  EXPECT_EQ(file.metadata.at("model"), "m");
}

TEST(PredictionFileTest, NpyHoldsOneOutput) {
  TempDir dir;
  Predictions p = twoExamples();
  p.outputs.emplace_back("hidden", io::TensorData::zeros(io::DType::F32, {2}));
  Error error = expectError([&] { writePredictions(dir.path("o.npy"), p); });
  EXPECT_EQ(std::string(error.what()),
            dir.path("o.npy") + ": a .npy file holds one array, but the model "
                                "has 2 outputs ('logits', 'hidden')");
  EXPECT_EQ(error.hint(), "write a .npz or .safetensors file, which name each");
}

} // namespace
