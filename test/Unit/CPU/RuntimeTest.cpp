//===- RuntimeTest.cpp - Threads, parallel loops and errors ---------------===//
//
// kiln_rt_parallel_for covers its range exactly once, on several threads
// when it is long; the thread count setting; the fatal errors that a
// trainer disagreeing with the runtime gets instead of a crash; and the site
// tables of inference libraries, which keep their failures instead.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "cpu/Runtime.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

using namespace kiln::cpu;
using namespace kiln::cpu::testing;

namespace {

struct Coverage {
  std::vector<std::atomic<int>> visits;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  int calls = 0;

  explicit Coverage(int64_t count) : visits(count) {}

  static void body(void *context, int64_t begin, int64_t end) {
    auto &coverage = *static_cast<Coverage *>(context);
    for (int64_t i = begin; i < end; ++i)
      ++coverage.visits[i];
    std::lock_guard<std::mutex> lock(coverage.mutex);
    coverage.threads.insert(std::this_thread::get_id());
    ++coverage.calls;
  }

  bool eachOnce() const {
    for (const std::atomic<int> &visit : visits)
      if (visit != 1)
        return false;
    return true;
  }
};

TEST(ParallelForTest, CoversTheRangeOnceOnEveryThread) {
  kiln_rt_set_threads(2);
  ASSERT_EQ(getNumThreads(), 2);
  for (int64_t count : {1, 7, 63, 64, 1001, 100000}) {
    Coverage coverage(count);
    kiln_rt_parallel_for(Coverage::body, &coverage, count);
    EXPECT_TRUE(coverage.eachOnce()) << count;
    EXPECT_EQ(coverage.calls, count < 64 ? 1 : 2) << count;
    EXPECT_EQ(coverage.threads.size(), count < 64 ? 1u : 2u) << count;
  }
  kiln_rt_set_threads(0);
}

// A cgroup's CPU quota in cores, rounded up: "QUOTA PERIOD" in
// microseconds, or "max PERIOD" for none.
TEST(ThreadsTest, CoresOfACgroupQuota) {
  EXPECT_EQ(coresOfQuota("150000 100000"), 2);
  EXPECT_EQ(coresOfQuota("100000 100000\n"), 1);
  EXPECT_EQ(coresOfQuota("400000 100000"), 4);
  EXPECT_EQ(coresOfQuota("20000 100000"), 1);
  EXPECT_EQ(coresOfQuota("max 100000"), std::nullopt);
  EXPECT_EQ(coresOfQuota(""), std::nullopt);
  EXPECT_EQ(coresOfQuota("12x 100000"), std::nullopt);
  EXPECT_EQ(coresOfQuota("100000 0"), std::nullopt);
}

// The default thread count is the cores this process may use: never more
// than the affinity allows, at least one.
TEST(ThreadsTest, TheDefaultIsTheUsableCores) {
  int cores = usableCores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, static_cast<int>(std::thread::hardware_concurrency()));
  ScopedThreads threads(0);
  EXPECT_EQ(getNumThreads(), cores);
}

TEST(ParallelForTest, OneThreadRunsTheCallerOnly) {
  kiln_rt_set_threads(1);
  Coverage coverage(5000);
  kiln_rt_parallel_for(Coverage::body, &coverage, 5000);
  EXPECT_TRUE(coverage.eachOnce());
  EXPECT_EQ(coverage.calls, 1);
  EXPECT_EQ(*coverage.threads.begin(), std::this_thread::get_id());
  kiln_rt_set_threads(0);
}

TEST(ParallelForTest, EmptyRangesRunNothing) {
  Coverage coverage(0);
  kiln_rt_parallel_for(Coverage::body, &coverage, 0);
  kiln_rt_parallel_for(Coverage::body, &coverage, -3);
  EXPECT_EQ(coverage.calls, 0);
}

// A loop inside a loop runs on the thread that reaches it.
TEST(ParallelForTest, NestedLoopsRunSerially) {
  kiln_rt_set_threads(2);
  struct Outer {
    std::deque<Coverage> inner;
    static void body(void *context, int64_t begin, int64_t end) {
      auto &outer = *static_cast<Outer *>(context);
      for (int64_t i = begin; i < end; ++i)
        kiln_rt_parallel_for(Coverage::body, &outer.inner[i], 1000);
    }
  };
  Outer outer;
  for (int i = 0; i < 100; ++i)
    outer.inner.emplace_back(1000);
  kiln_rt_parallel_for(Outer::body, &outer, 100);
  for (const Coverage &coverage : outer.inner) {
    EXPECT_TRUE(coverage.eachOnce());
    EXPECT_EQ(coverage.calls, 1);
  }
  kiln_rt_set_threads(0);
}

class ErrorTest : public ::testing::Test {
protected:
  ErrorTest() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ErrorTest, MissingConfigurationValues) {
  std::vector<int64_t> config{4, 5, 6};
  EXPECT_EXIT(kiln_rt_create(0, KILN_MATMUL, 3, config.data()),
              ::testing::ExitedWithCode(1),
              "kiln: error: call site 0 \\(matmul\\): missing configuration "
              "value 'K' \\(got 3 values\\)\nkiln: note: the trainer and this "
              "runtime disagree");
}

