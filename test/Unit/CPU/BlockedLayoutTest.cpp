//===- BlockedLayoutTest.cpp - Arguments in oneDNN's nChwBc layout --------===//
//
// Convolution and pooling sites take the arguments that their configuration's
// last value marks in the blocked layout. Each case runs a site on plain
// buffers and the same site configured for blocked ones on the same values,
// converted, and expects the same floats: only reorders differ.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

using namespace kiln::cpu;
using namespace kiln::cpu::testing;

namespace {

class BlockedLayoutTest : public CPUTest {
protected:
  /// `config` with the mask of blocked arguments appended.
  static std::vector<int64_t> with(std::vector<int64_t> config, int64_t mask) {
    config.push_back(mask);
    return config;
  }
};

TEST_F(BlockedLayoutTest, Convolutions) {
  Shape xShape{2, 16, 6, 6}, wShape{32, 16, 3, 3}, bShape{32},
      yShape{2, 32, 6, 6};
  std::vector<int64_t> shape{2, 16, 6, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1};
  Buffer x(random(xShape)), w(random(wShape)), b(random(bShape)),
      dy(random(yShape));
  Buffer xBlocked = toBlocked(x), dyBlocked = toBlocked(dy);

  // Forward with bias and relu: args x w b y, x and y blocked.
  std::vector<int64_t> forward(shape);
  forward.insert(forward.end(), {1, 1});
  Buffer y(yShape), yBlocked(yShape);
  execute(create(KILN_CONV2D_FORWARD, forward), {&x, &w, &b, &y});
  execute(create(KILN_CONV2D_FORWARD, with(forward, 0b1001)),
          {&xBlocked, &w, &b, &yBlocked});
  expectClose(fromBlocked(yBlocked), y.tensor(), "y", 0);

  // Input gradient: args dy w dx, dy and dx blocked.
  Buffer dx(xShape), dxBlocked(xShape);
  execute(create(KILN_CONV2D_BACKWARD_DATA, shape), {&dy, &w, &dx});
  execute(create(KILN_CONV2D_BACKWARD_DATA, with(shape, 0b101)),
          {&dyBlocked, &w, &dxBlocked});
  expectClose(fromBlocked(dxBlocked), dx.tensor(), "dx", 0);

  // Weight and bias gradients: args dy x dw db, dy and x blocked.
  std::vector<int64_t> weights = with(shape, 1);
  Buffer dw(wShape), db(bShape), dwBlocked(wShape), dbBlocked(bShape);
  execute(create(KILN_CONV2D_BACKWARD_WEIGHTS, weights), {&dy, &x, &dw, &db});
  execute(create(KILN_CONV2D_BACKWARD_WEIGHTS, with(weights, 0b11)),
          {&dyBlocked, &xBlocked, &dwBlocked, &dbBlocked});
  expectClose(dwBlocked, dw.tensor(), "dw", 0);
  expectClose(dbBlocked, db.tensor(), "db", 0);
}

// The weight gradient of a layer of few input channels (an image's), which
// runs on NHWC, takes dy blocked as the CNN's first layer passes it.
TEST_F(BlockedLayoutTest, FewChannelWeightGradient) {
  Shape xShape{2, 3, 7, 7}, wShape{8, 3, 3, 3}, bShape{8}, yShape{2, 8, 7, 7};
  std::vector<int64_t> weights{2, 3, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  Buffer x(random(xShape)), dy(random(yShape));
  Buffer dyBlocked = toBlocked(dy);
  Buffer dw(wShape), db(bShape), dwBlocked(wShape), dbBlocked(bShape);
  execute(create(KILN_CONV2D_BACKWARD_WEIGHTS, weights), {&dy, &x, &dw, &db});
  execute(create(KILN_CONV2D_BACKWARD_WEIGHTS, with(weights, 0b01)),
          {&dyBlocked, &x, &dwBlocked, &dbBlocked});
  expectClose(dwBlocked, dw.tensor(), "dw", 0);
  expectClose(dbBlocked, db.tensor(), "db", 0);
}

// Max pooling pools in the layout of x, forward and backward, paired or not;
// y, dy and dx may each be in either layout.
TEST_F(BlockedLayoutTest, MaxPooling) {
  Shape xShape{2, 32, 8, 6}, yShape{2, 32, 4, 3};
  std::vector<int64_t> shape{2, 32, 8, 6, 2, 2, 2, 2, 0, 0, 0};
  // The forward sites keep their workspace (keeps_workspace 1).
  std::vector<int64_t> config(shape);
  config.push_back(1);
  Buffer x(random(xShape)), dy(random(yShape));
  Buffer xBlocked = toBlocked(x), dyBlocked = toBlocked(dy);

  int64_t forward = create(KILN_POOL2D_FORWARD, config);
  std::vector<int64_t> backward(shape);
  backward.push_back(forward);
  int64_t paired = create(KILN_POOL2D_BACKWARD, backward);
  Buffer y(yShape), dx(xShape);
  execute(forward, {&x, &y});
  execute(paired, {&dy, &x, &dx});

  // x and y blocked; then x blocked, y plain.
  int64_t blockedForward = create(KILN_POOL2D_FORWARD, with(config, 0b11));
  int64_t plainOutput = create(KILN_POOL2D_FORWARD, with(config, 0b01));
  backward.back() = blockedForward;
  // dy, x and dx blocked, paired; dy plain, x blocked, dx plain, alone.
  int64_t blockedPaired = create(KILN_POOL2D_BACKWARD, with(backward, 0b111));
  backward.back() = -1;
  int64_t blockedAlone = create(KILN_POOL2D_BACKWARD, with(backward, 0b010));

  Buffer yBlocked(yShape), yPlain(yShape), dxBlocked(xShape), dxPlain(xShape);
  execute(blockedForward, {&xBlocked, &yBlocked});
  execute(plainOutput, {&xBlocked, &yPlain});
  execute(blockedPaired, {&dyBlocked, &xBlocked, &dxBlocked});
  execute(blockedAlone, {&dy, &xBlocked, &dxPlain});
  expectClose(fromBlocked(yBlocked), y.tensor(), "y, blocked", 0);
  expectClose(yPlain, y.tensor(), "y, plain", 0);
  expectClose(fromBlocked(dxBlocked), dx.tensor(), "dx, paired", 0);
  expectClose(dxPlain, dx.tensor(), "dx, alone", 0);
}

class BlockedLayoutErrorTest : public ::testing::Test {
protected:
  BlockedLayoutErrorTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BlockedLayoutErrorTest, BadMasks) {
  // 12 channels cannot be blocked by 8 or 16.
  std::vector<int64_t> pool{1, 12, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1};
  EXPECT_EXIT(kiln_rt_create(0, KILN_POOL2D_FORWARD, 13, pool.data()),
              ::testing::ExitedWithCode(1),
              "call site 0 \\(pool2d forward\\): a blocked argument must be "
              "NCHW with a multiple of 8 channels");
  // A pooling has 2 arguments: masks from 0 to 3.
  pool = {1, 16, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 4};
  EXPECT_EXIT(kiln_rt_create(0, KILN_POOL2D_FORWARD, 13, pool.data()),
              ::testing::ExitedWithCode(1),
              "configuration value 'blocked' is 4, not a mask of 2 arguments");
}

// A backward site must pool in the layout of the forward site it pairs with,
// or the workspace would not fit.
TEST_F(BlockedLayoutErrorTest, PairedLayoutsDiffer) {
  std::vector<int64_t> forward{1, 16, 4, 4, 2, 2, 2, 2, 0, 0, 0, 1, 3};
  std::vector<int64_t> backward{1, 16, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 0};
  std::vector<float> x(256), y(64), dy(64), dx(256);
  void *forwardArgs[] = {x.data(), y.data()};
  void *backwardArgs[] = {dy.data(), x.data(), dx.data()};
  auto run = [&] {
    kiln_rt_create(0, KILN_POOL2D_FORWARD, 13, forward.data());
    kiln_rt_create(1, KILN_POOL2D_BACKWARD, 13, backward.data());
    kiln_rt_execute(0, forwardArgs);
    kiln_rt_execute(1, backwardArgs);
  };
  EXPECT_EXIT(run(), ::testing::ExitedWithCode(1), "pool in different layouts");
}

} // namespace
