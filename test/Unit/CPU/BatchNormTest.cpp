//===- BatchNormTest.cpp - Batch normalization sites ----------------------===//
//
// The forward site in training and inference and the backward site, on
// random [N, C], [N, C, L] and [N, C, H, W] inputs, with and without scale
// and shift and a fused ReLU, in the plain layout and (4-d) the blocked one,
// against PyTorch's batch normalization computed naively in double: y =
// scale * (x - mean) / sqrt(var + eps) + shift over each channel, with the
// batch's mean and biased variance in training. Synchronized over two ranks,
// the sites see one rank's half of a batch, and a stand-in for the other rank
// adds that half's sums: the results are those of the whole batch.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "cpu/Runtime.h"

#include <cmath>
#include <deque>

using namespace kiln::cpu::testing;

namespace {

/// How the arguments that may be blocked are passed.
enum class Layout {
  Plain,
  /// Every one that may be.
  Blocked,
  /// x alone: the sites reorder y, dy and dx.
  BlockedInput
};

struct BatchNormCase {
  Shape x;
  bool affine, fuseRelu;
  Layout layout;
};

std::string describe(const ::testing::TestParamInfo<BatchNormCase> &info) {
  const BatchNormCase &c = info.param;
  std::string name;
  for (int64_t size : c.x)
    name += (name.empty() ? "" : "x") + std::to_string(size);
  static const char *layouts[] = {"", "_blocked", "_blocked_x"};
  return name + (c.affine ? "_affine" : "") + (c.fuseRelu ? "_relu" : "") +
         layouts[static_cast<int>(c.layout)];
}

constexpr double kEpsilon = 1e-5;

/// x as [N, C, S] with its per-channel statistics.
struct View {
  int64_t n, c, s;

  explicit View(const Shape &shape) : n(shape[0]), c(shape[1]), s(1) {
    for (size_t i = 2; i < shape.size(); ++i)
      s *= shape[i];
  }
  int64_t at(int64_t i, int64_t channel, int64_t p) const {
    return (i * c + channel) * s + p;
  }
  /// Calls `body(index)` for every element of channel `channel`.
  template <typename Body> void each(int64_t channel, Body body) const {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < s; ++p)
        body(at(i, channel, p));
  }
};

/// The mean and biased variance of each channel of x.
std::pair<Tensor, Tensor> batchStatistics(const Tensor &x) {
  View v(x.shape);
  std::vector<double> mean(v.c), variance(v.c);
  double count = static_cast<double>(v.n * v.s);
  for (int64_t c = 0; c < v.c; ++c) {
    v.each(c, [&](int64_t i) { mean[c] += x.reals[i]; });
    mean[c] /= count;
    v.each(c, [&](int64_t i) {
      variance[c] += (x.reals[i] - mean[c]) * (x.reals[i] - mean[c]);
    });
    variance[c] /= count;
  }
  return {Tensor::real({v.c}, mean), Tensor::real({v.c}, variance)};
}

/// scale * (x - mean) / sqrt(variance + eps) + shift, then the ReLU if
/// `relu`; without scale and shift when they are null.
Tensor normalize(const Tensor &x, const Tensor &mean, const Tensor &variance,
                 const Tensor *scale, const Tensor *shift, bool relu) {
  View v(x.shape);
  Tensor y = Tensor::real(x.shape, std::vector<double>(x.reals.size()));
  for (int64_t c = 0; c < v.c; ++c) {
    double invStd = 1 / std::sqrt(variance.reals[c] + kEpsilon);
    double gamma = scale ? scale->reals[c] : 1,
           beta = shift ? shift->reals[c] : 0;
    v.each(c, [&](int64_t i) {
      double value = gamma * (x.reals[i] - mean.reals[c]) * invStd + beta;
      y.reals[i] = relu ? std::max(value, 0.0) : value;
    });
  }
  return y;
}

/// The gradients of the training forward at x for dy: dx, and dscale and
/// dshift. `passed`, when given, is where the fused ReLU let the gradient
/// through (the runtime's y > 0).
struct Gradients {
  Tensor dx, dscale, dshift;
};

