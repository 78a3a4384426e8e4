//===- PassInsertion.h - One's own passes in kilnc's pipelines ------------===//
//
// `kilnc --insert-pass=after:kiln-autodiff:my-pass` runs `my-pass` (any
// textual pass pipeline, e.g. from a plugin that --load-pass-plugin loads)
// right after every run of kiln-autodiff in the pipelines on the way to
// the requested stage; `before:` runs it before. As clang's -mllvm and
// IREE's pipeline hooks do, the stage pipelines stay kilnc's own.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_KILNC_PASSINSERTION_H
#define KILN_TOOLS_KILNC_PASSINSERTION_H

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace kiln {

struct PassInsertion {
  /// The flag's value, for messages.
  std::string spelling;
  bool after;
  /// The pass (its argument, e.g. kiln-autodiff) or nested pipeline anchor
  /// (e.g. func.func) next to which the pipeline runs.
  std::string anchor;
  /// A textual pass pipeline, without an anchor: "my-pass{opt=1},cse".
  std::string pipeline;
  /// How many times it was inserted.
  unsigned count = 0;
};

/// Parses "after:PASS:PIPELINE" or "before:PASS:PIPELINE"; PASS must name a
/// registered pass or an operation that pipelines nest on.
llvm::Expected<PassInsertion> parsePassInsertion(llvm::StringRef text);

/// Replaces `pm`'s passes with `built`'s with the insertions made, through
/// the textual pipeline (which remakes kilnc's stages exactly:
/// test/Frontend/pipeline-equality.test).
llvm::Error insertPasses(const mlir::OpPassManager &built,
                         llvm::MutableArrayRef<PassInsertion> insertions,
                         mlir::OpPassManager &pm);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_PASSINSERTION_H
