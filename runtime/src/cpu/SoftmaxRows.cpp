//===- SoftmaxRows.cpp - The gradient of a softmax along contiguous rows --===//
//
// oneDNN 2.6 has no JIT kernel for softmax_v2's backward pass without
// AVX-512: its reference kernel took 15 ms for the 2M probabilities of one
// attention layer's backward on the AVX2 machine here, where its forward
// JIT kernel takes 2 ms. This loop vectorizes instead.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

#include <cmath>

using namespace kiln::cpu;

namespace {

struct Rows {
  const float *y, *dy;
  float *dx;
  int64_t cols;
  bool log;
};

/// Σ term(j) over j in [0, count), in 8 lanes so that it vectorizes.
template <typename Term> float laneSum(int64_t count, Term term) {
  constexpr int64_t kLanes = 8;
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= count; j += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane)
      lanes[lane] += term(j + lane);
  float sum = 0;
  for (; j < count; ++j)
    sum += term(j);
  for (float lane : lanes)
    sum += lane;
  return sum;
}

void backwardRows(void *context, int64_t begin, int64_t end) {
  const Rows &r = *static_cast<const Rows *>(context);
  for (int64_t row = begin; row < end; ++row) {
    const float *y = r.y + row * r.cols, *dy = r.dy + row * r.cols;
    float *dx = r.dx + row * r.cols;
    if (r.log) {
      float sum = laneSum(r.cols, [&](int64_t j) { return dy[j]; });
      for (int64_t j = 0; j < r.cols; ++j)
        dx[j] = dy[j] - std::exp(y[j]) * sum;
    } else {
      float sum = laneSum(r.cols, [&](int64_t j) { return dy[j] * y[j]; });
      for (int64_t j = 0; j < r.cols; ++j)
        dx[j] = y[j] * (dy[j] - sum);
    }
  }
}

} // namespace

void kiln::cpu::softmaxBackwardRows(const float *y, const float *dy, float *dx,
                                    int64_t rows, int64_t cols, bool log) {
  Rows context{y, dy, dx, cols, log};
  kiln_rt_parallel_for(backwardRows, &context, rows);
}
