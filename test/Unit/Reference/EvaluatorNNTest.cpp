//===- EvaluatorNNTest.cpp - The evaluator's layers, losses and optimizers ===//
//
// Hand-computed cases of each layer, loss and optimizer op. The gradients of
// the LSTM and of attention, too long to work out by hand, are checked
// against central differences of the evaluator's own forward ops, and the
// convolution gradients against the adjoint identity they must satisfy.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorTesting.h"

#include "kiln/Random.h"

#include <cmath>

using namespace kiln::reference;

namespace {

/// Reproducible values in [-1, 1) for tests that need many numbers.
std::vector<double> sample(int64_t count, int seed) {
  std::vector<double> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back(2 * kiln_uniform(seed, 0, i) - 1);
  return values;
}

double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i)
    sum += a[i] * b[i];
  return sum;
}

TEST_F(EvaluatorTest, Conv2DStridePaddingAndDilation) {
  auto values = results(R"(
    func.func @f(%x: tensor<1x1x3x3xf64>, %w: tensor<1x1x2x2xf64>, %b: tensor<1xf64>)
        -> (tensor<1x1x2x2xf64>, tensor<1x1x2x2xf64>, tensor<1x1x1x1xf64>) {
      %0 = kiln.conv2d %x, %w, %b : (tensor<1x1x3x3xf64>, tensor<1x1x2x2xf64>, tensor<1xf64>) -> tensor<1x1x2x2xf64>
      %1 = kiln.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<1x1x3x3xf64>, tensor<1x1x2x2xf64>) -> tensor<1x1x2x2xf64>
      %2 = kiln.conv2d %x, %w {dilation = array<i64: 2, 2>} : (tensor<1x1x3x3xf64>, tensor<1x1x2x2xf64>) -> tensor<1x1x1x1xf64>
      return %0, %1, %2 : tensor<1x1x2x2xf64>, tensor<1x1x2x2xf64>, tensor<1x1x1x1xf64>
    })",
                        {real({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}),
                         real({1, 1, 2, 2}, {1, 1, 1, 1}), real({1}, {10})});
  ASSERT_EQ(values.size(), 3u);
  expectReals(values[0], {1, 1, 2, 2}, {22, 26, 34, 38});
  expectReals(values[1], {1, 1, 2, 2}, {1, 5, 11, 28});
  expectReals(values[2], {1, 1, 1, 1}, {20});
}

TEST_F(EvaluatorTest, Conv2DGradientsAreAdjoints) {
  // <conv(x, w), g> = <x, conv_backward_input(g, w)>
  //                 = <w, conv_backward_weight(g, x)>.
  Tensor x = real({1, 2, 4, 3}, sample(24, 1));
  Tensor w = real({2, 2, 2, 2}, sample(16, 2));
  Tensor g = real({1, 2, 3, 1}, sample(6, 3));
  auto values = results(R"(
    func.func @f(%x: tensor<1x2x4x3xf64>, %w: tensor<2x2x2x2xf64>, %g: tensor<1x2x3x1xf64>)
        -> (tensor<1x2x3x1xf64>, tensor<1x2x4x3xf64>, tensor<2x2x2x2xf64>) {
      %y = kiln.conv2d %x, %w {stride = array<i64: 2, 1>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 2>}
          : (tensor<1x2x4x3xf64>, tensor<2x2x2x2xf64>) -> tensor<1x2x3x1xf64>
      %dx = kiln.conv2d_backward_input %g, %w {input_shape = array<i64: 1, 2, 4, 3>, stride = array<i64: 2, 1>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 2>}
          : (tensor<1x2x3x1xf64>, tensor<2x2x2x2xf64>) -> tensor<1x2x4x3xf64>
      %dw = kiln.conv2d_backward_weight %g, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 1>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 2>}
          : (tensor<1x2x3x1xf64>, tensor<1x2x4x3xf64>) -> tensor<2x2x2x2xf64>
      return %y, %dx, %dw : tensor<1x2x3x1xf64>, tensor<1x2x4x3xf64>, tensor<2x2x2x2xf64>
    })",
                        {x, w, g});
  ASSERT_EQ(values.size(), 3u);
  double expected = dot(values[0].reals, g.reals);
  EXPECT_NE(expected, 0);
  EXPECT_NEAR(dot(x.reals, values[1].reals), expected, 1e-12);
  EXPECT_NEAR(dot(w.reals, values[2].reals), expected, 1e-12);
}

