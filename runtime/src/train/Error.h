//===- Error.h - The errors that end a training run -----------------------===//
//
// The trainer's errors are those of the program layer (program/Error.h),
// which the inference library shares.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_ERROR_H
#define KILN_RUNTIME_TRAIN_ERROR_H

#include "program/Error.h"

namespace kiln::train {

using program::Error;
using program::ExitStatus;
using program::kExitFailure;
using program::kExitNoDevice;
using program::kExitSuccess;
using program::kExitUsage;
using program::usageError;

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_ERROR_H
