//===- Passes.h - The passes of the GPU backend ---------------------------===//

#ifndef KILN_GPU_PASSES_H
#define KILN_GPU_PASSES_H

#include "Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "GPU/Passes.h.inc"

/// Attaches linalg's AggregatedOpInterface to each composite kiln op, with
/// the rewrite that kiln-decompose applies (compiler/GPU/Decompose). A tool
/// that runs the pass registers these, or the pass leaves the ops as they are.
void registerDecompositionModels(mlir::DialectRegistry &registry);

} // namespace kiln

#endif // KILN_GPU_PASSES_H
