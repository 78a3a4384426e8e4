//===- RunReference.h - kilnc -run-reference: a stage run by the evaluator
//-===//

#ifndef KILN_TOOLS_KILNC_RUNREFERENCE_H
#define KILN_TOOLS_KILNC_RUNREFERENCE_H

#include "Stage.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/CommandLine.h"

#include <string>

namespace kiln {

/// The category of kilnc's own flags, which --help lists.
llvm::cl::OptionCategory &kilncCategory();

/// Whether the command line says -run-reference.
bool runReferenceRequested();

/// Why -run-reference and its flags (-function, -inputs, -outputs,
/// -reference-precision) cannot go with the rest of the command line: the
/// stage to stop after, whether -o or --split-input-file is given. Empty
/// when they can.
std::string runReferenceProblem(Stage emit, bool outputGiven,
                                bool splitInputFile);

/// Runs the chosen function of `module`, at stage `emit` of `inputFile`, with
/// the reference evaluator, from and to the files the flags name. On failure
/// `error` says why, or is empty when the evaluator has reported at an op.
bool runReference(mlir::ModuleOp module, Stage emit, llvm::StringRef inputFile,
                  std::string &error);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_RUNREFERENCE_H
