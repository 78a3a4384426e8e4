//===- Init.h - Seeded initialization of parameters -----------------------===//

#ifndef KILN_RUNTIME_TRAIN_INIT_H
#define KILN_RUNTIME_TRAIN_INIT_H

#include "train/Program.h"

#include <cstdint>
#include <string>

namespace kiln::train {

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit stream that is the same
/// on every machine and library, unlike <random>'s distributions.
class Random {
public:
  Random(uint64_t seed, uint64_t stream);

  uint64_t next();
  /// Uniform in [0, 1) on the grid of 2^-53, which doubles hold exactly.
  double unit();
  /// Standard normal, by the Box-Muller transform (two values per pair of
  /// uniform numbers; the second is kept for the next call).
  double normal();

private:
  uint64_t state;
  double spare = 0;
  bool hasSpare = false;
};

/// Fills `count` floats with draws of `distribution` from `random`. Uniform
/// values lie in [low, high), as PyTorch's uniform_ does.
void fillDistribution(const Distribution &distribution, float *values,
                      int64_t count, Random &random);

/// The stream of parameter `name`: a hash of the name, so that a parameter's
/// initial values depend on its name and the seed only, not on which other
/// parameters the model has.
uint64_t parameterStream(const std::string &name);

/// Draws every parameter of `program` from its distribution with `seed`; the
/// optimizer state stays zero.
void initializeParameters(const Program &program, SlotBuffers &buffers,
                          uint64_t seed);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_INIT_H
