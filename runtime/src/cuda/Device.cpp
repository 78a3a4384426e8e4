//===- Device.cpp - The GPU that a program runs on ------------------------===//

#include "cuda/Device.h"

#include "kiln/kiln_runtime.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace kiln::cuda;

namespace {

Device *currentDevice = nullptr;

constexpr const char *kNoGpuHint =
    "run it on a machine with an NVIDIA GPU and its driver, or compile the "
    "model without --target=cuda to train on the CPU";

/// The compute capability of "sm_90" or "sm_90a": (9, 0), and whether it
/// is an architecture-specific target ("a"), which runs only on its own.
struct Architecture {
  int major = 0, minor = 0;
  bool specific = false;
};

bool parseArchitecture(const std::string &arch, Architecture &parsed) {
  if (arch.rfind("sm_", 0) != 0 || arch.size() < 5)
    return false;
  std::string digits = arch.substr(3);
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    parsed.specific = true;
    digits.pop_back();
  }
  if (digits.size() < 2 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  parsed.minor = digits.back() - '0';
  parsed.major = std::atoi(digits.substr(0, digits.size() - 1).c_str());
  return true;
}

} // namespace

Device::Device(const Driver &api, CUdevice device) : api(api), device(device) {}

std::unique_ptr<Device> Device::open(const std::string &arch,
                                     const std::string &format) {
  std::string why;
  const Driver *api = loadDriver(why);
  if (!api)
    throw Unavailable("no CUDA driver (libcuda.so.1) found; this trainer was "
                      "compiled with --target=cuda (" + why + ")",
                      kNoGpuHint);
  CUresult result = api->cuInit(0);
  if (result != CUDA_SUCCESS)
    throw Unavailable("the CUDA driver cannot start: cuInit failed with " +
                          describe(*api, result),
                      kNoGpuHint);
  int count = 0;
  KILN_CU(*api, cuDeviceGetCount(&count));
  if (count == 0)
    throw Unavailable("the CUDA driver sees no GPU", kNoGpuHint);

  CUdevice ordinal;
  KILN_CU(*api, cuDeviceGet(&ordinal, 0));
  char model[256] = {};
  KILN_CU(*api, cuDeviceGetName(model, sizeof model - 1, ordinal));
  int major = 0, minor = 0;
  KILN_CU(*api, cuDeviceGetAttribute(
                    &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, ordinal));
  KILN_CU(*api, cuDeviceGetAttribute(
                    &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, ordinal));
  std::string gpu = std::string(model) + " (sm_" + std::to_string(major) +
                    std::to_string(minor) + ")";

  Architecture wanted;
  if (!parseArchitecture(arch, wanted))
    throw Unavailable("the program names an unknown GPU architecture '" +
                          arch + "'",
                      "rebuild the trainer with this runtime's kilnc");
  // A cubin runs on its major version from its minor one on; PTX, which
  // the driver compiles, on any later GPU; an "a" target only on itself.
  bool runs = wanted.specific
                  ? major == wanted.major && minor == wanted.minor
              : format == "cubin"
                  ? major == wanted.major && minor >= wanted.minor
                  : major * 10 + minor >= wanted.major * 10 + wanted.minor;
  if (!runs)
    throw Unavailable("the kernels are " + format + " for " + arch +
                          ", which GPU 0, " + gpu + ", cannot run",
                      "recompile with kilnc --target=cuda --gpu-arch=sm_" +
                          std::to_string(major) + std::to_string(minor));

  std::unique_ptr<Device> opened(new Device(*api, ordinal));
  opened->name = gpu;
  KILN_CU(*api, cuDevicePrimaryCtxRetain(&opened->context, ordinal));
  KILN_CU(*api, cuCtxSetCurrent(opened->context));
  KILN_CU(*api, cuStreamCreate(&opened->queue, CU_STREAM_NON_BLOCKING));
  currentDevice = opened.get();
  return opened;
}

Device::~Device() {
  if (currentDevice == this)
    currentDevice = nullptr;
  // Teardown errors change nothing the run computed; they are ignored.
  if (module)
    api.cuModuleUnload(module);
  if (queue)
    api.cuStreamDestroy(queue);
  if (context)
    api.cuDevicePrimaryCtxRelease(device);
}

Device *Device::current() { return currentDevice; }

void Device::loadModule(const void *image, const char *format, int32_t count,
                        const char *names) {
  char log[8192] = {};
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof log - 1)};
  CUresult result = api.cuModuleLoadDataEx(&module, image, 2, options, values);
  if (result != CUDA_SUCCESS) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "error: the GPU (%s) cannot load the program's kernels (%s): "
                 "%s\n%s%s",
                 name.c_str(), format, describe(api, result).c_str(), log,
                 *log ? "\n" : "");
    std::exit(1);
  }
  kernels.clear();
  for (int32_t i = 0; i < count; ++i) {
    CUfunction function;
    KILN_CU(api, cuModuleGetFunction(&function, module, names));
    kernels.push_back(function);
    names += std::strlen(names) + 1;
  }
}

void Device::launch(int32_t kernel, const int64_t grid[3],
                    const int64_t block[3], int32_t sharedBytes,
                    void **params) {
  KILN_CU(api, cuLaunchKernel(kernels.at(kernel), grid[0], grid[1], grid[2],
                              block[0], block[1], block[2], sharedBytes, queue,
                              params, nullptr));
}

/// The C functions that generated code calls.

extern "C" void kiln_cuda_load_module(const void *image, const char *format,
                                      int32_t count, const char *names) {
  Device *device = Device::current();
  if (!device) {
    std::fprintf(stderr, "error: kiln_cuda_load_module: no GPU was opened; "
                         "the trainer opens one before kiln_init\n");
    std::exit(1);
  }
  device->loadModule(image, format, count, names);
}

extern "C" void kiln_cuda_launch(int32_t kernel, int64_t gridX, int64_t gridY,
                                 int64_t gridZ, int64_t blockX, int64_t blockY,
                                 int64_t blockZ, int32_t sharedBytes,
                                 void **params) {
  const int64_t grid[] = {gridX, gridY, gridZ};
  const int64_t block[] = {blockX, blockY, blockZ};
  Device::current()->launch(kernel, grid, block, sharedBytes, params);
}
