//===- Executor.h - Running the compiled steps on the program's device ----===//
//
// The trainer keeps every slot on the host (SlotBuffers): parameters to
// initialize and checkpoint, outputs to read. An executor runs the steps on
// the program's device: on the CPU directly on those buffers; on a GPU on
// device copies, with the next batch staged in host memory while the
// previous step runs, so that a training step may still be running when
// startTrain returns.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_EXECUTOR_H
#define KILN_RUNTIME_TRAIN_EXECUTOR_H

#include "train/ThreadGovernor.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

struct kiln_program;

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::cpu {
class SiteTable;
} // namespace kiln::cpu

namespace kiln::train {

struct Program;
using program::SlotBuffers;

/// What a training step reports.
struct StepOutputs {
  float loss = 0, lr = 0;
};

class Executor {
public:
  virtual ~Executor();

  /// Where the next step's batch goes: one buffer per input slot, in order.
  virtual std::vector<void *> inputs() = 0;
  /// Steps that may run at once: startTrain returns before a step finishes
  /// when this is more than 1.
  virtual int depth() const = 0;

  /// Makes the device's parameters, state and step counters those of the
  /// host's slots.
  virtual void upload() {}
  /// Makes the host's parameters and state those of the device, waiting
  /// for the steps that are running.
  virtual void download() {}

  /// Starts training step number `step` on the batch in inputs().
  virtual void startTrain(int64_t step) = 0;
  /// Waits for the oldest started training step and returns its outputs.
  virtual StepOutputs finishTrain() = 0;
  /// Runs the evaluation step on the batch in inputs(); its outputs are in
  /// the host's slots when it returns.
  virtual void evaluate() = 0;
  /// Runs the prediction step on the inputs in inputs() that the forward
  /// reads; the model's outputs are in the host's slots when it returns.
  virtual void predict() = 0;
};

/// Runs the steps on the CPU, on the host's slots.
class HostExecutor : public Executor {
public:
  HostExecutor(const kiln_program &compiled, const Program &program,
               SlotBuffers &buffers);
  ~HostExecutor() override;

  std::vector<void *> inputs() override;
  int depth() const override { return 1; }
  void startTrain(int64_t step) override;
  StepOutputs finishTrain() override;
  void evaluate() override;
  void predict() override;

  /// Lets the training steps move between `full` threads (2 or more, the
  /// count init ran with) and one fewer (ThreadGovernor).
  void adaptThreads(int full);
  /// The governor, once adaptThreads has made one.
  const ThreadGovernor *governor() const { return threadGovernor.get(); }

private:
  /// Runs `run` on `threads` threads, with the sites created for them.
  void withThreads(int threads, const std::function<void()> &run);

  const kiln_program &compiled;
  const Program &program;
  SlotBuffers &buffers;
  std::unique_ptr<ThreadGovernor> threadGovernor;
  /// The sites of one thread fewer, created at the first step that uses
  /// them.
  std::unique_ptr<cpu::SiteTable> fewerThreadsSites;
};

/// The executor of the program's device: a GPU program opens GPU 0 (and
/// throws Error, with exit status kExitNoDevice, when it cannot).
std::unique_ptr<Executor> makeExecutor(const kiln_program &compiled,
                                       const Program &program,
                                       SlotBuffers &buffers);

/// Sets the runtime's threads (`threads`, or one per core), makes the
/// executor and runs the program's init. With `adapt`, a CPU program's
/// training steps may run on one thread fewer while that is faster
/// (`--threads auto`).
std::unique_ptr<Executor> startProgram(const kiln_program &compiled,
                                       const Program &program,
                                       SlotBuffers &buffers,
                                       std::optional<int32_t> threads,
                                       bool adapt = false);

/// The GPU executor (CudaExecutor.cpp).
std::unique_ptr<Executor> makeCudaExecutor(const kiln_program &compiled,
                                           const Program &program,
                                           SlotBuffers &buffers);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_EXECUTOR_H
