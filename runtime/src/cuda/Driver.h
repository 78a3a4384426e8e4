//===- Driver.h - The CUDA driver API, loaded at run time -----------------===//
//
// Trainers link no CUDA library: the driver is opened with dlopen when a
// program compiled for the GPU starts, and its entry points are looked up
// into a table. One trainer binary therefore runs on machines without a GPU
// (where a CPU program never touches this) and says clearly why a GPU
// program cannot run there.
//
// The few driver types are declared here as the driver's ABI defines them,
// so that building the runtime needs no CUDA toolkit.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CUDA_DRIVER_H
#define KILN_RUNTIME_CUDA_DRIVER_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr unsigned CU_MEMHOSTALLOC_PORTABLE = 1;
constexpr int CU_JIT_INFO_LOG_BUFFER = 3;
constexpr int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

/// The driver's entry points that the runtime uses. X-macro: name, symbol
/// (the versioned name that cuda.h maps the name to), parameters.
#define KILN_CUDA_DRIVER_FUNCTIONS(X)                                          \
  X(cuInit, "cuInit", (unsigned flags))                                        \
  X(cuDriverGetVersion, "cuDriverGetVersion", (int *version))                  \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *count))                        \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice * device, int ordinal))              \
  X(cuDeviceGetName, "cuDeviceGetName", (char *name, int length,               \
                                         CUdevice device))                     \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute",                              \
    (int *value, int attribute, CUdevice device))                              \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext * context, CUdevice device))                                    \
  X(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2",                 \
    (CUdevice device))                                                         \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                   \
  X(cuGetErrorName, "cuGetErrorName", (CUresult error, const char **name))     \
  X(cuGetErrorString, "cuGetErrorString",                                      \
    (CUresult error, const char **text))                                       \
  X(cuMemGetInfo, "cuMemGetInfo_v2", (size_t * free, size_t *total))           \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr * pointer, size_t bytes))        \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr pointer))                          \
  X(cuMemHostAlloc, "cuMemHostAlloc",                                          \
    (void **pointer, size_t bytes, unsigned flags))                            \
  X(cuMemFreeHost, "cuMemFreeHost", (void *pointer))                           \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2",                                           \
    (CUdeviceptr destination, const void *source, size_t bytes))               \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2",                                           \
    (void *destination, CUdeviceptr source, size_t bytes))                     \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                 \
    (CUdeviceptr destination, const void *source, size_t bytes,                \
     CUstream stream))                                                         \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                 \
    (void *destination, CUdeviceptr source, size_t bytes, CUstream stream))    \
  X(cuMemsetD8Async, "cuMemsetD8Async",                                        \
    (CUdeviceptr destination, unsigned char value, size_t count,               \
     CUstream stream))                                                         \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                  \
    (CUmodule * module, const void *image, unsigned count, int *options,       \
     void **values))                                                           \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule module))                       \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction * function, CUmodule module, const char *name))                \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ,      \
     unsigned blockX, unsigned blockY, unsigned blockZ, unsigned sharedBytes,  \
     CUstream stream, void **params, void **extra))                            \
  X(cuStreamCreate, "cuStreamCreate", (CUstream * stream, unsigned flags))     \
  X(cuStreamDestroy, "cuStreamDestroy_v2", (CUstream stream))                  \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream stream))             \
  X(cuStreamBeginCapture, "cuStreamBeginCapture_v2",                           \
    (CUstream stream, int mode))                                               \
  X(cuStreamEndCapture, "cuStreamEndCapture",                                  \
    (CUstream stream, CUgraph * graph))                                        \
  X(cuGraphInstantiate, "cuGraphInstantiateWithFlags",                         \
    (CUgraphExec * executable, CUgraph graph, unsigned long long flags))       \
  X(cuGraphLaunch, "cuGraphLaunch", (CUgraphExec executable, CUstream stream)) \
  X(cuGraphExecDestroy, "cuGraphExecDestroy", (CUgraphExec executable))        \
  X(cuGraphDestroy, "cuGraphDestroy", (CUgraph graph))                         \
  X(cuEventCreate, "cuEventCreate", (CUevent * event, unsigned flags))         \
  X(cuEventDestroy, "cuEventDestroy_v2", (CUevent event))                      \
  X(cuEventRecord, "cuEventRecord", (CUevent event, CUstream stream))          \
  X(cuEventSynchronize, "cuEventSynchronize", (CUevent event))

/// The table of entry points.
struct Driver {
#define KILN_CUDA_DECLARE(name, symbol, params) CUresult(*name) params = nullptr;
  KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_DECLARE)
#undef KILN_CUDA_DECLARE
};

/// The driver, opened once; null after setting `why` when libcuda.so.1 is
/// missing or lacks an entry point.
const Driver *loadDriver(std::string &why);

/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)".
std::string describe(const Driver &driver, CUresult result);

/// Reports a failed driver call (what was called, where, the driver's
/// error) on stderr and exits with status 1. Generated code calls the
/// runtime from frames that C++ exceptions cannot cross, so a failed call
/// ends the program here, after saying what to do.
[[noreturn]] void fail(const char *call, const char *file, int line,
                       CUresult result);

} // namespace kiln::cuda

/// Checks a driver call: `KILN_CU(driver, cuMemAlloc(&p, n))`.
#define KILN_CU(driver, call)                                                  \
  do {                                                                         \
    ::kiln::cuda::CUresult kiln_cu_result = (driver).call;                     \
    if (kiln_cu_result != ::kiln::cuda::CUDA_SUCCESS)                          \
      ::kiln::cuda::fail(#call, __FILE__, __LINE__, kiln_cu_result);           \
  } while (false)

#endif // KILN_RUNTIME_CUDA_DRIVER_H
