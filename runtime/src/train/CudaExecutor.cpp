//===- CudaExecutor.cpp - Running the steps on a GPU ----------------------===//
//
// Every slot has a device copy. A training step is: the staged batch and
// step number copied to the device, the step's kernels, the loss and the
// learning rate copied back, all queued on one stream, then an event. The
// host does not wait for it: it stages the next batch in the other set of
// pinned buffers and starts the next step, and only then waits for the
// event of the previous one to report its loss. Each step's kernels are
// captured once as a CUDA graph and replayed (KILN_CUDA_GRAPHS=0 launches
// them one by one instead, to tell a capture problem from a kernel one).
//
//===----------------------------------------------------------------------===//

#include "train/Error.h"
#include "train/Executor.h"
#include "train/Program.h"

#include "cuda/Device.h"
#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>

using namespace kiln;
using namespace kiln::train;
using cuda::CUdeviceptr;

namespace {

/// What one step in flight owns: its batch, its step number and its outputs,
/// in pinned memory that the driver copies asynchronously.
struct Staging {
  std::vector<void *> inputs;
  int64_t *step = nullptr;
  float *loss = nullptr, *lr = nullptr;
  cuda::CUevent done = nullptr;
};

class CudaExecutor : public Executor {
public:
  CudaExecutor(const kiln_program &compiled, const Program &program,
               SlotBuffers &buffers, std::unique_ptr<cuda::Device> device);
  ~CudaExecutor() override;

  std::vector<void *> inputs() override { return staging[next].inputs; }
  int depth() const override { return 2; }
  void upload() override;
  void download() override;
  void startTrain(int64_t step) override;
  StepOutputs finishTrain() override;
  void evaluate() override;
  void predict() override;

private:
  /// Runs `step` on the device frame: its graph, captured on first use.
  void run(void (*step)(void **), cuda::CUgraphExec &graph);
  void *pinned(size_t bytes);
  void toDevice(size_t slot, const void *source, bool async);
  void toHost(void *destination, size_t slot, bool async);