TEST_F(EvaluatorTest, MaxPoolingSendsTheGradientToTheFirstMaximum) {
  auto values =
      results(R"(
    func.func @f(%x: tensor<1x1x2x4xf64>, %g: tensor<1x1x1x2xf64>, %one: tensor<1x1x1x1xf64>)
        -> (tensor<1x1x1x2xf64>, tensor<1x1x2x4xf64>, tensor<1x1x2x2xf64>) {
      %0 = kiln.max_pool2d %x {kernel = array<i64: 2, 2>} : (tensor<1x1x2x4xf64>) -> tensor<1x1x1x2xf64>
      %1 = kiln.max_pool2d_backward %g, %x {kernel = array<i64: 2, 2>} : (tensor<1x1x1x2xf64>, tensor<1x1x2x4xf64>) -> tensor<1x1x2x4xf64>
      %2 = kiln.max_pool2d %one {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : (tensor<1x1x1x1xf64>) -> tensor<1x1x2x2xf64>
      return %0, %1, %2 : tensor<1x1x1x2xf64>, tensor<1x1x2x4xf64>, tensor<1x1x2x2xf64>
    })",
              {real({1, 1, 2, 4}, {1, 3, 3, 0, 2, 3, 1, 0}),
               real({1, 1, 1, 2}, {10, 20}), real({1, 1, 1, 1}, {-5})});
  ASSERT_EQ(values.size(), 3u);
  expectReals(values[0], {1, 1, 1, 2}, {3, 3});
  expectReals(values[1], {1, 1, 2, 4}, {0, 10, 20, 0, 0, 0, 0, 0});
  // Padding is -infinity: every window sees the one element.
  expectReals(values[2], {1, 1, 2, 2}, {-5, -5, -5, -5});
}

TEST_F(EvaluatorTest, AveragePoolingWithAndWithoutPadding) {
  auto values = results(R"(
    func.func @f(%x: tensor<1x1x2x2xf64>, %g: tensor<1x1x3x3xf64>)
        -> (tensor<1x1x3x3xf64>, tensor<1x1x3x3xf64>, tensor<1x1x2x2xf64>, tensor<1x1x2x2xf64>) {
      %0 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : (tensor<1x1x2x2xf64>) -> tensor<1x1x3x3xf64>
      %1 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<1x1x2x2xf64>) -> tensor<1x1x3x3xf64>
      %2 = kiln.avg_pool2d_backward %g {input_shape = array<i64: 1, 1, 2, 2>, kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : (tensor<1x1x3x3xf64>) -> tensor<1x1x2x2xf64>
      %3 = kiln.avg_pool2d_backward %g {input_shape = array<i64: 1, 1, 2, 2>, kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<1x1x3x3xf64>) -> tensor<1x1x2x2xf64>
      return %0, %1, %2, %3 : tensor<1x1x3x3xf64>, tensor<1x1x3x3xf64>, tensor<1x1x2x2xf64>, tensor<1x1x2x2xf64>
    })",
                        {real({1, 1, 2, 2}, {1, 2, 3, 4}),
                         real({1, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1})});
  ASSERT_EQ(values.size(), 4u);
  expectReals(values[0], {1, 1, 3, 3},
              {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1});
  expectReals(values[1], {1, 1, 3, 3}, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
  // Each element lies in four windows of four taps.
  expectReals(values[2], {1, 1, 2, 2}, {1, 1, 1, 1});
  // ... of one, two, two and four unpadded elements.
  expectReals(values[3], {1, 1, 2, 2}, {2.25, 2.25, 2.25, 2.25});
}

TEST_F(EvaluatorTest, Linear) {
  auto values =
      results(R"(
    func.func @f(%x: tensor<2x3xf64>, %w: tensor<2x3xf64>, %b: tensor<2xf64>) -> (tensor<2x2xf64>, tensor<2x2xf64>) {
      %0 = kiln.linear %x, %w, %b : (tensor<2x3xf64>, tensor<2x3xf64>, tensor<2xf64>) -> tensor<2x2xf64>
      %1 = kiln.linear %x, %w : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x2xf64>
      return %0, %1 : tensor<2x2xf64>, tensor<2x2xf64>
    })",
              {real({2, 3}, {1, 2, 3, 4, 5, 6}),
               real({2, 3}, {1, 0, 0, 1, 1, 1}), real({2}, {10, 20})});
  ASSERT_EQ(values.size(), 2u);
  expectReals(values[0], {2, 2}, {11, 26, 14, 35});
  expectReals(values[1], {2, 2}, {1, 6, 4, 15});
}