/// With `statistics`, those of the whole batch that x is part of, the sums
/// dscale and dshift are x's, and dx is not meaningful.
Gradients gradients(const Tensor &x, const Tensor &dy, const Tensor *scale,
                    const Buffer *passed,
                    std::optional<std::pair<Tensor, Tensor>> statistics = {}) {
  View v(x.shape);
  if (!statistics)
    statistics = batchStatistics(x);
  const Tensor &mean = statistics->first, &variance = statistics->second;
  Gradients g{Tensor::real(x.shape, std::vector<double>(x.reals.size())),
              Tensor::real({v.c}, std::vector<double>(v.c)),
              Tensor::real({v.c}, std::vector<double>(v.c))};
  double count = static_cast<double>(v.n * v.s);
  for (int64_t c = 0; c < v.c; ++c) {
    double invStd = 1 / std::sqrt(variance.reals[c] + kEpsilon);
    auto grad = [&](int64_t i) {
      return passed && !(passed->data()[i] > 0) ? 0.0 : dy.reals[i];
    };
    auto xhat = [&](int64_t i) {
      return (x.reals[i] - mean.reals[c]) * invStd;
    };
    double sum = 0, dot = 0;
    v.each(c, [&](int64_t i) {
      sum += grad(i);
      dot += grad(i) * xhat(i);
    });
    g.dshift.reals[c] = sum;
    g.dscale.reals[c] = dot;
    double gamma = scale ? scale->reals[c] : 1;
    v.each(c, [&](int64_t i) {
      g.dx.reals[i] =
          gamma * invStd * (grad(i) - sum / count - xhat(i) * dot / count);
    });
  }
  return g;
}

/// [a; b], along the first dimension.
Tensor concatenate(const Tensor &a, const Tensor &b) {
  Shape shape = a.shape;
  shape[0] += b.shape[0];
  std::vector<double> values = a.reals;
  values.insert(values.end(), b.reals.begin(), b.reals.end());
  return Tensor::real(shape, values);
}

/// The first (`second` false) or last `shape[0]` examples of `t`, of shape
/// `shape`.
Tensor half(const Tensor &t, const Shape &shape, bool second) {
  size_t size = t.reals.size() / 2;
  auto begin = t.reals.begin() + (second ? size : 0);
  return Tensor::real(shape, std::vector<double>(begin, begin + size));
}

/// Stands in for the other rank of a two-rank run: adds the sums queued,
/// in order, to those that a synchronized site gives.
std::deque<std::vector<double>> otherRankSums;

bool addOtherRank(double *data, int64_t count, std::string &error) {
  if (otherRankSums.empty() ||
      otherRankSums.front().size() != static_cast<size_t>(count)) {
    error = "a sum of " + std::to_string(count) + " values was not expected";
    return false;
  }
  for (int64_t i = 0; i < count; ++i)
    data[i] += otherRankSums.front()[i];
  otherRankSums.pop_front();
  return true;
}

const kiln::cpu::Averager otherRank{nullptr, nullptr, nullptr, addOtherRank};

/// Σx then Σx² of each channel of x.
std::vector<double> channelSums(const Tensor &x) {
  View v(x.shape);
  std::vector<double> sums(2 * v.c);
  for (int64_t c = 0; c < v.c; ++c)
    v.each(c, [&](int64_t i) {
      sums[c] += x.reals[i];
      sums[v.c + c] += x.reals[i] * x.reals[i];
    });
  return sums;
}

class BatchNormTest : public CPUTest,
                      public ::testing::WithParamInterface<BatchNormCase> {
protected:
  ~BatchNormTest() override {
    kiln::cpu::setAverager(nullptr);
    otherRankSums.clear();
  }

  /// A training forward and backward on this rank's x of the case's shape,
  /// in a run of `ranks` (1 or 2) whose other rank holds as many examples.
  void checkTraining(int64_t ranks);

  /// Config `values`, then the mask of `blocked` arguments when the case
  /// blocks any.
  std::vector<int64_t> config(std::vector<int64_t> values,
                              int64_t blocked) const {
    if (GetParam().layout != Layout::Plain)
      values.push_back(blocked);
    return values;
  }
  bool blocks(bool onlyWhenAll) const {
    Layout layout = GetParam().layout;
    return layout == Layout::Blocked ||
           (!onlyWhenAll && layout == Layout::BlockedInput);
  }
  /// `plain` as the case passes an argument that may be blocked.
  Buffer pass(const Buffer &plain, bool blocked) const {
    return blocked ? toBlocked(plain) : Buffer(plain.tensor());
  }
  Buffer unpass(const Buffer &passed, bool blocked) const {
    return blocked ? fromBlocked(passed) : Buffer(passed.tensor());
  }
};

