//===- ConvPoolTest.cpp - Convolution and pooling sites -------------------===//
//
// The three convolution kinds with strides, padding, dilation, bias and the
// fused ReLU; both pooling algorithms, with and without counting padding,
// and their backward sites paired with a forward site and alone.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include <cmath>
#include <limits>

using namespace kiln::cpu::testing;

namespace {

struct ConvCase {
  Shape x;
  int64_t o, kh, kw, sh, sw, ph, pw, dh, dw;
  bool bias, relu;
};

class ConvTest : public CPUTest,
                 public ::testing::WithParamInterface<ConvCase> {};

TEST_P(ConvTest, ForwardAndBackwardMatchTheReference) {
  const ConvCase &c = GetParam();
  int64_t n = c.x[0], ch = c.x[1], h = c.x[2], w = c.x[3];
  int64_t oh = (h + 2 * c.ph - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  int64_t ow = (w + 2 * c.pw - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  Shape wShape{c.o, ch, c.kh, c.kw}, bShape{c.o}, yShape{n, c.o, oh, ow};
  std::string geometry = "stride = " + array({c.sh, c.sw}) +
                         ", padding = " + array({c.ph, c.pw}) +
                         ", dilation = " + array({c.dh, c.dw});
  std::string body = "%" + std::string(c.relu ? "c" : "y") +
                     " = kiln.conv2d %x, %w" + (c.bias ? ", %b" : "") + " {" +
                     geometry + "} : (" + type(c.x) + ", " + type(wShape) +
                     (c.bias ? ", " + type(bShape) : "") + ") -> " +
                     type(yShape) + "\n";
  if (c.relu)
    body += "%y = kiln.relu %c : " + type(yShape) + "\n";
  body +=
      "%dx = kiln.conv2d_backward_input %dy, %w {input_shape = " + array(c.x) +
      ", " + geometry + "} : (" + type(yShape) + ", " + type(wShape) + ") -> " +
      type(c.x) + "\n";
  body += "%dw = kiln.conv2d_backward_weight %dy, %x {kernel = " +
          array({c.kh, c.kw}) + ", " + geometry + "} : (" + type(yShape) +
          ", " + type(c.x) + ") -> " + type(wShape) + "\n";
  body += "%db = kiln.reduce_sum %dy {axes = array<i64: 0, 2, 3>} : (" +
          type(yShape) + ") -> " + type(bShape);
  std::string source =
      function({{"x", c.x}, {"w", wShape}, {"b", bShape}, {"dy", yShape}}, body,
               {{"y", yShape}, {"dx", c.x}, {"dw", wShape}, {"db", bShape}});
  Tensor x = random(c.x), weight = random(wShape), bias = random(bShape),
         dy = random(yShape);
  std::vector<Tensor> expected = evaluate(source, {x, weight, bias, dy});
  ASSERT_EQ(expected.size(), 4u);

  std::vector<int64_t> config{n,    ch,   h,    w,    c.o,  c.kh, c.kw,
                              c.sh, c.sw, c.ph, c.pw, c.dh, c.dw};
  std::vector<int64_t> forwardConfig = config;
  forwardConfig.push_back(c.bias);
  forwardConfig.push_back(c.relu);
  std::vector<int64_t> weightsConfig = config;
  weightsConfig.push_back(c.bias);
  int64_t forward = create(KILN_CONV2D_FORWARD, forwardConfig);
  int64_t backwardData = create(KILN_CONV2D_BACKWARD_DATA, config);
  int64_t backwardWeights = create(KILN_CONV2D_BACKWARD_WEIGHTS, weightsConfig);

  Buffer xBuffer(x), wBuffer(weight), bBuffer(bias), dyBuffer(dy);
  Buffer y(yShape), dx(c.x), dw(wShape), db(bShape);
  if (c.bias) {
    execute(forward, {&xBuffer, &wBuffer, &bBuffer, &y});
    execute(backwardWeights, {&dyBuffer, &xBuffer, &dw, &db});
    expectClose(db, expected[3], "db");
  } else {
    execute(forward, {&xBuffer, &wBuffer, &y});
    execute(backwardWeights, {&dyBuffer, &xBuffer, &dw});
  }
  execute(backwardData, {&dyBuffer, &wBuffer, &dx});
  expectClose(y, expected[0], "y");
  expectClose(dx, expected[1], "dx");
  expectClose(dw, expected[2], "dw");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvTest,
    ::testing::Values(
        // The seed CNN's first layer, smaller.
        ConvCase{{2, 1, 8, 8}, 4, 3, 3, 1, 1, 1, 1, 1, 1, true, true},
        ConvCase{{4, 16, 10, 10}, 32, 3, 3, 1, 1, 1, 1, 1, 1, true, true},
        ConvCase{{2, 3, 9, 8}, 5, 3, 2, 2, 1, 1, 0, 1, 2, false, false},
        ConvCase{{1, 4, 7, 7}, 6, 3, 3, 2, 2, 2, 2, 2, 2, true, false},
        ConvCase{{3, 8, 6, 6}, 16, 1, 1, 1, 1, 0, 0, 1, 1, false, true},
        ConvCase{{2, 12, 9, 9}, 20, 5, 5, 1, 1, 2, 2, 1, 1, true, false}));

struct PoolCase {
  Shape x;
  int64_t kh, kw, sh, sw, ph, pw;
  /// 0 max, 1 average counting padding, 2 average without it.
  int64_t algorithm;
};

class PoolTest : public CPUTest,
                 public ::testing::WithParamInterface<PoolCase> {
protected:
  /// The reference's y and dx.
  std::vector<Tensor> expected(const PoolCase &c, const Shape &yShape,
                               const Tensor &x, const Tensor &dy) {
    std::string geometry = "kernel = " + array({c.kh, c.kw}) +
                           ", stride = " + array({c.sh, c.sw}) +
                           ", padding = " + array({c.ph, c.pw});
    std::string body;
    if (c.algorithm == 0) {
      body = "%y = kiln.max_pool2d %x {" + geometry + "} : (" + type(c.x) +
             ") -> " + type(yShape) + "\n" +
             "%dx = kiln.max_pool2d_backward %dy, %x {" + geometry + "} : (" +
             type(yShape) + ", " + type(c.x) + ") -> " + type(c.x);
    } else {
      geometry += std::string(", count_include_pad = ") +
                  (c.algorithm == 1 ? "true" : "false");
      body = "%y = kiln.avg_pool2d %x {" + geometry + "} : (" + type(c.x) +
             ") -> " + type(yShape) + "\n" +
             "%dx = kiln.avg_pool2d_backward %dy {input_shape = " + array(c.x) +
             ", " + geometry + "} : (" + type(yShape) + ") -> " + type(c.x);
    }
    return evaluate(function({{"x", c.x}, {"dy", yShape}}, body,
                             {{"y", yShape}, {"dx", c.x}}),
                    {x, dy});
  }
};

TEST_P(PoolTest, ForwardAndBackwardMatchTheReference) {
  const PoolCase &c = GetParam();
  Shape yShape{c.x[0], c.x[1], (c.x[2] + 2 * c.ph - c.kh) / c.sh + 1,
               (c.x[3] + 2 * c.pw - c.kw) / c.sw + 1};
  Tensor x = random(c.x), dy = random(yShape);
  std::vector<Tensor> reference = expected(c, yShape, x, dy);
  ASSERT_EQ(reference.size(), 2u);

  std::vector<int64_t> config{c.x[0], c.x[1], c.x[2], c.x[3], c.kh,       c.kw,
                              c.sh,   c.sw,   c.ph,   c.pw,   c.algorithm};
  // A training forward (keeps_workspace 1) and an inference one (0).
  std::vector<int64_t> training(config), inference(config);
  training.push_back(1);
  inference.push_back(0);
  int64_t forward = create(KILN_POOL2D_FORWARD, training);
  int64_t forwardOnly = create(KILN_POOL2D_FORWARD, inference);
  config.push_back(forward);
  int64_t paired = create(KILN_POOL2D_BACKWARD, config);
  config.back() = -1;
  int64_t alone = create(KILN_POOL2D_BACKWARD, config);

  Buffer xBuffer(x), dyBuffer(dy), y(yShape), yInference(yShape),
      dxPaired(c.x), dxAlone(c.x);
  execute(forward, {&xBuffer, &y});
  execute(forwardOnly, {&xBuffer, &yInference});
  execute(paired, {&dyBuffer, &xBuffer, &dxPaired});
  execute(alone, {&dyBuffer, &xBuffer, &dxAlone});
  expectClose(y, reference[0], "y");
  expectClose(yInference, reference[0], "y, inference");
  expectClose(dxPaired, reference[1], "dx, paired");
  expectClose(dxAlone, reference[1], "dx, alone");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, PoolTest,
    ::testing::Values(PoolCase{{2, 3, 8, 8}, 2, 2, 2, 2, 0, 0, 0},
                      PoolCase{{2, 2, 7, 9}, 3, 3, 2, 2, 1, 1, 0},
                      PoolCase{{2, 2, 7, 9}, 3, 3, 2, 2, 1, 1, 1},
                      PoolCase{{1, 3, 6, 5}, 3, 3, 1, 1, 1, 1, 2},
                      PoolCase{{2, 16, 8, 6}, 2, 2, 2, 2, 0, 0, 1},
                      PoolCase{{2, 4, 9, 7}, 3, 2, 3, 1, 1, 0, 2},
                      // Max pooling: windows that overlap in both
                      // directions, windows with gaps between them, a
                      // partial last window, and enough rows for threads.
                      PoolCase{{2, 3, 7, 6}, 3, 3, 1, 1, 1, 1, 0},
                      PoolCase{{2, 2, 11, 10}, 2, 2, 3, 3, 0, 0, 0},
                      PoolCase{{3, 5, 11, 13}, 3, 3, 2, 2, 1, 1, 0},
                      PoolCase{{4, 16, 10, 10}, 2, 2, 2, 2, 0, 0, 0}));

/// Max pooling of values with many exact ties (as after a ReLU), in the
/// plain and the blocked layout: the maximum and the tap that its gradient
/// goes to are the reference's, the first of the window, exactly. Gradients
/// are whole numbers, so that overlapping windows sum them exactly.
class MaxPoolTieTest : public PoolTest {};

TEST_P(MaxPoolTieTest, TiesGoToTheFirstTap) {
  const PoolCase &c = GetParam();
  Shape yShape{c.x[0], c.x[1], (c.x[2] + 2 * c.ph - c.kh) / c.sh + 1,
               (c.x[3] + 2 * c.pw - c.kw) / c.sw + 1};
  Tensor x = random(c.x), dy = random(yShape);
  for (double &value : x.reals)
    value = std::max(0.0, std::round(value * 2) / 2);
  for (double &value : dy.reals)
    value = std::round(value * 8);
  std::vector<Tensor> reference = expected(c, yShape, x, dy);
  ASSERT_EQ(reference.size(), 2u);

  std::vector<int64_t> config{c.x[0], c.x[1], c.x[2], c.x[3], c.kh, c.kw,
                              c.sh,   c.sw,   c.ph,   c.pw,   0,    1};
  for (int64_t blocked : {0, 0b11}) {
    std::vector<int64_t> forwardConfig(config);
    forwardConfig.push_back(blocked);
    int64_t forward = create(KILN_POOL2D_FORWARD, forwardConfig);
    std::vector<int64_t> backwardConfig(config);
    backwardConfig.back() = forward;
    backwardConfig.push_back(blocked ? 0b111 : 0);
    int64_t backward = create(KILN_POOL2D_BACKWARD, backwardConfig);
    Buffer xBuffer(x), dyBuffer(dy), y(yShape), dx(c.x);
    if (blocked) {
      xBuffer = toBlocked(xBuffer);
      dyBuffer = toBlocked(dyBuffer);
    }
    execute(forward, {&xBuffer, &y});
    execute(backward, {&dyBuffer, &xBuffer, &dx});
    std::string layout = blocked ? ", blocked" : ", plain";
    expectClose(blocked ? fromBlocked(y) : y, reference[0], "y" + layout, 0);
    expectClose(blocked ? fromBlocked(dx) : dx, reference[1], "dx" + layout, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MaxPoolTieTest,
    ::testing::Values(PoolCase{{2, 8, 8, 8}, 2, 2, 2, 2, 0, 0, 0},
                      PoolCase{{2, 16, 7, 9}, 3, 3, 2, 2, 1, 1, 0},
                      PoolCase{{1, 8, 6, 6}, 3, 3, 1, 1, 1, 1, 0}));

// A NaN in a window is its maximum, and the window's gradient goes to it.
TEST_F(CPUTest, MaxPoolPropagatesNaN) {
  Shape xShape{1, 1, 2, 4}, yShape{1, 1, 1, 2};
  std::vector<int64_t> config{1, 1, 2, 4, 2, 2, 2, 2, 0, 0, 0, 1};
  int64_t forward = create(KILN_POOL2D_FORWARD, config);
  config.back() = forward;
  int64_t backward = create(KILN_POOL2D_BACKWARD, config);
  float nan = std::numeric_limits<float>::quiet_NaN();
  Buffer x(xShape), y(yShape), dy(yShape), dx(xShape);
  // Window 0: 1 2 / NaN 3; window 1: 5 4 / 0 5.
  float values[] = {1, 2, 5, 4, nan, 3, 0, 5};
  std::copy(std::begin(values), std::end(values), x.data());
  dy.data()[0] = 10;
  dy.data()[1] = 20;
  execute(forward, {&x, &y});
  execute(backward, {&dy, &x, &dx});
  EXPECT_TRUE(std::isnan(y.data()[0]));
  EXPECT_EQ(y.data()[1], 5);
  std::vector<float> gradient(dx.data(), dx.data() + 8);
  EXPECT_EQ(gradient, (std::vector<float>{0, 0, 20, 0, 10, 0, 0, 0}));
}

// The paired backward site routes gradients by the positions that its
// forward site found, not by the input it is given.
TEST_F(CPUTest, PairedMaxPoolBackwardUsesTheForwardWorkspace) {
  Shape xShape{1, 2, 4, 4}, yShape{1, 2, 2, 2};
  std::vector<int64_t> config{1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 0};
  std::vector<int64_t> training(config);
  training.push_back(1);
  int64_t forward = create(KILN_POOL2D_FORWARD, training);
  config.push_back(forward);
  int64_t paired = create(KILN_POOL2D_BACKWARD, config);

  Tensor x = random(xShape);
  Buffer xBuffer(x), other(random(xShape)), y(yShape), dy(random(yShape)),
      dxPaired(xShape), dxExpected(xShape);
  execute(forward, {&xBuffer, &y});
  execute(paired, {&dy, &xBuffer, &dxExpected});
  execute(paired, {&dy, &other, &dxPaired});
  expectClose(dxPaired, dxExpected.tensor(), "dx", 0);
}

// A backward site cannot pair with a forward site that keeps no workspace.
TEST(PoolErrorTest, PairedWithAnInferenceForward) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<int64_t> forward{1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0};
  std::vector<int64_t> backward{1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0};
  std::vector<float> x(32), y(8), dy(8), dx(32);
  void *forwardArgs[] = {x.data(), y.data()};
  void *backwardArgs[] = {dy.data(), x.data(), dx.data()};
  auto run = [&] {
    kiln_rt_create(0, KILN_POOL2D_FORWARD, 12, forward.data());
    kiln_rt_create(1, KILN_POOL2D_BACKWARD, 12, backward.data());
    kiln_rt_execute(0, forwardArgs);
    kiln_rt_execute(1, backwardArgs);
  };
  EXPECT_EXIT(run(), ::testing::ExitedWithCode(1),
              "a pool2d backward site reuses a forward site that keeps no "
              "workspace");
}

} // namespace
