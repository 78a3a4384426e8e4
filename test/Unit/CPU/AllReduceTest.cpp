//===- AllReduceTest.cpp - The all-reduce sites ---------------------------===//
//
// A bucket's tensors reach the averager packed in order, in one message
// that the start site starts and the wait site finishes, and come back
// unpacked into the wait's outputs; without an averager the means are
// copies; an averager's failure ends the run with the site and the reason.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "cpu/Runtime.h"

using namespace kiln::cpu::testing;

namespace {

/// What the test averager saw and did: it negates each value, at finish.
std::vector<float> seen;
float *started = nullptr;
int64_t startedCount = 0;
int starts = 0, finishes = 0, progresses = 0;

bool startNegating(float *data, int64_t count, int64_t &handle, std::string &) {
  ++starts;
  started = data;
  startedCount = count;
  seen.assign(data, data + count);
  handle = 7;
  return true;
}

bool finishNegating(int64_t handle, std::string &) {
  EXPECT_EQ(handle, 7);
  ++finishes;
  for (int64_t i = 0; i < startedCount; ++i)
    started[i] = -started[i];
  return true;
}

void progress() { ++progresses; }

bool failing(int64_t, std::string &error) {
  error = "rank 1 is gone";
  return false;
}

const kiln::cpu::Averager negating{startNegating, finishNegating, progress,
                                   nullptr};
const kiln::cpu::Averager failingAtFinish{startNegating, failing, progress,
                                          nullptr};

class AllReduceTest : public CPUTest {
protected:
  ~AllReduceTest() override { kiln::cpu::setAverager(nullptr); }
};

TEST_F(AllReduceTest, PacksTheBucketIntoOneMessage) {
  Tensor a = random({2, 3}), b = random({4});
  Buffer aArg(a), bArg(b), aOut({2, 3}), bOut({4});
  int64_t start = create(KILN_ALL_REDUCE_START, {2, 6, 4});
  int64_t wait = create(KILN_ALL_REDUCE_WAIT, {2, 6, 4, start});

  execute(start, {&aArg, &bArg, &aOut, &bOut});
  execute(wait, {&aOut, &bOut});
  expectClose(aOut, a, "copy of a", 0);
  expectClose(bOut, b, "copy of b", 0);

  kiln::cpu::setAverager(&negating);
  starts = finishes = progresses = 0;
  execute(start, {&aArg, &bArg, &aOut, &bOut});
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(finishes, 0);
  ASSERT_EQ(seen.size(), 10u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(seen[i], aArg.data()[i]) << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(seen[6 + i], bArg.data()[i]) << i;
  // Another site between the two lets the average advance.
  Buffer logits(random({4, 4})), probabilities({4, 4});
  int64_t softmax = create(KILN_SOFTMAX_FORWARD, {4, 4, 1, 0});
  execute(softmax, {&logits, &probabilities});
  EXPECT_GE(progresses, 1);
  execute(wait, {&aOut, &bOut});
  EXPECT_EQ(finishes, 1);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(aOut.data()[i], -aArg.data()[i]) << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(bOut.data()[i], -bArg.data()[i]) << i;
}

TEST_F(AllReduceTest, AFailedAveragingEndsTheRun) {
  Tensor a = random({3});
  Buffer aArg(a), aOut({3});
  int64_t start = create(KILN_ALL_REDUCE_START, {1, 3});
  int64_t wait = create(KILN_ALL_REDUCE_WAIT, {1, 3, start});
  kiln::cpu::setAverager(&failingAtFinish);
  execute(start, {&aArg, &aOut});
  EXPECT_EXIT(execute(wait, {&aOut}), ::testing::ExitedWithCode(1),
              "all-reduce wait\\): averaging the gradients over the ranks "
              "failed: rank 1 is gone");
}

TEST_F(AllReduceTest, AWaitPairsWithAStart) {
  int64_t start = create(KILN_ALL_REDUCE_START, {1, 3});
  int64_t wait = create(KILN_ALL_REDUCE_WAIT, {1, 4, start});
  Buffer out({4});
  EXPECT_EXIT(execute(wait, {&out}), ::testing::ExitedWithCode(1),
              "which is not the site it pairs with");
}

} // namespace
