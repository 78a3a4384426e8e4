//===- KilnOps.h - Operations of the kiln dialect -------------------------===//

#ifndef KILN_IR_KILNOPS_H
#define KILN_IR_KILNOPS_H

#include "Kiln/IR/KilnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "Kiln/IR/KilnEnums.h.inc"

namespace kiln {
/// About one floating-point operation per element of the largest
/// floating-point operand of `op`: the count of an op that states none.
int64_t countElementFlops(mlir::Operation *op);
} // namespace kiln

#include "Kiln/IR/KilnInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "Kiln/IR/KilnAttrs.h.inc"

namespace kiln {
/// Whether declared result types agree with inferred ones: same element types
/// and ranks, and equal sizes wherever both are static.
bool areCompatibleTensorTypes(mlir::TypeRange inferred, mlir::TypeRange declared);

/// The floating-point operations that `op` performs, as its
/// FlopCountOpInterface counts them (every kiln op has one); 0 for an op
/// without.
int64_t countFlops(mlir::Operation *op);

/// Registers how kiln ops bufferize (the runtime call).
void registerBufferizationInterfaces(mlir::DialectRegistry &registry);

/// Checks an op's operands and attributes through its type inference, then
/// its declared result types against the inferred ones.
mlir::LogicalResult verifyInferredResultTypes(mlir::InferTypeOpInterface op);

/// Fails at `op`, a batch normalization or its gradient, when it
/// synchronizes its statistics over `ranks` > 1 data-parallel ranks, which
/// `runner` (one process) cannot do.
mlir::LogicalResult checkOneRank(mlir::Operation *op, uint64_t ranks,
                                 llvm::StringRef runner);

/// Marks an op that the CPU runtime implements: kiln-lower-to-runtime makes
/// each one a kiln.runtime_call, so the CPU pipeline does not decompose it.
template <typename ConcreteType>
class RuntimeKernel
    : public mlir::OpTrait::TraitBase<ConcreteType, RuntimeKernel> {};

/// Marks an op whose products run on bfloat16 values under mixed precision,
/// as torch.autocast's lower-precision ops: kiln-autocast rounds its float
/// operands and results to bfloat16 (kiln.reduce_precision).
template <typename ConcreteType>
class LowerPrecisionCompute
    : public mlir::OpTrait::TraitBase<ConcreteType, LowerPrecisionCompute> {};

/// Marks an op each of whose result elements is an operand element or zero,
/// and whose adjoint only selects elements of the result gradient: rounding
/// commutes with it, forward and backward.
template <typename ConcreteType>
class SelectsElements
    : public mlir::OpTrait::TraitBase<ConcreteType, SelectsElements> {};
} // namespace kiln

#define GET_OP_CLASSES
#include "Kiln/IR/KilnOps.h.inc"

#endif // KILN_IR_KILNOPS_H
