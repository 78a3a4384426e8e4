//===- Device.h - The GPU that a program runs on --------------------------===//
//
// One GPU per trainer: its context, the stream that every kernel and copy
// of the steps goes to (so the order of the program is the order of the
// stream, and the host never waits inside a step), and the kernels of the
// program, which the generated kiln_init loads and the generated steps
// launch by number through the C functions of kiln_runtime.h.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_DEVICE_H
#define KILN_RUNTIME_CUDA_DEVICE_H

#include "cuda/Driver.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::cuda {

/// The program cannot run here: no driver, no GPU, or a GPU of another
/// architecture. `hint` says what to do.
class Unavailable : public std::runtime_error {
public:
  Unavailable(const std::string &message, std::string hint)
      : std::runtime_error(message), hintText(std::move(hint)) {}
  const std::string &hint() const { return hintText; }

private:
  std::string hintText;
};

class Device {
public:
  /// Opens GPU 0 for kernels compiled for `arch` (sm_XX) as `format` ("ptx"
  /// or "cubin"), and makes it the current device. Throws Unavailable.
  static std::unique_ptr<Device> open(const std::string &arch,
                                      const std::string &format);
  ~Device();
  Device(const Device &) = delete;
  Device &operator=(const Device &) = delete;

  /// The device that kiln_cuda_load_module and kiln_cuda_launch use.
  static Device *current();

  const Driver &driver() const { return api; }
  CUstream stream() const { return queue; }
  /// "NVIDIA H200 (sm_90)".
  const std::string &description() const { return name; }

  /// Loads the program's kernels: `image` (PTX text, NUL-terminated, or a
  /// cubin), whose kernels `names` lists NUL-separated.
  void loadModule(const void *image, const char *format, int32_t count,
                  const char *names);
  /// Launches kernel `kernel` on the stream.
  void launch(int32_t kernel, const int64_t grid[3], const int64_t block[3],
              int32_t sharedBytes, void **params);

private:
  Device(const Driver &api, CUdevice device);

  const Driver &api;
  CUdevice device;
  CUcontext context = nullptr;
  CUstream queue = nullptr;
  CUmodule module = nullptr;
  std::vector<CUfunction> kernels;
  std::string name;
};

} // namespace kiln::cuda

#endif // KILN_RUNTIME_CUDA_DEVICE_H