TEST_F(EvaluatorTest, LayerNormAndItsGradient) {
  auto values = results(R"(
    func.func @f(%x: tensor<1x3xf64>, %w: tensor<3xf64>, %b: tensor<3xf64>, %g: tensor<1x3xf64>)
        -> (tensor<1x3xf64>, tensor<1x3xf64>, tensor<1x3xf64>, tensor<3xf64>, tensor<3xf64>) {
      %0 = kiln.layer_norm %x {epsilon = 0.0 : f64} : (tensor<1x3xf64>) -> tensor<1x3xf64>
      %1 = kiln.layer_norm %x, %w, %b {epsilon = 0.0 : f64} : (tensor<1x3xf64>, tensor<3xf64>, tensor<3xf64>) -> tensor<1x3xf64>
      %dx, %dw, %db = kiln.layer_norm_backward %g, %x, %w {epsilon = 0.0 : f64}
          : (tensor<1x3xf64>, tensor<1x3xf64>, tensor<3xf64>) -> (tensor<1x3xf64>, tensor<3xf64>, tensor<3xf64>)
      return %0, %1, %dx, %dw, %db : tensor<1x3xf64>, tensor<1x3xf64>, tensor<1x3xf64>, tensor<3xf64>, tensor<3xf64>
    })",
                        {real({1, 3}, {1, 2, 3}), real({3}, {1, 1, 1}),
                         real({3}, {0, 1, 0}), real({1, 3}, {1, 0, 0})});
  ASSERT_EQ(values.size(), 5u);
  // Mean 2, biased variance 2/3: xhat = (x - 2) * sqrt(1.5).
  double a = std::sqrt(1.5);
  expectReals(values[0], {1, 3}, {-a, 0, a});
  expectReals(values[1], {1, 3}, {-a, 1, a});
  // rstd * (g - mean(g) - xhat * mean(g * xhat)) = a * [1/6, -1/3, 1/6].
  expectReals(values[2], {1, 3}, {a / 6, -a / 3, a / 6});
  expectReals(values[3], {3}, {-a, 0, 0});
  expectReals(values[4], {3}, {1, 0, 0});
}

TEST_F(EvaluatorTest, DropoutKeepsWhatTheRuntimeRandomNumbersKeep) {
  auto values =
      results(R"(
    func.func @f(%x: tensor<4x16xf64>, %step: tensor<i64>) -> (tensor<4x16xf64>, tensor<4x16xf64>) {
      %0 = kiln.dropout %x, %step {p = 0.25 : f64, seed = 3 : i64} : (tensor<4x16xf64>, tensor<i64>) -> tensor<4x16xf64>
      %1 = kiln.dropout %x, %step {p = 0.0 : f64} : (tensor<4x16xf64>, tensor<i64>) -> tensor<4x16xf64>
      return %0, %1 : tensor<4x16xf64>, tensor<4x16xf64>
    })",
              {real({4, 16}, std::vector<double>(64, 3.0)), integer({}, {5})});
  ASSERT_EQ(values.size(), 2u);
  int dropped = 0;
  for (int i = 0; i < 64; ++i) {
    bool kept = kiln_uniform(3, 5, i) >= 0.25;
    dropped += !kept;
    EXPECT_EQ(values[0].reals[i], kept ? 4.0 : 0.0) << "element " << i;
  }
  EXPECT_GT(dropped, 0);
  expectReals(values[1], {4, 16}, std::vector<double>(64, 3.0));
}

TEST_F(EvaluatorTest, AttentionWithAndWithoutCausalMask) {
  auto values = results(R"(
    func.func @f(%q: tensor<1x2x1xf64>, %k: tensor<1x2x1xf64>, %v: tensor<1x2x1xf64>)
        -> (tensor<1x2x1xf64>, tensor<1x2x1xf64>, tensor<1x2x1xf64>) {
      %0 = kiln.attention %q, %k, %v : (tensor<1x2x1xf64>, tensor<1x2x1xf64>, tensor<1x2x1xf64>) -> tensor<1x2x1xf64>
      %1 = kiln.attention %q, %k, %v {causal = true} : (tensor<1x2x1xf64>, tensor<1x2x1xf64>, tensor<1x2x1xf64>) -> tensor<1x2x1xf64>
      %2 = kiln.attention %q, %q, %v {scale = 0.5 : f64} : (tensor<1x2x1xf64>, tensor<1x2x1xf64>, tensor<1x2x1xf64>) -> tensor<1x2x1xf64>
      return %0, %1, %2 : tensor<1x2x1xf64>, tensor<1x2x1xf64>, tensor<1x2x1xf64>
    })",
                        {real({1, 2, 1}, {0, 2}), real({1, 2, 1}, {0, 0}),
                         real({1, 2, 1}, {1, 3})});
  ASSERT_EQ(values.size(), 3u);
  expectReals(values[0], {1, 2, 1}, {2, 2});
  expectReals(values[1], {1, 2, 1}, {1, 2});
  // Row 1 scores 0.5 * [0, 4]: weights [1, e^2] / (1 + e^2).
  double e2 = std::exp(2.0);
  expectReals(values[2], {1, 2, 1}, {2, (1 + 3 * e2) / (1 + e2)});
}

