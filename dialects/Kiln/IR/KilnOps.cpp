//===- KilnOps.cpp - Definitions of the kiln operations -------------------===//
//
// Result types and checks live in KilnShapes.cpp, folders and rewrites in
// KilnCanonicalize.cpp; this file holds the definitions that ODS generates.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;

#define GET_OP_CLASSES
#include "Kiln/IR/KilnOps.cpp.inc"
