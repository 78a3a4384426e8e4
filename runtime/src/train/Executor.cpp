//===- Executor.cpp - Running the steps on the CPU ------------------------===//

#include "train/Executor.h"
#include "train/Program.h"

#include "kiln/kiln_runtime.h"

#include <cstdlib>

using namespace kiln::train;

Executor::~Executor() = default;

HostExecutor::HostExecutor(const kiln_program &compiled,
                           const Program &program, SlotBuffers &buffers)
    : compiled(compiled), program(program), buffers(buffers) {}

std::vector<void *> HostExecutor::inputs() {
  std::vector<void *> pointers;
  for (size_t input : program.inputs)
    pointers.push_back(buffers.get<void>(input));
  return pointers;
}

void HostExecutor::startTrain(int64_t step) {
  *buffers.get<int64_t>(program.step) = step;
  compiled.train_step(buffers.frame());
}

StepOutputs HostExecutor::finishTrain() {
  return {*buffers.get<float>(program.loss), *buffers.get<float>(program.lr)};
}

void HostExecutor::evaluate() { compiled.eval_step(buffers.frame()); }

void HostExecutor::predict() { compiled.predict_step(buffers.frame()); }

std::unique_ptr<Executor> kiln::train::makeExecutor(const kiln_program &compiled,
                                                    const Program &program,
                                                    SlotBuffers &buffers) {
  if (program.target == Target::Cuda)
    return makeCudaExecutor(compiled, program, buffers);
  return std::make_unique<HostExecutor>(compiled, program, buffers);
}

std::unique_ptr<Executor> kiln::train::startProgram(
    const kiln_program &compiled, const Program &program, SlotBuffers &buffers,
    std::optional<int32_t> threads) {
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
  return executor;
}