TEST_F(EvaluatorTest, AttentionDropoutDropsTheProbabilitiesAsDropoutDoes) {
  // With the values the identity, attention gives its probabilities [B, H,
  // L, S]: with dropout, each is kept where kiln.dropout keeps element i of
  // that tensor, scaled by 1 / (1 - p); dropout 0 is attention without it.
  const int64_t b = 2, h = 3, l = 8, s = 16, e = 4, count = b * h * l * s;
  std::vector<double> identity(b * h * s * s, 0.0);
  for (int64_t m = 0; m < b * h; ++m)
    for (int64_t i = 0; i < s; ++i)
      identity[(m * s + i) * s + i] = 1;
  auto values = results(R"(
    func.func @f(%q: tensor<2x3x8x4xf64>, %k: tensor<2x3x16x4xf64>, %v: tensor<2x3x16x16xf64>, %step: tensor<i64>)
        -> (tensor<2x3x8x16xf64>, tensor<2x3x8x16xf64>, tensor<2x3x8x16xf64>) {
      %0 = kiln.attention %q, %k, %v : (tensor<2x3x8x4xf64>, tensor<2x3x16x4xf64>, tensor<2x3x16x16xf64>) -> tensor<2x3x8x16xf64>
      %1 = kiln.attention %q, %k, %v, %step {dropout = 0.25 : f64, seed = 3 : i64} : (tensor<2x3x8x4xf64>, tensor<2x3x16x4xf64>, tensor<2x3x16x16xf64>, tensor<i64>) -> tensor<2x3x8x16xf64>
      %2 = kiln.attention %q, %k, %v {dropout = 0.0 : f64} : (tensor<2x3x8x4xf64>, tensor<2x3x16x4xf64>, tensor<2x3x16x16xf64>) -> tensor<2x3x8x16xf64>
      return %0, %1, %2 : tensor<2x3x8x16xf64>, tensor<2x3x8x16xf64>, tensor<2x3x8x16xf64>
    })",
                        {real({b, h, l, e}, sample(b * h * l * e, 1)),
                         real({b, h, s, e}, sample(b * h * s * e, 2)),
                         real({b, h, s, s}, identity), integer({}, {5})});
  ASSERT_EQ(values.size(), 3u);
  int64_t kept = 0;
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    bool keep = kiln_uniform(3, 5, i) >= 0.25;
    kept += keep;
    sum += values[1].reals[i];
    EXPECT_DOUBLE_EQ(values[1].reals[i], keep ? values[0].reals[i] / 0.75 : 0.0)
        << "element " << i;
  }
  // 768 draws: the standard deviation of the fraction kept is 0.016. Each
  // row of probabilities sums to 1, and so does its expectation after
  // dropout: the mean of the 48 rows' sums has a standard deviation of 0.02.
  EXPECT_NEAR(static_cast<double>(kept) / count, 0.75, 0.05);
  EXPECT_NEAR(sum / (b * h * l), 1.0, 0.1);
  EXPECT_EQ(values[2].reals, values[0].reals);
}

TEST_F(EvaluatorTest, CrossEntropyAndItsGradient) {
  auto values = results(
      R"(
    func.func @f(%logits: tensor<2x2xf64>, %labels: tensor<2xi64>, %g: tensor<f64>) -> (tensor<f64>, tensor<2x2xf64>) {
      %0 = kiln.cross_entropy %logits, %labels : (tensor<2x2xf64>, tensor<2xi64>) -> tensor<f64>
      %1 = kiln.cross_entropy_backward %g, %logits, %labels : (tensor<f64>, tensor<2x2xf64>, tensor<2xi64>) -> tensor<2x2xf64>
      return %0, %1 : tensor<f64>, tensor<2x2xf64>
    })",
      {real({2, 2}, {0, 0, 1000, 0}), integer({2}, {1, 0}), real({}, {4})});
  ASSERT_EQ(values.size(), 2u);
  // Row 0 loses log 2; row 1 nothing, without overflowing.
  expectReals(values[0], {}, {std::log(2.0) / 2});
  expectReals(values[1], {2, 2}, {1, -1, 0, 0});
}

TEST_F(EvaluatorTest, CrossEntropyIgnoresLabelsAndSmooths) {
  auto values = results(
      R"(
    func.func @f(%logits: tensor<3x2xf64>, %labels: tensor<3xi64>, %g: tensor<f64>) -> (tensor<f64>, tensor<3x2xf64>, tensor<f64>, tensor<3x2xf64>) {
      %0 = kiln.cross_entropy %logits, %labels {label_smoothing = 0.5 : f64} : (tensor<3x2xf64>, tensor<3xi64>) -> tensor<f64>
      %1 = kiln.cross_entropy_backward %g, %logits, %labels {label_smoothing = 0.5 : f64} : (tensor<f64>, tensor<3x2xf64>, tensor<3xi64>) -> tensor<3x2xf64>
      %classes = kiln.constant dense<[1, 1, 0]> : tensor<3xi64>
      %2 = kiln.cross_entropy %logits, %classes {ignore_index = 1 : i64} : (tensor<3x2xf64>, tensor<3xi64>) -> tensor<f64>
      %3 = kiln.cross_entropy_backward %g, %logits, %classes {ignore_index = 1 : i64} : (tensor<f64>, tensor<3x2xf64>, tensor<3xi64>) -> tensor<3x2xf64>
      return %0, %1, %2, %3 : tensor<f64>, tensor<3x2xf64>, tensor<f64>, tensor<3x2xf64>
    })",
      {real({3, 2}, {0, 0, 1000, 0, 0, 0}), integer({3}, {1, -100, 0}),
       real({}, {4})});
  ASSERT_EQ(values.size(), 4u);
  // The default ignores row 1's -100: the mean of log 2 over the two others,
  // and their gradients 4 / 2 (softmax - (0.5 one_hot + 0.5 / 2)).
  expectReals(values[0], {}, {std::log(2.0)});
  expectReals(values[1], {3, 2}, {0.5, -0.5, 0, 0, -0.5, 0.5});
  // ignore_index 1, a class, leaves only row 2: its loss log 2, and its
  // gradient 4 / 1 (softmax - one_hot).
  expectReals(values[2], {}, {std::log(2.0)});
  expectReals(values[3], {3, 2}, {0, 0, 0, 0, -2, 2});
}

