//===- Runtime.h - Threads and fatal errors of the CPU runtime ------------===//
//
// What the trainer's main() needs from the CPU runtime besides the C
// interface of kiln_runtime.h: the number of threads (its --threads flag)
// and the one way the runtime stops on an error it cannot recover from.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_CPU_RUNTIME_H
#define KILN_RUNTIME_CPU_RUNTIME_H

#include <string>

namespace kiln::cpu {

/// Sets the number of threads of oneDNN and of kiln_rt_parallel_for, which
/// share GNU OpenMP's thread pool; 0 means one per core. Call it before the
/// program's init: oneDNN sizes a primitive's work for the threads it was
/// created with.
void setNumThreads(int count);

/// The number of threads the runtime runs on.
int getNumThreads();

/// Prints "kiln: error: <message>" and "kiln: note: <hint>" (what to do
/// next) to stderr and exits with status 1.
[[noreturn]] void fatal(const std::string &message, const std::string &hint);

} // namespace kiln::cpu

#endif // KILN_RUNTIME_CPU_RUNTIME_H
