//===- AllReduceTest.cpp - The all-reduce site ----------------------------===//
//
// A bucket's tensors reach the averager packed in order, in one call, and
// come back unpacked into the outputs; without an averager the site copies;
// an averager's failure ends the run with the site and the reason.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "cpu/Runtime.h"

using namespace kiln::cpu::testing;

namespace {

/// What the test averager saw, and its answer: each value negated.
std::vector<float> seen;
int calls = 0;

bool negate(float *data, int64_t count, std::string &) {
  ++calls;
  seen.assign(data, data + count);
  for (int64_t i = 0; i < count; ++i)
    data[i] = -data[i];
  return true;
}

bool failing(float *, int64_t, std::string &error) {
  error = "rank 1 is gone";
  return false;
}

class AllReduceTest : public CPUTest {
protected:
  ~AllReduceTest() override { kiln::cpu::setAverager(nullptr); }
};

TEST_F(AllReduceTest, PacksTheBucketIntoOneMessage) {
  Tensor a = random({2, 3}), b = random({4});
  Buffer aArg(a), bArg(b), aOut({2, 3}), bOut({4});
  int64_t site = create(KILN_ALL_REDUCE, {2, 6, 4});

  execute(site, {&aArg, &bArg, &aOut, &bOut});
  expectClose(aOut, a, "copy of a", 0);
  expectClose(bOut, b, "copy of b", 0);

  kiln::cpu::setAverager(negate);
  calls = 0;
  execute(site, {&aArg, &bArg, &aOut, &bOut});
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(seen.size(), 10u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(seen[i], aArg.data()[i]) << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(seen[6 + i], bArg.data()[i]) << i;
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(aOut.data()[i], -aArg.data()[i]) << i;
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(bOut.data()[i], -bArg.data()[i]) << i;
}

TEST_F(AllReduceTest, AFailedAveragingEndsTheRun) {
  Tensor a = random({3});
  Buffer aArg(a), aOut({3});
  int64_t site = create(KILN_ALL_REDUCE, {1, 3});
  kiln::cpu::setAverager(failing);
  EXPECT_EXIT(execute(site, {&aArg, &aOut}), ::testing::ExitedWithCode(1),
              "all-reduce\\): averaging the gradients over the ranks failed: "
              "rank 1 is gone");
}

} // namespace