TEST_F(ErrorTest, ExtraConfigurationValues) {
  std::vector<int64_t> config{4, 10, 1, 0, 7};
  EXPECT_EXIT(kiln_rt_create(0, KILN_SOFTMAX_FORWARD, 5, config.data()),
              ::testing::ExitedWithCode(1),
              "call site 0 \\(softmax forward\\): expected 4 configuration "
              "values, got 5");
}

TEST_F(ErrorTest, InvalidConfigurationValues) {
  std::vector<int64_t> config{0, 10, 1, 0};
  EXPECT_EXIT(kiln_rt_create(3, KILN_SOFTMAX_FORWARD, 4, config.data()),
              ::testing::ExitedWithCode(1),
              "call site 3 \\(softmax forward\\): configuration value "
              "'outer' is 0, below its minimum 1");
  std::vector<int64_t> pool{1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 5};
  EXPECT_EXIT(kiln_rt_create(3, KILN_POOL2D_FORWARD, 11, pool.data()),
              ::testing::ExitedWithCode(1),
              "'algorithm' is 5, not one of 0 to 2");
}

TEST_F(ErrorTest, UnknownKind) {
  EXPECT_EXIT(kiln_rt_create(2, 99, 0, nullptr), ::testing::ExitedWithCode(1),
              "kiln: error: call site 2 has unknown kind 99");
}

TEST_F(ErrorTest, SiteCreatedTwice) {
  std::vector<int64_t> config{4, 10, 1, 0};
  EXPECT_EXIT(
      {
        kiln_rt_create(0, KILN_SOFTMAX_FORWARD, 4, config.data());
        kiln_rt_create(0, KILN_SOFTMAX_FORWARD, 4, config.data());
      },
      ::testing::ExitedWithCode(1),
      "call site 0 \\(softmax forward\\) is created twice");
}

TEST_F(ErrorTest, SiteNotCreated) {
  EXPECT_EXIT(kiln_rt_execute(12, nullptr), ::testing::ExitedWithCode(1),
              "kiln: error: call site 12 was not created\nkiln: note: the "
              "trainer's init must create every call site before any step");
}

TEST_F(ErrorTest, PairedWithTheWrongSite) {
  std::vector<int64_t> softmax{4, 4, 1, 0};
  std::vector<int64_t> pool{1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0};
  Buffer x(Shape{1, 1, 4, 4}), dy(Shape{1, 1, 2, 2}), dx(Shape{1, 1, 4, 4});
  void *args[] = {dy.data(), x.data(), dx.data()};
  EXPECT_EXIT(
      {
        kiln_rt_create(0, KILN_SOFTMAX_FORWARD, 4, softmax.data());
        kiln_rt_create(1, KILN_POOL2D_BACKWARD, 12, pool.data());
        kiln_rt_execute(1, args);
      },
      ::testing::ExitedWithCode(1),
      "call site 1 reuses call site 0 \\(softmax forward\\), which is not "
      "the site it pairs with");
}

// An inference library's models each have a table of sites that keeps its
// first failure instead of ending the process; the process's own table is
// untouched by them.
TEST(SiteTableTest, KeepsTheFirstFailureAndSkipsLaterCalls) {
  SiteTable table(SiteTable::OnFailure::Keep);
  {
    ScopedSiteTable scoped(table);
    EXPECT_EQ(&currentSiteTable(), &table);
    std::vector<int64_t> config{4, 5, 6};
    kiln_rt_create(0, KILN_MATMUL, 3, config.data());
    kiln_rt_create(1, 99, 0, nullptr);
    kiln_rt_execute(7, nullptr);
  }
  EXPECT_NE(&currentSiteTable(), &table);
  ASSERT_TRUE(table.failure());
  EXPECT_EQ(table.failure()->message,
            "call site 0 (matmul): missing configuration value 'K' (got 3 "
            "values)");
  EXPECT_NE(table.failure()->hint.find("disagree"), std::string::npos);
}

TEST(SiteTableTest, TablesAreSeparate) {
  std::vector<int64_t> softmax{2, 3, 1, 0};
  std::vector<float> x{1, 2, 3, 4, 5, 6}, y(6), z(6);
  SiteTable first(SiteTable::OnFailure::Keep), second(SiteTable::OnFailure::Keep);
  // The same site number in each table: each its own site.
  for (SiteTable *table : {&first, &second}) {
    ScopedSiteTable scoped(*table);
    kiln_rt_create(0, KILN_SOFTMAX_FORWARD, 4, softmax.data());
  }
  void *firstArgs[] = {x.data(), y.data()};
  void *secondArgs[] = {x.data(), z.data()};
  std::thread other([&] {
    ScopedSiteTable scoped(second);
    kiln_rt_execute(0, secondArgs);
  });
  {
    ScopedSiteTable scoped(first);
    kiln_rt_execute(0, firstArgs);
  }
  other.join();
  EXPECT_FALSE(first.failure());
  EXPECT_FALSE(second.failure());
  EXPECT_EQ(y, z);
  EXPECT_NEAR(y[0] + y[1] + y[2], 1.0f, 1e-6f);
}

TEST(ScopedThreadsTest, RestoresTheThreadCount) {
  kiln_rt_set_threads(2);
  {
    ScopedThreads one(1);
    EXPECT_EQ(getNumThreads(), 1);
  }
  EXPECT_EQ(getNumThreads(), 2);
  kiln_rt_set_threads(0);
}

} // namespace