TEST_F(EvaluatorTest, CrossEntropyOfIgnoredLabelsOnlyIsNaN) {
  auto values = results(
      R"(
    func.func @f(%logits: tensor<2x3xf64>, %labels: tensor<2xi64>, %g: tensor<f64>) -> (tensor<f64>, tensor<2x3xf64>) {
      %0 = kiln.cross_entropy %logits, %labels {label_smoothing = 0.1 : f64} : (tensor<2x3xf64>, tensor<2xi64>) -> tensor<f64>
      %1 = kiln.cross_entropy_backward %g, %logits, %labels {label_smoothing = 0.1 : f64} : (tensor<f64>, tensor<2x3xf64>, tensor<2xi64>) -> tensor<2x3xf64>
      return %0, %1 : tensor<f64>, tensor<2x3xf64>
    })",
      {real({2, 3}, {1, 2, 3, 4, 5, 6}), integer({2}, {-100, -100}),
       real({}, {1})});
  ASSERT_EQ(values.size(), 2u);
  // PyTorch's mean over no labels, 0 / 0, and its gradient: zero.
  ASSERT_EQ(values[0].reals.size(), 1u);
  EXPECT_TRUE(std::isnan(values[0].reals[0]));
  expectReals(values[1], {2, 3}, {0, 0, 0, 0, 0, 0});
}

//===----------------------------------------------------------------------===//
// Gradients against central differences
//===----------------------------------------------------------------------===//

/// Checks the gradient that `backward` returns as result `result` for
/// argument `arg` of `loss`, a function returning a scalar, by central
/// differences of `loss` at every element of that argument.
class GradientTest : public EvaluatorTest {
protected:
  void expectGradient(const char *loss, const char *backward,
                      std::vector<Tensor> args, size_t arg, size_t result) {
    std::vector<Tensor> grads = results(backward, args);
    ASSERT_GT(grads.size(), result);
    const Tensor &analytic = grads[result];
    ASSERT_EQ(analytic.shape, args[arg].shape);
    for (size_t i = 0; i < analytic.reals.size(); ++i) {
      const double h = 1e-6;
      std::vector<Tensor> plus = args, minus = args;
      plus[arg].reals[i] += h;
      minus[arg].reals[i] -= h;
      double numeric = (result0(loss, plus) - result0(loss, minus)) / (2 * h);
      EXPECT_NEAR(analytic.reals[i], numeric, 1e-7)
          << "argument " << arg << ", element " << i;
    }
  }

  double result0(const char *source, const std::vector<Tensor> &args) {
    return result(source, args).reals.at(0);
  }
};

