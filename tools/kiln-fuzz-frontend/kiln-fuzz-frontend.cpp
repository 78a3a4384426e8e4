//===- kiln-fuzz-frontend.cpp - libFuzzer target over the whole front end -===//
//
// Any input must either be rejected with a diagnostic or become kiln IR that
// verifies: a crash, a sanitizer report, or IR that fails to verify (an input
// that Sema accepted but the dialect rejects) is a bug.
//
//===----------------------------------------------------------------------===//

#include "Frontend/Parser.h"
#include "Frontend/Sema.h"
#include "MLIRGen/MLIRGen.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.kiln");
  llvm::SourceMgr sourceMgr;
  llvm::StringRef source = buffer->getBuffer();
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  kiln::DiagnosticEngine diags(sourceMgr, llvm::nulls());

  std::optional<kiln::Module> module = kiln::Parser(source, diags).parseModule();
  if (!module)
    return 0;
  std::optional<kiln::Program> program = kiln::analyze(*module, diags);
  if (!program)
    return 0;

  static mlir::MLIRContext *context = [] {
    auto *context = new mlir::MLIRContext();
    context->getDiagEngine().registerHandler([](mlir::Diagnostic &diagnostic) {
      llvm::errs() << diagnostic << "\n";
      return mlir::success();
    });
    return context;
  }();
  if (!kiln::mlirGen(*context, *program, sourceMgr))
    std::abort();
  return 0;
}
