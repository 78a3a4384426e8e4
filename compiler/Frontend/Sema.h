//===- Sema.h - Checks a Kiln file and elaborates it into a Program -------===//

#ifndef KILN_FRONTEND_SEMA_H
#define KILN_FRONTEND_SEMA_H

#include "Frontend/AST.h"
#include "Frontend/Diagnostics.h"
#include "Frontend/Program.h"

namespace kiln {

struct SemaOptions {
  /// Replaces the train section's batch_size (kilnc --batch-size).
  std::optional<int64_t> batchSize;
  /// The processes of a data-parallel run (kilnc --ranks): the batch size
  /// stays the global batch, and each rank's step takes batch_size / ranks
  /// examples, which `batch` then names in the model.
  int64_t ranks = 1;
  /// Replaces the train section's precision (kilnc --precision).
  std::optional<Precision> precision;
  /// The most operations a forward pass may have. kilnc's time and memory
  /// grow with the operations of the step, and the bound keeps a large repeat
  /// count from running for hours before failing: on the CPU, 1024 of them
  /// take about a minute and 0.5 GB to compile (a 48-layer Transformer
  /// encoder); the GPU path decomposes every op into loops and takes 1.4 GB
  /// for the same model, so kilnc halves the bound there.
  size_t maxOperations = 1024;
};

/// Checks names, arguments, element types and shapes of the whole file and
/// returns the elaborated program, or reports the first error and returns
/// nothing.
std::optional<Program> analyze(const Module &module, DiagnosticEngine &diags,
                               const SemaOptions &options = {});

} // namespace kiln

#endif // KILN_FRONTEND_SEMA_H