TEST_F(GradientTest, TwoLayerLSTMThroughTime) {
  // loss = sum(out * dout) + sum(h * dh) + sum(c * dc), whose gradient the
  // backward op computes from the same three seeds.
  const char *loss = R"(
    func.func @f(%x: tensor<2x3x2xf64>, %wi0: tensor<8x2xf64>, %wh0: tensor<8x2xf64>, %bi0: tensor<8xf64>, %bh0: tensor<8xf64>,
                 %wi1: tensor<8x2xf64>, %wh1: tensor<8x2xf64>, %bi1: tensor<8xf64>, %bh1: tensor<8xf64>,
                 %dout: tensor<2x3x2xf64>, %dh: tensor<2x2x2xf64>, %dc: tensor<2x2x2xf64>) -> tensor<f64> {
      %out, %h, %c = kiln.lstm %x, %wi0, %wh0, %bi0, %bh0, %wi1, %wh1, %bi1, %bh1 {hidden_size = 2 : i64, num_layers = 2 : i64}
          : (tensor<2x3x2xf64>, tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>,
             tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>)
          -> (tensor<2x3x2xf64>, tensor<2x2x2xf64>, tensor<2x2x2xf64>)
      %0 = kiln.mul %out, %dout : (tensor<2x3x2xf64>, tensor<2x3x2xf64>) -> tensor<2x3x2xf64>
      %1 = kiln.mul %h, %dh : (tensor<2x2x2xf64>, tensor<2x2x2xf64>) -> tensor<2x2x2xf64>
      %2 = kiln.mul %c, %dc : (tensor<2x2x2xf64>, tensor<2x2x2xf64>) -> tensor<2x2x2xf64>
      %s0 = kiln.reduce_sum %0 {axes = array<i64: 0, 1, 2>} : (tensor<2x3x2xf64>) -> tensor<f64>
      %s1 = kiln.reduce_sum %1 {axes = array<i64: 0, 1, 2>} : (tensor<2x2x2xf64>) -> tensor<f64>
      %s2 = kiln.reduce_sum %2 {axes = array<i64: 0, 1, 2>} : (tensor<2x2x2xf64>) -> tensor<f64>
      %t = kiln.add %s0, %s1 : (tensor<f64>, tensor<f64>) -> tensor<f64>
      %l = kiln.add %t, %s2 : (tensor<f64>, tensor<f64>) -> tensor<f64>
      return %l : tensor<f64>
    })";
  // The backward op ignores the forward results it is given (it recomputes
  // them), so the seeds stand in for them too.
  const char *backward = R"(
    func.func @f(%x: tensor<2x3x2xf64>, %wi0: tensor<8x2xf64>, %wh0: tensor<8x2xf64>, %bi0: tensor<8xf64>, %bh0: tensor<8xf64>,
                 %wi1: tensor<8x2xf64>, %wh1: tensor<8x2xf64>, %bi1: tensor<8xf64>, %bh1: tensor<8xf64>,
                 %dout: tensor<2x3x2xf64>, %dh: tensor<2x2x2xf64>, %dc: tensor<2x2x2xf64>)
        -> (tensor<2x3x2xf64>, tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>,
            tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>) {
      %dx, %g0, %g1, %g2, %g3, %g4, %g5, %g6, %g7 = kiln.lstm_backward %x, %dout, %dh, %dc, %dout, %dh, %dc,
          %wi0, %wh0, %bi0, %bh0, %wi1, %wh1, %bi1, %bh1 {hidden_size = 2 : i64, num_layers = 2 : i64}
          : (tensor<2x3x2xf64>, tensor<2x3x2xf64>, tensor<2x2x2xf64>, tensor<2x2x2xf64>,
             tensor<2x3x2xf64>, tensor<2x2x2xf64>, tensor<2x2x2xf64>,
             tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>,
             tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>)
          -> (tensor<2x3x2xf64>, tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>,
              tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>)
      return %dx, %g0, %g1, %g2, %g3, %g4, %g5, %g6, %g7
          : tensor<2x3x2xf64>, tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>,
            tensor<8x2xf64>, tensor<8x2xf64>, tensor<8xf64>, tensor<8xf64>
    })";
  std::vector<Tensor> args = {real({2, 3, 2}, sample(12, 10))};
  for (int layer = 0; layer < 2; ++layer) {
    args.push_back(real({8, 2}, sample(16, 20 + layer)));
    args.push_back(real({8, 2}, sample(16, 30 + layer)));
    args.push_back(real({8}, sample(8, 40 + layer)));
    args.push_back(real({8}, sample(8, 50 + layer)));
  }
  args.push_back(real({2, 3, 2}, sample(12, 60)));
  args.push_back(real({2, 2, 2}, sample(8, 61)));
  args.push_back(real({2, 2, 2}, sample(8, 62)));
  for (size_t i = 0; i < 9; ++i)
    expectGradient(loss, backward, args, i, i);
}

TEST_F(GradientTest, CausalAttention) {
  const char *loss = R"(
    func.func @f(%q: tensor<2x3x2xf64>, %k: tensor<2x4x2xf64>, %v: tensor<2x4x3xf64>, %g: tensor<2x3x3xf64>) -> tensor<f64> {
      %o = kiln.attention %q, %k, %v {causal = true, scale = 0.7 : f64} : (tensor<2x3x2xf64>, tensor<2x4x2xf64>, tensor<2x4x3xf64>) -> tensor<2x3x3xf64>
      %p = kiln.mul %o, %g : (tensor<2x3x3xf64>, tensor<2x3x3xf64>) -> tensor<2x3x3xf64>
      %l = kiln.reduce_sum %p {axes = array<i64: 0, 1, 2>} : (tensor<2x3x3xf64>) -> tensor<f64>
      return %l : tensor<f64>
    })";
  const char *backward = R"(
    func.func @f(%q: tensor<2x3x2xf64>, %k: tensor<2x4x2xf64>, %v: tensor<2x4x3xf64>, %g: tensor<2x3x3xf64>)
        -> (tensor<2x3x2xf64>, tensor<2x4x2xf64>, tensor<2x4x3xf64>) {
      %dq, %dk, %dv = kiln.attention_backward %g, %q, %k, %v {causal = true, scale = 0.7 : f64}
          : (tensor<2x3x3xf64>, tensor<2x3x2xf64>, tensor<2x4x2xf64>, tensor<2x4x3xf64>)
          -> (tensor<2x3x2xf64>, tensor<2x4x2xf64>, tensor<2x4x3xf64>)
      return %dq, %dk, %dv : tensor<2x3x2xf64>, tensor<2x4x2xf64>, tensor<2x4x3xf64>
    })";
  std::vector<Tensor> args = {
      real({2, 3, 2}, sample(12, 1)), real({2, 4, 2}, sample(16, 2)),
      real({2, 4, 3}, sample(24, 3)), real({2, 3, 3}, sample(18, 4))};
  for (size_t i = 0; i < 3; ++i)
    expectGradient(loss, backward, args, i, i);
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

