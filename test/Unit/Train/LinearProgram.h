//===- LinearProgram.h - A hand-written compiled program for tests --------===//
//
// What kilnc generates, written by hand so that the trainer can be tested
// before the compiler's backend exists: a linear classifier
// (logits = dropout(x) W^T + b) with mean cross-entropy, SGD with momentum
// as torch.optim.SGD does it, and a step learning-rate schedule. Dropout
// draws its mask from the step slot and the schedule reads it too, so a
// resumed run that restored the wrong step, or lost the momentum buffers,
// would not repeat the uninterrupted run.
//
// The frame is, in slot order: fc.weight [C, F], fc.bias [C], their
// momentum buffers, step, total_steps, the inputs x [B, ...] (F values per
// example) and label [B], the outputs loss, correct, predictions [B] and lr,
// the arena (the dropped-out inputs [B, F] and probabilities [B, C]), and
// the prediction step's output logits [B, C].
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_TRAIN_LINEARPROGRAM_H
#define KILN_TEST_UNIT_TRAIN_LINEARPROGRAM_H

#include "cpu/Runtime.h"
#include "kiln/Random.h"
#include "kiln/kiln_runtime.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>

namespace kiln::testing {

/// The sizes and hyperparameters of a LinearProgram, as a class with static
/// members: Batch, Features, Classes, LearningRate, Momentum, Dropout, and
/// Every and Gamma (the rate is multiplied by Gamma every Every steps; Every
/// 0 keeps it constant).
template <typename Config> struct LinearProgram {
  static constexpr int64_t B = Config::Batch, F = Config::Features,
                           C = Config::Classes;
  /// The arena's size in bytes.
  static constexpr int64_t kArenaBytes = (B * F + B * C) * 4;
  /// The dropout site's seed for kiln_uniform.
  static constexpr uint64_t kDropoutSite = 7;

  /// A program's init runs once per thread count (kiln_runtime.h).
  static void init() {
    static std::set<int> counts;
    if (!counts.insert(kiln::cpu::getNumThreads()).second)
      std::abort();
  }

  static void trainStep(void **frame) {
    auto *weight = static_cast<float *>(frame[0]);
    auto *bias = static_cast<float *>(frame[1]);
    auto *weightMomentum = static_cast<float *>(frame[2]);
    auto *biasMomentum = static_cast<float *>(frame[3]);
    int64_t step = *static_cast<int64_t *>(frame[4]);
    int64_t totalSteps = *static_cast<int64_t *>(frame[5]);
    // The trainer guarantees this; generated schedules rely on it.
    if (step < 1 || step > totalSteps)
      std::abort();

    auto *dropped = static_cast<float *>(frame[12]);
    const auto *x = static_cast<const float *>(frame[6]);
    for (int64_t i = 0; i < B * F; ++i) {
      bool keep = kiln_uniform(kDropoutSite, static_cast<uint64_t>(step),
                               static_cast<uint64_t>(i)) >= Config::Dropout;
      dropped[i] = keep ? x[i] / static_cast<float>(1 - Config::Dropout) : 0;
    }
    float *probabilities = dropped + B * F;
    forward(frame, dropped, probabilities);

    float lr = Config::LearningRate;
    if (Config::Every)
      for (int64_t k = 0; k < (step - 1) / Config::Every; ++k)
        lr *= Config::Gamma;
    *static_cast<float *>(frame[11]) = lr;

    // d loss / d logits = (softmax - one_hot) / B.
    const auto *labels = static_cast<const int64_t *>(frame[7]);
    for (int64_t i = 0; i < B; ++i)
      probabilities[i * C + labels[i]] -= 1;
    for (int64_t c = 0; c < C; ++c) {
      float biasGrad = 0;
      for (int64_t i = 0; i < B; ++i)
        biasGrad += probabilities[i * C + c] / B;
      biasMomentum[c] = Config::Momentum * biasMomentum[c] + biasGrad;
      bias[c] -= lr * biasMomentum[c];
      for (int64_t f = 0; f < F; ++f) {
        float grad = 0;
        for (int64_t i = 0; i < B; ++i)
          grad += probabilities[i * C + c] / B * dropped[i * F + f];
        float &momentum = weightMomentum[c * F + f];
        momentum = Config::Momentum * momentum + grad;
        weight[c * F + f] -= lr * momentum;
      }
    }
  }

  static void evalStep(void **frame) {
    auto *probabilities = static_cast<float *>(frame[12]) + B * F;
    forward(frame, static_cast<const float *>(frame[6]), probabilities);
  }

  /// The forward alone: reads the parameters and x, writes the logits.
  static void predictStep(void **frame) {
    const auto *weight = static_cast<const float *>(frame[0]);
    const auto *bias = static_cast<const float *>(frame[1]);
    const auto *x = static_cast<const float *>(frame[6]);
    auto *logits = static_cast<float *>(frame[13]);
    for (int64_t i = 0; i < B; ++i)
      for (int64_t c = 0; c < C; ++c) {
        float sum = bias[c];
        for (int64_t f = 0; f < F; ++f)
          sum += x[i * F + f] * weight[c * F + f];
        logits[i * C + c] = sum;
      }
  }

private:
  /// Writes loss, correct and predictions for inputs `x`, and the softmax of
  /// the logits to `probabilities`.
  static void forward(void **frame, const float *x, float *probabilities) {
    const auto *weight = static_cast<const float *>(frame[0]);
    const auto *bias = static_cast<const float *>(frame[1]);
    const auto *labels = static_cast<const int64_t *>(frame[7]);
    auto *predictions = static_cast<int64_t *>(frame[10]);
    double loss = 0;
    int64_t correct = 0;
    for (int64_t i = 0; i < B; ++i) {
      float *logits = probabilities + i * C;
      int64_t best = 0;
      for (int64_t c = 0; c < C; ++c) {
        float sum = bias[c];
        for (int64_t f = 0; f < F; ++f)
          sum += x[i * F + f] * weight[c * F + f];
        logits[c] = sum;
        if (sum > logits[best])
          best = c;
      }
      float largest = logits[best], total = 0;
      for (int64_t c = 0; c < C; ++c)
        total += logits[c] = std::exp(logits[c] - largest);
      loss -= std::log(logits[labels[i]] / total);
      for (int64_t c = 0; c < C; ++c)
        logits[c] /= total;
      predictions[i] = best;
      correct += best == labels[i];
    }
    *static_cast<float *>(frame[8]) = static_cast<float>(loss / B);
    *static_cast<int64_t *>(frame[9]) = correct;
  }
};

} // namespace kiln::testing

/// KILN_ABI_VERSION as a string literal, for the descriptions that tests
/// write out.
#define KILN_TEST_QUOTE(x) #x
#define KILN_TEST_ABI_OF(x) KILN_TEST_QUOTE(x)
#define KILN_TEST_ABI KILN_TEST_ABI_OF(KILN_ABI_VERSION)

#endif // KILN_TEST_UNIT_TRAIN_LINEARPROGRAM_H
