//===- Executor.cpp - Running the steps on the CPU ------------------------===//

#include "train/Executor.h"
#include "train/Program.h"

#include "cpu/Runtime.h"
#include "kiln/kiln_runtime.h"

#include <chrono>
#include <cstdlib>

using namespace kiln::train;

Executor::~Executor() = default;

HostExecutor::HostExecutor(const kiln_program &compiled,
                           const Program &program, SlotBuffers &buffers)
    : compiled(compiled), program(program), buffers(buffers) {}

HostExecutor::~HostExecutor() = default;

std::vector<void *> HostExecutor::inputs() {
  std::vector<void *> pointers;
  for (size_t input : program.inputs)
    pointers.push_back(buffers.get<void>(input));
  return pointers;
}

void HostExecutor::adaptThreads(int full) {
  threadGovernor = std::make_unique<ThreadGovernor>(full);
}

void HostExecutor::withThreads(int threads, const std::function<void()> &run) {
  if (!threadGovernor || threads == cpu::getNumThreads())
    return run();
  cpu::ScopedThreads scopedThreads(threads);
  if (!fewerThreadsSites) {
    fewerThreadsSites =
        std::make_unique<cpu::SiteTable>(cpu::SiteTable::OnFailure::Exit);
    cpu::ScopedSiteTable scopedSites(*fewerThreadsSites);
    compiled.init();
  }
  cpu::ScopedSiteTable scopedSites(*fewerThreadsSites);
  run();
}

void HostExecutor::startTrain(int64_t step) {
  *buffers.get<int64_t>(program.step) = step;
  if (!threadGovernor)
    return compiled.train_step(buffers.frame());
  using Clock = std::chrono::steady_clock;
  Clock::time_point begin = Clock::now();
  withThreads(threadGovernor->next(),
              [&] { compiled.train_step(buffers.frame()); });
  threadGovernor->record(
      std::chrono::duration<double>(Clock::now() - begin).count());
}

StepOutputs HostExecutor::finishTrain() {
  return {*buffers.get<float>(program.loss), *buffers.get<float>(program.lr)};
}

void HostExecutor::evaluate() {
  withThreads(threadGovernor ? threadGovernor->settled() : 0,
              [&] { compiled.eval_step(buffers.frame()); });
}

void HostExecutor::predict() {
  withThreads(threadGovernor ? threadGovernor->settled() : 0,
              [&] { compiled.predict_step(buffers.frame()); });
}

std::unique_ptr<Executor> kiln::train::makeExecutor(const kiln_program &compiled,
                                                    const Program &program,
                                                    SlotBuffers &buffers) {
  if (program.target == Target::Cuda)
    return makeCudaExecutor(compiled, program, buffers);
  return std::make_unique<HostExecutor>(compiled, program, buffers);
}

std::unique_ptr<Executor>
kiln::train::startProgram(const kiln_program &compiled, const Program &program,
                          SlotBuffers &buffers, std::optional<int32_t> threads,
                          bool adapt) {
  // oneDNN sizes a primitive's work for the threads it is created with, so
  // the count is set before init creates them.
  // Without --threads or OMP_NUM_THREADS: one per core this process may use,
  // which libgomp's default (the affinity's cores) exceeds in a container
  // with a CPU quota.
  if (threads)
    kiln_rt_set_threads(*threads);
  else if (!std::getenv("OMP_NUM_THREADS"))
    kiln_rt_set_threads(0);
  // A GPU program's init loads its kernels onto the GPU that this opens.
  std::unique_ptr<Executor> executor = makeExecutor(compiled, program, buffers);
  compiled.init();
  // The ranks of a data-parallel run keep in step, each on its own cores.
  auto *host = dynamic_cast<HostExecutor *>(executor.get());
  if (adapt && host && program.recipe.ranks == 1 && cpu::getNumThreads() > 1)
    host->adaptThreads(cpu::getNumThreads());
  return executor;
}
