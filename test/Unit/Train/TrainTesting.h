//===- TrainTesting.h - A small program and helpers for the tests ---------===//

#ifndef KILN_TEST_UNIT_TRAIN_TRAINTESTING_H
#define KILN_TEST_UNIT_TRAIN_TRAINTESTING_H

#include "LinearProgram.h"

#include "kiln/kiln_runtime.h"
#include "train/Error.h"
#include "train/Program.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace kiln::testing {

/// A linear classifier small enough to check by hand: batch 4, 3 features,
/// 3 classes, on synthetic data of 32 training and 10 test examples (so the
/// test set ends with a partial batch of 2).
struct SmallConfig {
  static constexpr int64_t Batch = 4, Features = 3, Classes = 3, Every = 0;
  static constexpr float LearningRate = 0.5f, Momentum = 0.9f, Gamma = 1;
  static constexpr double Dropout = 0.1;
};
using SmallLinear = LinearProgram<SmallConfig>;

/// The description of the small program (slots as LinearProgram.h lists).
const std::string &smallDescription();
/// The small program, as kilnc would define kiln_compiled_program.
const kiln_program &smallProgram();
/// Its description, parsed.
train::Program smallParsed();
/// The small description after `edit` changed its JSON.
std::string editDescription(const std::function<void(nlohmann::json &)> &edit);

/// Runs `body`, which must throw a train::Error, and returns it.
train::Error expectError(const std::function<void()> &body);

/// A fresh directory for a test's files, removed with everything in it.
class TempDir {
public:
  TempDir();
  ~TempDir();
  std::string path(const std::string &name) const { return root + "/" + name; }

private:
  std::string root;
};

} // namespace kiln::testing

#endif // KILN_TEST_UNIT_TRAIN_TRAINTESTING_H
