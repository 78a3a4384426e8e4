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
};

/// Checks names, arguments, element types and shapes of the whole file and
/// returns the elaborated program, or reports the first error and returns
/// nothing.
std::optional<Program> analyze(const Module &module, DiagnosticEngine &diags,
                               const SemaOptions &options = {});

} // namespace kiln

#endif // KILN_FRONTEND_SEMA_H
