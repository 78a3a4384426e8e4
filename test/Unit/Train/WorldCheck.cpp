//===- WorldCheck.cpp - The data-parallel world, seen from each rank ------===//
//
// Joins the run, averages rank-dependent floats (also across the pieces of
// a large reduction), sums integers and compares fingerprints, and prints
// what each rank got; exits non-zero on the first wrong result.
// `kiln-test-world fail RANK` makes that rank abort the run instead.
//
//===----------------------------------------------------------------------===//

#include "distributed/World.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace kiln::distributed;

namespace {

[[noreturn]] void fail(const World &world, const std::string &what) {
  std::printf("rank %d: %s\n", world.rank, what.c_str());
  std::fflush(stdout);
  abortRun(1);
}

} // namespace

int main(int argc, char **argv) {
  World world;
  std::string error;
  if (!join(world, error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  if (argc == 3 && std::string(argv[1]) == "fail" &&
      world.rank == std::atoi(argv[2]))
    fail(world, "failing on purpose");

  // Rank r holds r + i: the mean over n ranks is (n - 1) / 2 + i.
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(world.rank) + static_cast<float>(i);
  if (!averageInPlace(values.data(), values.size(), error))
    fail(world, error);
  float offset = static_cast<float>(world.size - 1) / 2;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] != offset + static_cast<float>(i))
      fail(world,
           "mean " + std::to_string(values[i]) + " at " + std::to_string(i));

  int64_t total = world.rank + 1;
  if (!sum(total, error))
    fail(world, error);
  bool same = false, differs = true;
  if (!sameOnEveryRank(42, same, error) ||
      !sameOnEveryRank(static_cast<uint64_t>(world.rank), differs, error))
    fail(world, error);
  std::printf("rank %d of %d: mean ok, sum %lld, same %d, rank-dependent "
              "same %d\n",
              world.rank, world.size, static_cast<long long>(total), same,
              differs);
  leave();
  return 0;
}
