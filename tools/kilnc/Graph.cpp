//===- Graph.cpp - kilnc -emit=graph: a picture of the model --------------===//
//
// MLIR's view-op-graph writes the graph in Graphviz's language; Graphviz
// (Debian's graphviz package, an optional tool) lays it out and draws it.
//
//===----------------------------------------------------------------------===//

#include "Graph.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/ViewOpGraph.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

namespace {

/// The formats that dot writes for kilnc, by extension.
constexpr llvm::StringLiteral kFormats[] = {"svg", "png", "pdf"};

} // namespace

LogicalResult kiln::drawGraph(ModuleOp module, StringRef output,
                              std::string &error) {
  StringRef extension = llvm::sys::path::extension(output).drop_front();
  bool text = extension == "dot";
  if (!text && !llvm::is_contained(kFormats, extension)) {
    error = "-emit=graph writes .svg, .png, .pdf or .dot (Graphviz's text); "
            "name the output with -o FILE.svg";
    return failure();
  }
  std::string dot;
  {
    llvm::raw_string_ostream os(dot);
    PassManager pm(module->getContext(), ModuleOp::getOperationName());
    pm.addPass(createPrintOpGraphPass(os));
    if (failed(pm.run(module))) {
      error = "drawing the graph failed";
      return failure();
    }
  }
  if (text) {
    std::error_code code;
    llvm::ToolOutputFile file(output, code, llvm::sys::fs::OF_Text);
    if (code) {
      error = "cannot write '" + output.str() + "': " + code.message();
      return failure();
    }
    file.os() << dot;
    file.keep();
    return success();
  }

  llvm::ErrorOr<std::string> program = llvm::sys::findProgramByName("dot");
  if (!program) {
    error = "drawing the graph needs Graphviz's dot, which is not on PATH; "
            "install it (apt install graphviz), or write Graphviz's text with "
            "-o " +
            llvm::sys::path::stem(output).str() + ".dot";
    return failure();
  }
  llvm::SmallString<128> input;
  if (std::error_code code =
          llvm::sys::fs::createTemporaryFile("kilnc-graph", "dot", input)) {
    error = "cannot create a temporary file: " + code.message();
    return failure();
  }
  llvm::FileRemover removeInput(input);
  {
    std::error_code code;
    llvm::raw_fd_ostream os(input, code);
    if (code) {
      error = "cannot write '" + input.str().str() + "': " + code.message();
      return failure();
    }
    os << dot;
  }
  // dot draws into a file beside the output, which then replaces it: a
  // failure leaves no half-drawn picture.
  llvm::SmallString<128> drawn;
  int fd;
  if (std::error_code code = llvm::sys::fs::createUniqueFile(
          output + "-%%%%%%." + extension, fd, drawn)) {
    error = "cannot write beside '" + output.str() + "': " + code.message();
    return failure();
  }
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  llvm::FileRemover removeDrawn(drawn);
  std::string format = "-T" + extension.str();
  SmallVector<StringRef> command = {*program, format, "-o", drawn, input};
  std::string message;
  if (llvm::sys::ExecuteAndWait(*program, command, std::nullopt, {}, 0, 0,
                                &message) != 0) {
    error = "Graphviz's dot failed to draw " + output.str() +
            (message.empty() ? std::string() : ": " + message);
    return failure();
  }
  if (std::error_code code = llvm::sys::fs::rename(drawn, output)) {
    error = "cannot write '" + output.str() + "': " + code.message();
    return failure();
  }
  return success();
}
