//===- Runtime.h - Threads and fatal errors of the CPU runtime ------------===//
//
// What the CPU runtime offers C++ code besides the C interface of
// kiln_runtime.h: its thread count (which kiln_rt_set_threads sets) and the
// one way it stops on an error it cannot recover from.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CPU_RUNTIME_H
#define KILN_RUNTIME_CPU_RUNTIME_H

#include <string>

namespace kiln::cpu {

/// The number of threads the runtime runs on.
int getNumThreads();

/// Prints "kiln: error: <message>" and "kiln: note: <hint>" (what to do
/// next) to stderr and exits with status 1.
[[noreturn]] void fatal(const std::string &message, const std::string &hint);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_RUNTIME_H
