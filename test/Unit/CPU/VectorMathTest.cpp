//===- VectorMathTest.cpp - The vectorizable exp, logistic and tanh -------===//
//
// Against double precision over a fine sweep of their range, including the
// seam of tanh's two formulas and the clamps of exp.
//
//===----------------------------------------------------------------------===//

#include "cpu/VectorMath.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace kiln::cpu;

namespace {

/// Every float step of 1/4096 in [from, to], and the seam points given.
template <typename Check> void sweep(double from, double to, Check check) {
  for (double x = from; x <= to; x += 1.0 / 4096)
    check(static_cast<float>(x));
  for (float x : {0.625f, -0.625f, std::nextafter(0.625f, 0.0f),
                  std::nextafter(-0.625f, 0.0f), 0.0f, -0.0f, 1e-30f})
    check(x);
}

TEST(VectorMathTest, ExpIsWithinTwoUlp) {
  sweep(-87, 88, [](float x) {
    double exact = std::exp(static_cast<double>(x));
    double ulp = std::nextafter(static_cast<float>(exact), INFINITY) -
                 static_cast<float>(exact);
    EXPECT_LE(std::fabs(vectorExp(x) - exact), 2 * ulp) << "x = " << x;
  });
}

TEST(VectorMathTest, ExpClampsOutsideItsRange) {
  EXPECT_EQ(vectorExp(-1000.0f), vectorExp(-87.0f));
  EXPECT_EQ(vectorExp(1000.0f), vectorExp(88.0f));
  EXPECT_TRUE(std::isfinite(vectorExp(1000.0f)));
  EXPECT_GT(vectorExp(-1000.0f), 0.0f);
}

TEST(VectorMathTest, SigmoidAndTanhAreAccurate) {
  sweep(-20, 20, [](float x) {
    double sigmoid = 1 / (1 + std::exp(-static_cast<double>(x)));
    double tanh = std::tanh(static_cast<double>(x));
    EXPECT_NEAR(vectorSigmoid(x), sigmoid, 1e-7 + 1e-6 * sigmoid)
        << "x = " << x;
    EXPECT_NEAR(vectorTanh(x), tanh, 1e-7 + 1e-6 * std::fabs(tanh))
        << "x = " << x;
  });
  EXPECT_EQ(vectorTanh(0.0f), 0.0f);
  EXPECT_FLOAT_EQ(vectorTanh(1e-30f), 1e-30f);
  EXPECT_EQ(vectorTanh(100.0f), 1.0f);
  EXPECT_EQ(vectorTanh(-100.0f), -1.0f);
  EXPECT_EQ(vectorSigmoid(100.0f), 1.0f);
}

} // namespace