void BatchNormTest::checkTraining(int64_t ranks) {
  const BatchNormCase &c = GetParam();
  View v(c.x);
  bool xBlocked = blocks(false), othersBlocked = blocks(true);
  Tensor x = random(c.x, 2.0), dy = random(c.x), scale = random({v.c}),
         shift = random({v.c}, 0.5);
  // The other rank's examples, with two.
  Tensor theirX = random(c.x, 2.0), theirDy = random(c.x);
  bool two = ranks == 2;
  if (two)
    kiln::cpu::setAverager(&otherRank);
  Tensor allX = two ? concatenate(x, theirX) : x,
         allDy = two ? concatenate(dy, theirDy) : dy;
  const Tensor *scaleOrNull = c.affine ? &scale : nullptr;
  Buffer xArg = pass(Buffer(x), xBlocked),
         dyArg = pass(Buffer(dy), othersBlocked);
  Buffer scaleArg(scale), shiftArg(shift), y(c.x), mean({v.c}), variance({v.c}),
      workspace({(v.n * v.c * v.s + 3) / 4});

  // args: x (scale shift) y mean variance (workspace).
  std::vector<Buffer *> args{&xArg};
  if (c.affine)
    args.insert(args.end(), {&scaleArg, &shiftArg});
  int64_t yIndex = args.size();
  args.insert(args.end(), {&y, &mean, &variance});
  if (c.fuseRelu)
    args.push_back(&workspace);
  int64_t forward = create(
      KILN_BATCH_NORM_FORWARD,
      config({v.n, v.c, v.s, c.affine, 1, c.fuseRelu, bits(kEpsilon), ranks},
             xBlocked | int64_t(othersBlocked) << yIndex));
  if (two)
    otherRankSums.push_back(channelSums(theirX));
  execute(forward, args);

  std::pair<Tensor, Tensor> statistics = batchStatistics(allX);
  Tensor allY = normalize(allX, statistics.first, statistics.second,
                          scaleOrNull, c.affine ? &shift : nullptr, c.fuseRelu);
  Buffer yPlain = unpass(y, othersBlocked);
  expectClose(yPlain, two ? half(allY, c.x, false) : allY, "y", 1e-5);
  expectClose(mean, statistics.first, "mean", 1e-5);
  expectClose(variance, statistics.second, "variance", 1e-5);

  // args: x dy (scale) mean variance (workspace) dx (dscale dshift).
  Buffer dx(c.x), dscale({v.c}), dshift({v.c});
  args = {&xArg, &dyArg};
  if (c.affine)
    args.push_back(&scaleArg);
  args.insert(args.end(), {&mean, &variance});
  if (c.fuseRelu)
    args.push_back(&workspace);
  int64_t dxIndex = args.size();
  args.push_back(&dx);
  if (c.affine)
    args.insert(args.end(), {&dscale, &dshift});
  int64_t backward = create(
      KILN_BATCH_NORM_BACKWARD,
      config({v.n, v.c, v.s, c.affine, c.fuseRelu, bits(kEpsilon), ranks},
             xBlocked | int64_t(othersBlocked) << 1 |
                 int64_t(othersBlocked) << dxIndex));
  // Where the fused ReLU passed: here, where the site's y is positive; on
  // the other rank, where the whole batch's y is.
  Buffer theirY(two ? half(allY, c.x, true) : allY);
  Buffer allPassed(two ? concatenate(yPlain.tensor(), theirY.tensor())
                       : yPlain.tensor());
  if (two) {
    Gradients theirs = gradients(theirX, theirDy, nullptr,
                                 c.fuseRelu ? &theirY : nullptr, statistics);
    std::vector<double> sums = theirs.dshift.reals;
    sums.insert(sums.end(), theirs.dscale.reals.begin(),
                theirs.dscale.reals.end());
    otherRankSums.push_back(sums);
  }
  execute(backward, args);
  EXPECT_TRUE(otherRankSums.empty()) << "the sites added fewer sums";

  Gradients whole = gradients(allX, allDy, scaleOrNull,
                              c.fuseRelu ? &allPassed : nullptr, statistics);
  expectClose(unpass(dx, othersBlocked),
              two ? half(whole.dx, c.x, false) : whole.dx, "dx", 1e-5);
  if (c.affine) {
    // This rank's sums: the run averages them with the other gradients.
    Gradients mine = gradients(x, dy, scaleOrNull,
                               c.fuseRelu ? &yPlain : nullptr, statistics);
    expectClose(dscale, mine.dscale, "dscale", 1e-5);
    expectClose(dshift, mine.dshift, "dshift", 1e-5);
  }
}

