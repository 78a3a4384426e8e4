//===- Stage.h - The stages of kilnc's pipeline ---------------------------===//
//
// What kilnc stops after (-emit) and what a .mlir input starts from
// (--from), with their names: kilnc's flags are made from this table.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_KILNC_STAGE_H
#define KILN_TOOLS_KILNC_STAGE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

namespace kiln {

/// In pipeline order, but for Graph, which is drawn from the kiln stage.
enum class Stage {
  AST,
  Kiln,
  KilnGrad,
  TrainStep,
  Linalg,
  PTX,
  LLVMDialect,
  LLVMIR,
  Object,
  Executable,
  SharedLibrary,
  StaticLibrary,
  Graph
};

struct StageInfo {
  Stage stage;
  llvm::StringLiteral name;
  llvm::StringLiteral description;
  /// Whether kilnc prints this stage as MLIR, and so reads it back.
  bool isIR;
};

inline constexpr StageInfo kStages[] = {
    {Stage::AST, "ast", "the syntax tree", false},
    {Stage::Kiln, "kiln", "the model in the kiln dialect", true},
    {Stage::KilnGrad, "kiln-grad", "with its gradient function (kiln-autodiff)",
     true},
    {Stage::TrainStep, "train-step", "with the training and evaluation steps",
     true},
    {Stage::Linalg, "linalg",
     "the steps as runtime calls and linalg on tensors", true},
    {Stage::PTX, "ptx", "the GPU kernels as PTX (with --target=cuda)", false},
    {Stage::LLVMDialect, "llvm-dialect", "the program in MLIR's LLVM dialect",
     true},
    {Stage::LLVMIR, "llvm", "the program as optimized LLVM IR", false},
    {Stage::Object, "obj", "an object file", false},
    {Stage::Executable, "exe", "a training executable (the default)", false},
    {Stage::SharedLibrary, "lib",
     "an inference library: the forward pass as a shared object with a C "
     "header",
     false},
    {Stage::StaticLibrary, "staticlib", "the same as a static archive", false},
    {Stage::Graph, "graph",
     "a picture of the model's graph through Graphviz: -o FILE.svg, .png, "
     ".pdf or .dot (default: the model's name with .svg)",
     false},
};

inline const StageInfo &stageInfo(Stage stage) {
  for (const StageInfo &info : kStages)
    if (info.stage == stage)
      return info;
  llvm_unreachable("a stage missing from kStages");
}

} // namespace kiln

#endif // KILN_TOOLS_KILNC_STAGE_H
