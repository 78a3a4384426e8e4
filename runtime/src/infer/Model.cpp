//===- Model.cpp - The runtime of an inference library --------------------===//
//
// kiln_model_load, kiln_model_run, kiln_model_last_error and kiln_model_free
// (kiln_runtime.h), which the API functions of a library that kilnc
// generates call. A loaded model owns its parameters, its arena and its own
// table of call sites, so that separate models run on separate threads; its
// inputs and outputs are the caller's buffers. No exception leaves here:
// errors become the calling thread's last error.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "program/Description.h"
#include "program/Error.h"
#include "program/Weights.h"

#include "kiln/kiln_runtime.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

using namespace kiln;
using namespace kiln::program;

namespace {

thread_local std::string lastError;

/// Buffers this aligned are passed to the step as they are; others are
/// copied (kiln_runtime.h asks for 16 bytes).
constexpr uintptr_t kAlignment = 16;

class Model {
public:
  Model(const kiln_program &compiled, const std::string &path, int threads);

  void run(void *const *io);

private:
  const kiln_program &compiled;
  Description description;
  /// The prediction step's inputs, then its outputs.
  std::vector<size_t> io;
  size_t inputCount = 0;
  SlotBuffers buffers;
  /// Aligned copies of the caller's buffers that are not aligned.
  std::vector<std::unique_ptr<uint8_t[]>> staging;
  cpu::SiteTable sites{cpu::SiteTable::OnFailure::Keep};
  int threads;
  /// One batch at a time: a second thread waits rather than sharing the
  /// arena and the sites' buffers.
  std::mutex running;

  void checkSites() const;
};

Description describe(const kiln_program &compiled) {
  if (compiled.abi_version != KILN_ABI_VERSION)
    throw Error("the library was compiled for runtime ABI " +
                std::to_string(compiled.abi_version) +
                ", but its runtime has ABI " +
                std::to_string(KILN_ABI_VERSION));
  Description description = Description::parse(compiled.description);
  if (!description.predict || !compiled.predict_step)
    throw Error("the library has no prediction step",
                "compile it with kilnc --emit=lib");
  return description;
}

/// The inputs, then the outputs of the prediction step.
std::vector<size_t> ioSlots(const Description &description) {
  std::vector<size_t> slots =
      description.slotsOf(*description.predict, Role::Input);
  for (size_t output : description.slotsOf(*description.predict, Role::Output))
    slots.push_back(output);
  return slots;
}

Model::Model(const kiln_program &compiled, const std::string &path,
             int threads)
    : compiled(compiled), description(describe(compiled)),
      io(ioSlots(description)),
      inputCount(description.slotsOf(*description.predict, Role::Input).size()),
      buffers(description, io), staging(io.size()), threads(threads) {
  loadParameters(path, description, buffers);
  {
    // oneDNN sizes a primitive's work for the threads it is created with.
    cpu::ScopedThreads scopedThreads(threads);
    cpu::ScopedSiteTable scopedSites(sites);
    compiled.init();
  }
  checkSites();
}

void Model::checkSites() const {
  if (const std::optional<cpu::Failure> &failure = sites.failure())
    throw Error(failure->message, failure->hint);
}

void Model::run(void *const *given) {
  std::lock_guard<std::mutex> lock(running);
  checkSites();
  for (size_t i = 0; i < io.size(); ++i) {
    const Slot &slot = description.slots[io[i]];
    void *data = given[i];
    if (!data)
      throw Error(std::string(i < inputCount ? "input" : "output") + " '" +
                  slot.name + "' is NULL");
    if (reinterpret_cast<uintptr_t>(data) % kAlignment != 0) {
      if (!staging[i])
        staging[i].reset(new (std::align_val_t(64)) uint8_t[slot.numBytes()]);
      if (i < inputCount)
        std::memcpy(staging[i].get(), data, slot.numBytes());
      data = staging[i].get();
    }
    buffers.set(io[i], data);
  }
  {
    cpu::ScopedThreads scopedThreads(threads);
    cpu::ScopedSiteTable scopedSites(sites);
    compiled.predict_step(buffers.frame());
  }
  checkSites();
  for (size_t i = inputCount; i < io.size(); ++i)
    if (buffers.get<void>(io[i]) != given[i])
      std::memcpy(given[i], staging[i].get(),
                  description.slots[io[i]].numBytes());
}

/// Runs `action`, turning what it throws into the thread's last error.
template <typename Action> bool recorded(Action action) {
  try {
    action();
    return true;
  } catch (const Error &error) {
    lastError = error.what();
    if (!error.hint().empty())
      lastError += "; " + error.hint();
  } catch (const std::bad_alloc &) {
    lastError = "out of memory";
  } catch (const std::exception &error) {
    lastError = error.what();
  }
  return false;
}

} // namespace

extern "C" void *kiln_model_load(const kiln_program *program, const char *path,
                                 int32_t threads) {
  Model *model = nullptr;
  recorded([&] {
    if (!path)
      throw Error("no weights file: the path is NULL");
    if (threads < 0)
      throw Error("threads is " + std::to_string(threads) +
                  "; give a count, or 0 for one per core");
    model = new Model(*program, path, threads);
  });
  return model;
}

extern "C" int32_t kiln_model_run(void *model, void *const *io) {
  bool ok = recorded([&] {
    if (!model)
      throw Error("the model is NULL; load it first");
    static_cast<Model *>(model)->run(io);
  });
  return ok ? 0 : -1;
}

extern "C" const char *kiln_model_last_error(void) { return lastError.c_str(); }

extern "C" void kiln_model_free(void *model) {
  delete static_cast<Model *>(model);
}
