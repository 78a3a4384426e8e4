//===- Init.cpp - Seeded initialization of parameters ---------------------===//
//
// Values are computed in double and rounded once to float. Uniform draws use
// only arithmetic, so they are the same bits everywhere; normal draws go
// through log, sqrt and cos, whose last bit may differ between C libraries,
// but never between two runs on one machine.
//
//===----------------------------------------------------------------------===//

#include "train/Init.h"

#include "io/Hash.h"

#include <algorithm>
#include <cmath>

using namespace kiln;
using namespace kiln::train;

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15;
constexpr double kTwoPi = 6.283185307179586;
/// Keeps the parameters' streams apart from the data's even when seeds
/// coincide.
constexpr uint64_t kParameterStream = 0x706172616d657465; // "paramete"

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

} // namespace

Random::Random(uint64_t seed, uint64_t stream)
    : state(mix64(mix64(seed) ^ mix64(stream + kGolden))) {}

uint64_t Random::next() { return mix64(state += kGolden); }

double Random::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Random::normal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  // 1 - unit() lies in (0, 1], so the logarithm is finite.
  double radius = std::sqrt(-2.0 * std::log(1.0 - unit()));
  double angle = kTwoPi * unit();
  spare = radius * std::sin(angle);
  hasSpare = true;
  return radius * std::cos(angle);
}

void kiln::train::fillDistribution(const Distribution &distribution,
                                   float *values, int64_t count,
                                   Random &random) {
  double low = distribution.first, high = distribution.second;
  switch (distribution.kind) {
  case Distribution::Kind::Uniform:
    for (int64_t i = 0; i < count; ++i) {
      auto value = static_cast<float>(low + (high - low) * random.unit());
      // Rounding to float can reach high itself; the interval is open there.
      if (value >= static_cast<float>(high) && low < high)
        value =
            std::nextafter(static_cast<float>(high), static_cast<float>(low));
      values[i] = value;
    }
    break;
  case Distribution::Kind::Normal:
    for (int64_t i = 0; i < count; ++i)
      values[i] = static_cast<float>(low + high * random.normal());
    break;
  case Distribution::Kind::Zeros:
    std::fill(values, values + count, 0.0f);
    break;
  case Distribution::Kind::Ones:
    std::fill(values, values + count, 1.0f);
    break;
  }
}

uint64_t kiln::train::parameterStream(const std::string &name) {
  return io::fnv1a64(name) ^ kParameterStream;
}

void kiln::train::initializeParameters(const Program &program,
                                       SlotBuffers &buffers, uint64_t seed) {
  for (size_t param : program.params) {
    const Slot &slot = program.slots[param];
    Random random(seed, parameterStream(slot.name));
    fillDistribution(slot.init, buffers.get<float>(param), slot.numElements(),
                     random);
  }
  for (size_t state : program.state) {
    const Slot &slot = program.slots[state];
    std::fill_n(buffers.get<uint8_t>(state), slot.numBytes(), 0);
  }
  // Buffers start at zeros or ones (running means and variances, counts).
  for (size_t buffer : program.buffers) {
    const Slot &slot = program.slots[buffer];
    int fill = slot.init.kind == Distribution::Kind::Ones ? 1 : 0;
    if (slot.type == ElementType::I64)
      std::fill_n(buffers.get<int64_t>(buffer), slot.numElements(), fill);
    else
      std::fill_n(buffers.get<float>(buffer), slot.numElements(), fill);
  }
}