constexpr const char *kSGD = R"(
  func.func @f(%p: tensor<1xf64>, %g: tensor<1xf64>, %lr: tensor<f64>, %step: tensor<i64>, %buf: tensor<1xf64>)
      -> (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>) {
    %0:2 = kiln.sgd %p, %g, %lr, %step, %buf {momentum = 0.9 : f64, dampening = 0.1 : f64, weight_decay = 0.1 : f64}
        : (tensor<1xf64>, tensor<1xf64>, tensor<f64>, tensor<i64>, tensor<1xf64>) -> (tensor<1xf64>, tensor<1xf64>)
    %1:2 = kiln.sgd %p, %g, %lr, %step, %buf {momentum = 0.9 : f64, nesterov = true, weight_decay = 0.1 : f64}
        : (tensor<1xf64>, tensor<1xf64>, tensor<f64>, tensor<i64>, tensor<1xf64>) -> (tensor<1xf64>, tensor<1xf64>)
    %2 = kiln.sgd %p, %g, %lr, %step : (tensor<1xf64>, tensor<1xf64>, tensor<f64>, tensor<i64>) -> tensor<1xf64>
    return %0#0, %0#1, %1#0, %1#1, %2 : tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>
  })";

TEST_F(EvaluatorTest, SGDFirstStepStartsTheMomentumBuffer) {
  auto values =
      results(kSGD, {real({1}, {1}), real({1}, {0.5}), real({}, {0.1}),
                     integer({}, {1}), real({1}, {123})});
  ASSERT_EQ(values.size(), 5u);
  // g = 0.5 + 0.1 * 1 = 0.6 becomes the buffer, whatever it held.
  expectReals(values[0], {1}, {1 - 0.1 * 0.6});
  expectReals(values[1], {1}, {0.6});
  expectReals(values[2], {1}, {1 - 0.1 * (0.6 + 0.9 * 0.6)});
  expectReals(values[3], {1}, {0.6});
  expectReals(values[4], {1}, {1 - 0.1 * 0.5});
}

TEST_F(EvaluatorTest, SGDLaterStepsUseDampeningAndNesterov) {
  auto values =
      results(kSGD, {real({1}, {1}), real({1}, {0.5}), real({}, {0.1}),
                     integer({}, {2}), real({1}, {0.6})});
  ASSERT_EQ(values.size(), 5u);
  double damped = 0.9 * 0.6 + 0.9 * 0.6;
  expectReals(values[0], {1}, {1 - 0.1 * damped});
  expectReals(values[1], {1}, {damped});
  double buffer = 0.9 * 0.6 + 0.6;
  expectReals(values[2], {1}, {1 - 0.1 * (0.6 + 0.9 * buffer)});
  expectReals(values[3], {1}, {buffer});
}

TEST_F(EvaluatorTest, AccumulateAddsTheTermToTheSum) {
  auto values = results(R"(
    func.func @f(%s: tensor<3xf64>, %t: tensor<3xf64>) -> tensor<3xf64> {
      %0 = kiln.accumulate %s, %t : tensor<3xf64>
      return %0 : tensor<3xf64>
    })",
                        {real({3}, {1, 2, 3}), real({3}, {0.5, -2, 4})});
  ASSERT_EQ(values.size(), 1u);
  expectReals(values[0], {3}, {1.5, 0, 7});
}

TEST_F(EvaluatorTest, AdamAndAdamWAtStepThree) {
  auto values =
      results(R"(
    func.func @f(%p: tensor<1xf64>, %g: tensor<1xf64>, %m: tensor<1xf64>, %v: tensor<1xf64>, %lr: tensor<f64>, %step: tensor<i64>)
        -> (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>) {
      %0:3 = kiln.adam %p, %g, %m, %v, %lr, %step {weight_decay = 0.1 : f64}
          : (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<f64>, tensor<i64>) -> (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>)
      %1:3 = kiln.adamw %p, %g, %m, %v, %lr, %step {beta1 = 0.8 : f64, epsilon = 0.5 : f64}
          : (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<f64>, tensor<i64>) -> (tensor<1xf64>, tensor<1xf64>, tensor<1xf64>)
      return %0#0, %0#1, %0#2, %1#0 : tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>
    })",
              {real({1}, {2}), real({1}, {0.5}), real({1}, {0.3}),
               real({1}, {0.04}), real({}, {0.01}), integer({}, {3})});
  ASSERT_EQ(values.size(), 4u);
  double g = 0.5 + 0.1 * 2;
  double m = 0.9 * 0.3 + 0.1 * g, v = 0.999 * 0.04 + 0.001 * g * g;
  double denom = std::sqrt(v) / std::sqrt(1 - std::pow(0.999, 3)) + 1e-8;
  expectReals(values[0], {1}, {2 - 0.01 / (1 - std::pow(0.9, 3)) * m / denom});
  expectReals(values[1], {1}, {m});
  expectReals(values[2], {1}, {v});
  // AdamW: decay the weight first (default 0.01), then step without it.
  double p = 2 * (1 - 0.01 * 0.01);
  double mw = 0.8 * 0.3 + 0.2 * 0.5, vw = 0.999 * 0.04 + 0.001 * 0.25;
  double denomW = std::sqrt(vw) / std::sqrt(1 - std::pow(0.999, 3)) + 0.5;
  expectReals(values[3], {1},
              {p - 0.01 / (1 - std::pow(0.8, 3)) * mw / denomW});
}

