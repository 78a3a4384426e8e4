//===- Ranks.h - The trainer's side of a data-parallel run ----------------===//
//
// A trainer compiled with kilnc --ranks N runs as N processes under mpirun.
// Every rank holds the same weights and runs the same steps, each on its
// share of the global batch; the compiled step averages the gradients. The
// trainer reduces what it reports (losses, evaluation counts), and only
// rank 0 talks: progress, metrics, checkpoints, the result.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_RANKS_H
#define KILN_RUNTIME_TRAIN_RANKS_H

#include "distributed/World.h"

#include <cstdint>

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

struct Program;

/// This process's place in the run and the reductions the trainer needs.
/// Each reduction throws Error when the run has failed (another rank died).
class Ranks {
public:
  /// A run of one process until join().
  Ranks() = default;
  /// Leaves the run.
  ~Ranks();
  Ranks(const Ranks &) = delete;
  Ranks &operator=(const Ranks &) = delete;

  /// Joins the run that mpirun started, or stays a world of one, and
  /// checks that its size is the one `program` was compiled for. Throws
  /// Error.
  void join(const Program &program);

  int rank() const { return world.rank; }
  int size() const { return world.size; }
  /// Rank 0, which prints, writes metrics and checkpoints.
  bool leads() const { return world.rank == 0; }

  float mean(float value) const;
  int64_t sum(int64_t value) const;
  double sum(double value) const;
  /// Throws Error unless every rank holds the same parameters, state and
  /// buffers.
  void checkSameWeights(const Program &program,
                        const program::SlotBuffers &buffers) const;

  /// Ends every rank after this one failed, so that none waits for it.
  [[noreturn]] void abortRun(int status) const;

private:
  distributed::World world;
  bool joined = false;
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_RANKS_H