TEST_P(BatchNormTest, TrainingForwardAndBackward) { checkTraining(1); }

TEST_P(BatchNormTest, SynchronizedOverTwoRanks) { checkTraining(2); }

TEST_P(BatchNormTest, InferenceForward) {
  const BatchNormCase &c = GetParam();
  View v(c.x);
  bool xBlocked = blocks(false), yBlocked = blocks(true);
  Tensor x = random(c.x, 2.0), scale = random({v.c}), shift = random({v.c}),
         mean = random({v.c}, 0.5), variance = random({v.c});
  for (double &value : variance.reals)
    value = static_cast<float>(0.25 + value * value);
  Buffer xArg = pass(Buffer(x), xBlocked);
  Buffer scaleArg(scale), shiftArg(shift), meanArg(mean), varianceArg(variance),
      y(c.x);

  // args: x (scale shift) mean variance y.
  std::vector<Buffer *> args{&xArg};
  if (c.affine)
    args.insert(args.end(), {&scaleArg, &shiftArg});
  args.insert(args.end(), {&meanArg, &varianceArg});
  int64_t yIndex = args.size();
  args.push_back(&y);
  int64_t site =
      create(KILN_BATCH_NORM_FORWARD,
             config({v.n, v.c, v.s, c.affine, 0, c.fuseRelu, bits(kEpsilon), 1},
                    xBlocked | int64_t(yBlocked) << yIndex));
  execute(site, args);
  expectClose(unpass(y, yBlocked),
              normalize(x, mean, variance, c.affine ? &scale : nullptr,
                        c.affine ? &shift : nullptr, c.fuseRelu),
              "y", 1e-5);
}

// A training forward's statistics are those of double arithmetic, rounded
// once, in every layout (plain [N, C, S], row-major [N, C], blocked). Over
// 400 thousand values near 50, oneDNN's own statistics were off by 2e-7
// (plain) and 2e-6 (blocked: one float accumulator per channel) of the
// mean, enough to flip ReLUs downstream in a ResNet.
TEST_F(CPUTest, BatchNormTrainingStatisticsAreExact) {
  struct Case {
    Shape x;
    bool blocked;
  };
  for (const Case &c :
       {Case{{64, 8, 28, 28}, false}, Case{{64, 8, 28, 28}, true},
        Case{{64, 5, 784}, false}, Case{{4096, 24}, false}}) {
    View v(c.x);
    Tensor x = random(c.x);
    for (double &value : x.reals)
      value = static_cast<float>(50 + value);
    Buffer xArg = c.blocked ? toBlocked(Buffer(x)) : Buffer(x), y(c.x),
           mean({v.c}), variance({v.c});
    std::vector<int64_t> config{v.n, v.c, v.s, 0, 1, 0, bits(kEpsilon), 1};
    if (c.blocked)
      config.push_back(1);
    execute(create(KILN_BATCH_NORM_FORWARD, config),
            {&xArg, &y, &mean, &variance});
    auto [expectedMean, expectedVariance] = batchStatistics(x);
    std::string where = c.blocked ? " (blocked)" : "";
    expectClose(mean, expectedMean, "mean" + where, 1e-7);
    expectClose(variance, expectedVariance, "variance" + where, 1e-7);
  }
}