TEST_F(EvaluatorTest, LearningRateSchedules) {
  const char *source = R"(
    func.func @f(%step: tensor<i64>, %total: tensor<i64>) -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
      %0 = kiln.learning_rate %step, %total {schedule = "constant", lr = 0.1 : f64, warmup = 4 : i64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
      %1 = kiln.learning_rate %step, %total {schedule = "step", lr = 0.1 : f64, every = 2 : i64, gamma = 0.5 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
      %2 = kiln.learning_rate %step, %total {schedule = "cosine", lr = 1.0 : f64, min_lr = 0.2 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
      %3 = kiln.learning_rate %step, %total {schedule = "cosine", lr = 1.0 : f64, warmup = 2 : i64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
      return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
    })";
  auto first = results(source, {integer({}, {1}), integer({}, {10})});
  ASSERT_EQ(first.size(), 4u);
  expectReals(first[0], {}, {0.1 / 4});
  expectReals(first[1], {}, {0.1});
  expectReals(first[2], {}, {1});
  expectReals(first[3], {}, {0.5});

  auto sixth = results(source, {integer({}, {6}), integer({}, {10})});
  ASSERT_EQ(sixth.size(), 4u);
  expectReals(sixth[0], {}, {0.1});
  expectReals(sixth[1], {}, {0.1 * 0.25});
  // t = 5 of T = 10: half way down from 1 to 0.2.
  expectReals(sixth[2], {}, {0.6});
  // t = 3 of T = 8.
  expectReals(sixth[3], {}, {(1 + std::cos(M_PI * 3 / 8)) / 2});

  auto late = results(source, {integer({}, {15}), integer({}, {10})});
  ASSERT_EQ(late.size(), 4u);
  expectReals(late[2], {}, {0.2});
}

TEST_F(EvaluatorTest, ClipGradNormScalesOnlyAboveTheMaximum) {
  auto values = results(R"(
    func.func @f(%a: tensor<1xf64>, %b: tensor<1x1xf64>) -> (tensor<1xf64>, tensor<1x1xf64>, tensor<1xf64>) {
      %0:2 = kiln.clip_grad_norm %a, %b {max_norm = 1.0 : f64} : (tensor<1xf64>, tensor<1x1xf64>) -> (tensor<1xf64>, tensor<1x1xf64>)
      %1:2 = kiln.clip_grad_norm %a, %b {max_norm = 10.0 : f64} : (tensor<1xf64>, tensor<1x1xf64>) -> (tensor<1xf64>, tensor<1x1xf64>)
      return %0#0, %0#1, %1#0 : tensor<1xf64>, tensor<1x1xf64>, tensor<1xf64>
    })",
                        {real({1}, {3}), real({1, 1}, {4})});
  ASSERT_EQ(values.size(), 3u);
  double scale = 1 / (5 + 1e-6);
  expectReals(values[0], {1}, {3 * scale}, 0);
  expectReals(values[1], {1, 1}, {4 * scale}, 0);
  expectReals(values[2], {1}, {3}, 0);
}

// The evaluator is one process: the mean over its one rank is each tensor.
TEST_F(EvaluatorTest, AllReduceOverOneRankIsTheIdentity) {
  auto values = results(R"(
    func.func @f(%a: tensor<2xf64>, %b: tensor<1x1xf64>) -> (tensor<2xf64>, tensor<1x1xf64>) {
      %0:2 = kiln.all_reduce %a, %b {bucket = 0} : (tensor<2xf64>, tensor<1x1xf64>) -> (tensor<2xf64>, tensor<1x1xf64>)
      return %0#0, %0#1 : tensor<2xf64>, tensor<1x1xf64>
    })",
                        {real({2}, {3, -1.5}), real({1, 1}, {4})});
  ASSERT_EQ(values.size(), 2u);
  expectReals(values[0], {2}, {3, -1.5}, 0);
  expectReals(values[1], {1, 1}, {4}, 0);
}

} // namespace