  const kiln_program &compiled;
  const Program &program;
  SlotBuffers &buffers;
  std::unique_ptr<cuda::Device> device;
  const cuda::Driver &api;
  std::vector<CUdeviceptr> slots;
  std::vector<void *> frame;
  std::vector<void *> pinnedBuffers;
  std::array<Staging, 2> staging;
  int next = 0;
  std::deque<int> running;
  cuda::CUgraphExec trainGraph = nullptr, evalGraph = nullptr,
                    predictGraph = nullptr;
  bool useGraphs = true;
};

CudaExecutor::CudaExecutor(const kiln_program &compiled,
                           const Program &program, SlotBuffers &buffers,
                           std::unique_ptr<cuda::Device> opened)
    : compiled(compiled), program(program), buffers(buffers),
      device(std::move(opened)), api(device->driver()) {
  const char *graphs = std::getenv("KILN_CUDA_GRAPHS");
  useGraphs = !(graphs && std::string(graphs) == "0");
  for (const Slot &slot : program.slots) {
    CUdeviceptr pointer = 0;
    size_t bytes = std::max<size_t>(slot.numBytes(), 256);
    cuda::CUresult result = api.cuMemAlloc(&pointer, bytes);
    if (result != cuda::CUDA_SUCCESS)
      throw Error("the GPU, " + device->description() + ", has no room for "
                      "slot '" + slot.name + "' (" + std::to_string(bytes) +
                      " bytes): " + cuda::describe(api, result),
                  "compile the model with a smaller --batch-size");
    KILN_CU(api, cuMemsetD8Async(pointer, 0, bytes, device->stream()));
    slots.push_back(pointer);
    frame.push_back(reinterpret_cast<void *>(pointer));
  }
  for (Staging &set : staging) {
    for (size_t input : program.inputs)
      set.inputs.push_back(pinned(program.slots[input].numBytes()));
    set.step = static_cast<int64_t *>(pinned(sizeof(int64_t)));
    set.loss = static_cast<float *>(pinned(sizeof(float)));
    set.lr = static_cast<float *>(pinned(sizeof(float)));
    KILN_CU(api, cuEventCreate(&set.done, cuda::CU_EVENT_DISABLE_TIMING));
  }
  KILN_CU(api, cuStreamSynchronize(device->stream()));
}

CudaExecutor::~CudaExecutor() {
  // Nothing of the run depends on the teardown; its errors are ignored.
  api.cuStreamSynchronize(device->stream());
  for (cuda::CUgraphExec graph : {trainGraph, evalGraph, predictGraph})
    if (graph)
      api.cuGraphExecDestroy(graph);
  for (Staging &set : staging)
    if (set.done)
      api.cuEventDestroy(set.done);
  for (void *buffer : pinnedBuffers)
    api.cuMemFreeHost(buffer);
  for (CUdeviceptr slot : slots)
    api.cuMemFree(slot);
}

void *CudaExecutor::pinned(size_t bytes) {
  void *buffer = nullptr;
  KILN_CU(api, cuMemHostAlloc(&buffer, std::max<size_t>(bytes, 64),
                              cuda::CU_MEMHOSTALLOC_PORTABLE));
  std::memset(buffer, 0, std::max<size_t>(bytes, 64));
  pinnedBuffers.push_back(buffer);
  return buffer;
}

void CudaExecutor::toDevice(size_t slot, const void *source, bool async) {
  size_t bytes = program.slots[slot].numBytes();
  if (async)
    KILN_CU(api, cuMemcpyHtoDAsync(slots[slot], source, bytes, device->stream()));
  else
    KILN_CU(api, cuMemcpyHtoD(slots[slot], source, bytes));
}

void CudaExecutor::toHost(void *destination, size_t slot, bool async) {
  size_t bytes = program.slots[slot].numBytes();
  if (async)
    KILN_CU(api, cuMemcpyDtoHAsync(destination, slots[slot], bytes,
                                   device->stream()));
  else
    KILN_CU(api, cuMemcpyDtoH(destination, slots[slot], bytes));
}

void CudaExecutor::upload() {
  KILN_CU(api, cuStreamSynchronize(device->stream()));
  for (const std::vector<size_t> *group :
       {&program.params, &program.state, &program.buffers})
    for (size_t slot : *group)
      toDevice(slot, buffers.get<void>(slot), false);
  toDevice(program.step, buffers.get<void>(program.step), false);
  toDevice(program.totalSteps, buffers.get<void>(program.totalSteps), false);
}

void CudaExecutor::download() {
  KILN_CU(api, cuStreamSynchronize(device->stream()));
  for (const std::vector<size_t> *group :
       {&program.params, &program.state, &program.buffers})
    for (size_t slot : *group)
      toHost(buffers.get<void>(slot), slot, false);
}

void CudaExecutor::run(void (*step)(void **), cuda::CUgraphExec &graph) {
  cuda::CUstream stream = device->stream();
  if (!useGraphs) {
    step(frame.data());
    return;
  }
  if (!graph) {
    cuda::CUgraph captured = nullptr;
    KILN_CU(api, cuStreamBeginCapture(stream,
                                      cuda::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    step(frame.data());
    KILN_CU(api, cuStreamEndCapture(stream, &captured));
    KILN_CU(api, cuGraphInstantiate(&graph, captured, 0));
    KILN_CU(api, cuGraphDestroy(captured));
  }
  KILN_CU(api, cuGraphLaunch(graph, stream));
}

void CudaExecutor::startTrain(int64_t step) {
  Staging &set = staging[next];
  *set.step = step;
  for (size_t i = 0; i < program.inputs.size(); ++i)
    toDevice(program.inputs[i], set.inputs[i], true);
  toDevice(program.step, set.step, true);
  run(compiled.train_step, trainGraph);
  toHost(set.loss, program.loss, true);
  toHost(set.lr, program.lr, true);
  KILN_CU(api, cuEventRecord(set.done, device->stream()));
  running.push_back(next);
  next ^= 1;
}

StepOutputs CudaExecutor::finishTrain() {
  Staging &set = staging[running.front()];
  running.pop_front();
  KILN_CU(api, cuEventSynchronize(set.done));
  return {*set.loss, *set.lr};
}

void CudaExecutor::evaluate() {
  Staging &set = staging[next];
  for (size_t i = 0; i < program.inputs.size(); ++i)
    toDevice(program.inputs[i], set.inputs[i], true);
  run(compiled.eval_step, evalGraph);
  for (std::optional<size_t> output :
       {std::optional<size_t>(program.loss), program.correct,
        program.predictions})
    if (output)
      toHost(buffers.get<void>(*output), *output, true);
  KILN_CU(api, cuStreamSynchronize(device->stream()));
}

void CudaExecutor::predict() {
  Staging &set = staging[next];
  for (size_t i = 0; i < program.inputs.size(); ++i)
    if (std::count(program.predictInputs.begin(), program.predictInputs.end(),
                   program.inputs[i]))
      toDevice(program.inputs[i], set.inputs[i], true);
  run(compiled.predict_step, predictGraph);
  for (size_t output : program.predictOutputs)
    toHost(buffers.get<void>(output), output, true);
  KILN_CU(api, cuStreamSynchronize(device->stream()));
}

} // namespace

std::unique_ptr<Executor>
kiln::train::makeCudaExecutor(const kiln_program &compiled,
                              const Program &program, SlotBuffers &buffers) {
  std::unique_ptr<cuda::Device> device;
  try {
    device = cuda::Device::open(program.gpuArch, program.gpuFormat);
  } catch (const cuda::Unavailable &unavailable) {
    throw Error(unavailable.what(), unavailable.hint(), kExitNoDevice);
  }
  return std::make_unique<CudaExecutor>(compiled, program, buffers,
                                        std::move(device));
}
