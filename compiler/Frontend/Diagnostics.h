//===- Diagnostics.h - Errors in Kiln source, with line, column and caret -===//

#ifndef KILN_FRONTEND_DIAGNOSTICS_H
#define KILN_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/SourceMgr.h"

namespace kiln {

/// Reports problems in a source file as `file:line:col: error: message`,
/// followed by the source line, a caret under the column, and notes that say
/// what to do next.
class DiagnosticEngine {
public:
  DiagnosticEngine(llvm::SourceMgr &sourceMgr, llvm::raw_ostream &os)
      : sourceMgr(sourceMgr), os(os) {}

  void error(llvm::SMLoc loc, const llvm::Twine &message);
  /// An error followed by a note that tells the user how to fix it.
  void error(llvm::SMLoc loc, const llvm::Twine &message,
             const llvm::Twine &hint);
  /// A note attached to the previous error, pointing at another place.
  void note(llvm::SMLoc loc, const llvm::Twine &message);

  unsigned getNumErrors() const { return numErrors; }
  bool hadError() const { return numErrors != 0; }
  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

private:
  llvm::SourceMgr &sourceMgr;
  llvm::raw_ostream &os;
  unsigned numErrors = 0;
};

} // namespace kiln

#endif // KILN_FRONTEND_DIAGNOSTICS_H
