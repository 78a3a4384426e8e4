//===- Steps.h - The entry points that a compiled program may have --------===//
//
// A trainer has the three steps; an inference library (kilnc --emit=lib) has
// only the forward. This table is what kiln-describe-program and
// kiln-emit-program agree on: the step function, the key of its summary in
// the program's description, and its frame entry, in the order of the entry
// points of kiln_program (kiln_runtime.h).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_PROGRAM_STEPS_H
#define KILN_CONVERSION_PROGRAM_STEPS_H

#include "llvm/ADT/StringRef.h"

namespace kiln {

struct StepEntry {
  /// The function that kiln-build-train-step or kiln-build-predict-step
  /// builds.
  llvm::StringLiteral function;
  /// Its summary in the description, and `kiln.<key>_slots` on the module.
  llvm::StringLiteral key;
  /// The frame entry that kiln-emit-program defines for it.
  llvm::StringLiteral entry;
};

inline constexpr StepEntry kProgramSteps[] = {
    {"train_step", "train", "kiln_train_step"},
    {"eval_step", "eval", "kiln_eval_step"},
    {"predict_step", "predict", "kiln_predict_step"},
};

/// The module attribute that holds the slot of each argument of a step.
inline std::string slotsAttrName(const StepEntry &step) {
  return ("kiln." + step.key + "_slots").str();
}

} // namespace kiln

#endif // KILN_CONVERSION_PROGRAM_STEPS_H
