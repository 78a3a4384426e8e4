//===- VectorMath.h - exp, logistic and tanh that loops vectorize ---------===//
//
// std::exp and std::tanh are library calls that keep a loop scalar; these
// inline versions vectorize (SSE2 and up: no rounding instruction needed).
// Cephes' single-precision polynomials: exp within 2 ulp, the logistic
// function and tanh within 1e-7 absolute and 1e-6 relative
// (VectorMathTest.cpp checks both over their range).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CPU_VECTORMATH_H
#define KILN_RUNTIME_CPU_VECTORMATH_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace kiln::cpu {

inline float floatFromBits(int32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// e^x, for x clamped to [-87, 88] (so that 2^n stays a normal float).
inline float vectorExp(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  // n = round(x / ln 2) by adding and subtracting 1.5 * 2^23; r = x - n ln 2
  // with ln 2 in two parts, so that r keeps its low bits.
  constexpr float kRound = 12582912.0f;
  float n = (x * 1.44269504f + kRound) - kRound;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * floatFromBits((static_cast<int32_t>(n) + 127) << 23);
}

/// 1 / (1 + e^-x).
inline float vectorSigmoid(float x) { return 1.0f / (1.0f + vectorExp(-x)); }

/// tanh x: an odd polynomial below 0.625 in magnitude, where
/// 1 - 2 / (e^2x + 1) would cancel; that formula above.
inline float vectorTanh(float x) {
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float large = 1.0f - 2.0f / (vectorExp(2.0f * x) + 1.0f);
  return std::fabs(x) < 0.625f ? small : large;
}

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_VECTORMATH_H
