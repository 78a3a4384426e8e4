//===- KilnNames.h - Names of the arguments and results of Kiln functions -===//
//
// Functions that Kiln generates name their arguments and results with
// attributes, by role: `kiln.param` (a parameter, by its PyTorch name),
// `kiln.state` (optimizer state, "fc.weight.exp_avg"), `kiln.buffer` (layer
// state such as "bn1.running_mean"), `kiln.input` (a batch
// field), `kiln.output` (a result), and the unit attributes `kiln.step` and
// `kiln.total_steps`. Tools that move tensors in and out of these functions
// (safetensors files keyed by name) use the names below.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IR_KILNNAMES_H
#define KILN_IR_KILNNAMES_H

#include "mlir/Interfaces/FunctionInterfaces.h"

#include <string>

namespace kiln {

/// The name of argument `index`: its kiln.param, kiln.state or kiln.input
/// string, "step" or "total_steps", or "arg<index>" when it has none.
std::string getArgumentName(mlir::FunctionOpInterface func, unsigned index);

/// The name of result `index`: its kiln.output, kiln.param or kiln.state
/// string, "grad.<name>" for the gradient `kiln.grad = "<name>"`, or
/// "result<index>" when it has none.
std::string getResultName(mlir::FunctionOpInterface func, unsigned index);

} // namespace kiln

#endif // KILN_IR_KILNNAMES_H
