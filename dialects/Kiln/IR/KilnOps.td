//===- KilnOps.td - Operations of the kiln dialect ------------------------===//

#ifndef KILN_OPS_TD
#define KILN_OPS_TD

include "Kiln/IR/KilnBase.td"
include "Kiln/IR/KilnTensorOps.td"
include "Kiln/IR/KilnMathOps.td"
include "Kiln/IR/KilnNNOps.td"
include "Kiln/IR/KilnBackwardOps.td"
include "Kiln/IR/KilnOptimizerOps.td"
include "Kiln/IR/KilnLoweringOps.td"

#endif // KILN_OPS_TD