std::vector<BatchNormCase> batchNormCases() {
  std::mt19937 generator(7);
  auto between = [&](int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(generator);
  };
  // At least 4 values per channel: with 2, each normalizes to -1 and 1
  // whatever x, and dx is rounding noise that no tolerance fits.
  auto shape = [&](Shape sizes) {
    View v(sizes);
    if (v.n * v.s < 4)
      sizes[0] = 4;
    return sizes;
  };
  std::vector<BatchNormCase> cases;
  for (bool affine : {false, true})
    for (bool fuseRelu : {false, true}) {
      // [N, C], [N, C, L], [N, C, H, W], plain.
      cases.push_back({shape({between(2, 9), between(1, 24)}), affine, fuseRelu,
                       Layout::Plain});
      cases.push_back({shape({between(1, 5), between(1, 24), between(1, 12)}),
                       affine, fuseRelu, Layout::Plain});
      cases.push_back(
          {shape({between(1, 4), between(1, 24), between(1, 7), between(1, 7)}),
           affine, fuseRelu, Layout::Plain});
      // Blocked: 4-d, a multiple of 8 channels (blocks of 8, or of 16
      // with AVX-512 where they allow).
      for (Layout layout : {Layout::Blocked, Layout::BlockedInput})
        cases.push_back({shape({between(1, 4), 8 * between(1, 5), between(1, 7),
                                between(1, 7)}),
                         affine, fuseRelu, layout});
    }
  // Large enough for oneDNN's parallel kernels.
  for (Layout layout : {Layout::Plain, Layout::Blocked})
    cases.push_back({{16, 64, 12, 12}, true, true, layout});
  cases.push_back({{128, 96}, true, false, Layout::Plain});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormTest,
                         ::testing::ValuesIn(batchNormCases()), describe);

class BatchNormErrorTest : public ::testing::Test {
protected:
  BatchNormErrorTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BatchNormErrorTest, Configurations) {
  // Forward, training with scale and shift: x scale shift y mean variance;
  // bit 1 (scale) may not be set.
  std::vector<int64_t> forward{2, 16, 4, 1, 1, 0, bits(kEpsilon), 1, 0b10};
  EXPECT_EXIT(kiln_rt_create(0, KILN_BATCH_NORM_FORWARD, 9, forward.data()),
              ::testing::ExitedWithCode(1),
              "call site 0 \\(batch norm forward\\): configuration value "
              "'blocked' is 2, but only x and y may be blocked \\(mask 9\\)");
  // Backward without affine: x dy mean variance dx, so 5 arguments.
  std::vector<int64_t> backward{2, 16, 4, 0, 0, bits(kEpsilon), 1, 0b100000};
  EXPECT_EXIT(kiln_rt_create(0, KILN_BATCH_NORM_BACKWARD, 8, backward.data()),
              ::testing::ExitedWithCode(1),
              "'blocked' is 32, not a mask of 5 arguments");
  std::vector<int64_t> negative{2, 16, 4, 0, 1, 0, bits(-1.0), 1};
  EXPECT_EXIT(kiln_rt_create(0, KILN_BATCH_NORM_FORWARD, 8, negative.data()),
              ::testing::ExitedWithCode(1), "epsilon is negative");
  std::vector<int64_t> noRanks{2, 16, 4, 0, 1, 0, bits(kEpsilon), 0};
  EXPECT_EXIT(kiln_rt_create(0, KILN_BATCH_NORM_FORWARD, 8, noRanks.data()),
              ::testing::ExitedWithCode(1), "'ranks' is 0");
  // 12 channels cannot be blocked by 8 or 16.
  std::vector<int64_t> narrow{2, 12, 4, 0, 1, 0, bits(kEpsilon), 1, 1};
  EXPECT_EXIT(kiln_rt_create(0, KILN_BATCH_NORM_FORWARD, 9, narrow.data()),
              ::testing::ExitedWithCode(1),
              "a blocked argument must be NCHW with a multiple of 8 channels");
}

// A site compiled to synchronize over ranks, run outside a data-parallel
// run, says so and ends the process rather than train on half the batch.
TEST_F(BatchNormErrorTest, SynchronizedOutsideARun) {
  std::vector<float> x(2 * 8 * 4, 1.0f), y(x.size()), mean(8), variance(8);
  void *args[] = {x.data(), y.data(), mean.data(), variance.data()};
  std::vector<int64_t> config{2, 8, 4, 0, 1, 0, bits(kEpsilon), 2};
  EXPECT_EXIT(
      {
        kiln_rt_create(0, KILN_BATCH_NORM_FORWARD, 8, config.data());
        kiln_rt_execute(0, args);
      },
      ::testing::ExitedWithCode(1),
      "call site 0 \\(batch normalization forward\\): adding its sums over "
      "the ranks failed: this process is not one rank of a data-parallel run");
}

} // namespace
