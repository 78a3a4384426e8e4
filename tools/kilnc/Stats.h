//===- Stats.h - kilnc --stats: a program's size, work and memory ---------===//

#ifndef KILN_TOOLS_KILNC_STATS_H
#define KILN_TOOLS_KILNC_STATS_H

#include "mlir/IR/BuiltinOps.h"

namespace kiln {

/// Prints what --stats promises, from the program's description in `module`
/// (kiln-describe-program): its parameters, the FLOPs and arena of each
/// step, and, for a data-parallel run of `ranks`, the gradients averaged.
void printStats(mlir::ModuleOp module, int64_t ranks, llvm::raw_ostream &os);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_STATS_H
