//===- Output.h - kilnc's last stages: LLVM IR, objects, executables ------===//

#ifndef KILN_TOOLS_KILNC_OUTPUT_H
#define KILN_TOOLS_KILNC_OUTPUT_H

#include "Stage.h"
#include "Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"

#include <string>

namespace kiln {

struct OutputOptions {
  /// llvm, obj, exe, lib or staticlib.
  Stage stage;
  /// Where an object, executable or library goes.
  std::string path;
  CodegenOptions codegen;
  /// An inference library's function prefix (empty: the model's name) and
  /// header (empty: <prefix>.h beside the library).
  std::string apiPrefix, headerFile;
  /// The input, named in a library's header.
  std::string source;
};

/// Translates `module`, in the LLVM dialect, to LLVM IR and prints it
/// optimized to `os`, or writes the object file, trainer or library that
/// `options` asks for. Errors go to stderr.
bool writeOutput(mlir::ModuleOp module, const OutputOptions &options,
                 mlir::TimingScope &timing, llvm::raw_ostream &os);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_OUTPUT_H
