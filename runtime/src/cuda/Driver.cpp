//===- Driver.cpp - The CUDA driver API, loaded at run time ---------------===//

#include "cuda/Driver.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <dlfcn.h>

using namespace kiln::cuda;

const Driver *kiln::cuda::loadDriver(std::string &why) {
  static Driver driver;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *error = dlerror();
      failure = error ? error : "dlopen failed";
      return;
    }
#define KILN_CUDA_LOOKUP(name, symbol, params)                                 \
  driver.name = reinterpret_cast<decltype(driver.name)>(dlsym(library, symbol)); \
  if (!driver.name) {                                                          \
    failure = "libcuda.so.1 has no " symbol "; the driver is too old";        \
    return;                                                                    \
  }
    KILN_CUDA_DRIVER_FUNCTIONS(KILN_CUDA_LOOKUP)
#undef KILN_CUDA_LOOKUP
  });
  why = failure;
  return failure.empty() ? &driver : nullptr;
}

std::string kiln::cuda::describe(const Driver &driver, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  driver.cuGetErrorName(result, &name);
  driver.cuGetErrorString(result, &text);
  std::string described = name ? name : "CUDA error " + std::to_string(result);
  if (text)
    described += std::string(" (") + text + ")";
  return described;
}

void kiln::cuda::fail(const char *call, const char *file, int line,
                      CUresult result) {
  std::string why;
  const Driver *driver = loadDriver(why);
  std::string error = driver ? describe(*driver, result)
                             : "CUDA error " + std::to_string(result);
  const char *base = file;
  for (const char *p = file; *p; ++p)
    if (*p == '/')
      base = p + 1;
  std::fflush(stdout);
  std::fprintf(stderr, "error: the CUDA call %s failed at %s:%d: %s\n", call,
               base, line, error.c_str());
  std::fprintf(stderr,
               "note: check the GPU with nvidia-smi; when it is out of "
               "memory, compile the model with a smaller --batch-size\n");
  std::exit(1);
}
