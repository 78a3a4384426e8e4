//===- InitTest.cpp - Seeded initialization of parameters -----------------===//
//
// The recorded values are the contract: a change to them changes the initial
// weights of every model for every seed.
//
//===----------------------------------------------------------------------===//

#include "TrainTesting.h"

#include "train/Init.h"

#include <cmath>
#include <cstring>
#include <numeric>

using namespace kiln;
using namespace kiln::testing;
using namespace kiln::train;

namespace {

std::vector<float> draw(const Distribution &distribution, int64_t count,
                        uint64_t seed = 0) {
  std::vector<float> values(count);
  Random random(seed, 1);
  fillDistribution(distribution, values.data(), count, random);
  return values;
}

double mean(const std::vector<float> &values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

double deviation(const std::vector<float> &values) {
  double center = mean(values), sum = 0;
  for (float value : values)
    sum += (value - center) * (value - center);
  return std::sqrt(sum / values.size());
}

TEST(RandomTest, RecordedValues) {
  Random random(0, 0);
  EXPECT_EQ(random.next(), 0x568a9b0b1a2c05ecu);
  EXPECT_EQ(random.next(), 0x44e5b8b147ef718bu);
  Random other(1, 0);
  EXPECT_EQ(other.next(), 0x28f9feaebd831d6cu);
}

TEST(RandomTest, StreamsDiffer) {
  Random a(0, 0), b(0, 1), c(1, 0);
  uint64_t first = a.next();
  EXPECT_NE(first, b.next());
  EXPECT_NE(first, c.next());
}

TEST(InitTest, Uniform) {
  Distribution uniform{Distribution::Kind::Uniform, -0.25, 0.75};
  std::vector<float> values = draw(uniform, 100000);
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  EXPECT_GE(*low, -0.25f);
  EXPECT_LT(*high, 0.75f);
  EXPECT_LT(*low, -0.24f);
  EXPECT_GT(*high, 0.74f);
  // Mean 0.25, standard deviation 1 / sqrt(12); 100000 draws put both
  // within a few thousandths.
  EXPECT_NEAR(mean(values), 0.25, 0.005);
  EXPECT_NEAR(deviation(values), 1 / std::sqrt(12.0), 0.005);
}

TEST(InitTest, UniformNeverReachesHigh) {
  // Two neighbouring floats: most draws round to the upper one, which the
  // half-open interval excludes.
  float low = 1.0f, high = std::nextafter(1.0f, 2.0f);
  std::vector<float> values =
      draw({Distribution::Kind::Uniform, low, high}, 1000);
  for (float value : values)
    ASSERT_EQ(value, low);
}

TEST(InitTest, Normal) {
  std::vector<float> values =
      draw({Distribution::Kind::Normal, 2.0, 0.5}, 100001);
  EXPECT_NEAR(mean(values), 2.0, 0.01);
  EXPECT_NEAR(deviation(values), 0.5, 0.01);
  // About 4.6% of a normal distribution lies beyond two deviations.
  double beyond =
      std::count_if(values.begin(), values.end(),
                    [](float v) { return std::abs(v - 2.0) > 1.0; }) /
      static_cast<double>(values.size());
  EXPECT_NEAR(beyond, 0.0455, 0.005);
  for (float value : values)
    ASSERT_TRUE(std::isfinite(value));
}

TEST(InitTest, ZerosAndOnes) {
  for (float value : draw({Distribution::Kind::Zeros, 0, 0}, 10))
    EXPECT_EQ(value, 0.0f);
  for (float value : draw({Distribution::Kind::Ones, 0, 0}, 10))
    EXPECT_EQ(value, 1.0f);
}

TEST(InitTest, DeterministicPerSeed) {
  Distribution normal{Distribution::Kind::Normal, 0, 1};
  EXPECT_EQ(draw(normal, 101, 3), draw(normal, 101, 3));
  EXPECT_NE(draw(normal, 101, 3), draw(normal, 101, 4));
}

std::vector<uint8_t> bytesOf(const Program &program, SlotBuffers &buffers,
                             const std::string &name, Role role) {
  for (size_t i = 0; i < program.slots.size(); ++i)
    if (program.slots[i].name == name && program.slots[i].role == role) {
      const auto *bytes = buffers.get<uint8_t>(i);
      return {bytes, bytes + program.slots[i].numBytes()};
    }
  ADD_FAILURE() << "no slot " << name;
  return {};
}

TEST(InitTest, ParametersByNameAndSeed) {
  Program program = smallParsed();
  SlotBuffers a(program), b(program), c(program);
  initializeParameters(program, a, 5);
  initializeParameters(program, b, 5);
  initializeParameters(program, c, 6);
  for (const char *name : {"fc.weight", "fc.bias"}) {
    EXPECT_EQ(bytesOf(program, a, name, Role::Param),
              bytesOf(program, b, name, Role::Param));
    EXPECT_NE(bytesOf(program, a, name, Role::Param),
              bytesOf(program, c, name, Role::Param));
  }
  const float *weight = a.get<float>(program.params[0]);
  EXPECT_EQ(weight[0], 0x1.d7c9fp-4f);
  EXPECT_EQ(weight[8], 0x1.86947cp-2f);

  // With the parameters in the other order, each still gets its values.
  Program swapped = Program::parse(editDescription([](nlohmann::json &json) {
    std::swap(json["slots"][0], json["slots"][1]);
  }));
  SlotBuffers d(swapped);
  initializeParameters(swapped, d, 5);
  for (const char *name : {"fc.weight", "fc.bias"})
    EXPECT_EQ(bytesOf(program, a, name, Role::Param),
              bytesOf(swapped, d, name, Role::Param));
}

TEST(InitTest, StateStartsAtZero) {
  Program program = smallParsed();
  SlotBuffers buffers(program);
  for (size_t state : program.state)
    std::memset(buffers.get<void>(state), 0x7f,
                program.slots[state].numBytes());
  initializeParameters(program, buffers, 0);
  for (size_t state : program.state)
    for (const uint8_t byte :
         bytesOf(program, buffers, program.slots[state].name, Role::State))
      ASSERT_EQ(byte, 0);
}

} // namespace
