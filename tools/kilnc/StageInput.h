//===- StageInput.h - kilnc's printed stages, read back -------------------===//

#ifndef KILN_TOOLS_KILNC_STAGEINPUT_H
#define KILN_TOOLS_KILNC_STAGEINPUT_H

#include "Stage.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <optional>

namespace kiln {

/// The stage that `module` is at, from what it holds: LLVM functions alone
/// (llvm-dialect); the steps, with no kiln op left but runtime calls
/// (linalg) or with kiln ops (train-step); a gradient function
/// (kiln-grad); else kiln. None, with `why` set, when it holds nothing
/// that kilnc makes.
std::optional<Stage> detectStage(mlir::ModuleOp module, std::string &why);

struct StageInput {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Stage stage;
};

/// Parses the main buffer of `sourceMgr` (the file `name`) as MLIR at
/// `from`, or at the stage detectStage finds. Errors go to the context's
/// diagnostic handler or, for the stage, to stderr.
std::optional<StageInput> readStageInput(llvm::SourceMgr &sourceMgr,
                                         mlir::MLIRContext &context,
                                         std::optional<Stage> from,
                                         llvm::StringRef name);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_STAGEINPUT_H
