//===- Diagnostics.cpp - Errors in Kiln source ----------------------------===//

#include "Frontend/Diagnostics.h"

using namespace kiln;

void DiagnosticEngine::error(llvm::SMLoc loc, const llvm::Twine &message) {
  ++numErrors;
  sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Error, message);
}

void DiagnosticEngine::error(llvm::SMLoc loc, const llvm::Twine &message,
                             const llvm::Twine &hint) {
  error(loc, message);
  std::string text = hint.str();
  if (!text.empty())
    os << "note: " << text << "\n";
}

void DiagnosticEngine::note(llvm::SMLoc loc, const llvm::Twine &message) {
  sourceMgr.PrintMessage(os, loc, llvm::SourceMgr::DK_Note, message);
}
