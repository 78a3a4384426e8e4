//===- OpKind.h - The identity of a kiln op, without MLIR -----------------===//
//
// One enumerator per op of the kiln dialect, generated from its ODS, so that
// the front end names the ops it builds with checked identities rather than
// strings, and a renamed or removed op fails to compile.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RULES_OPKIND_H
#define KILN_RULES_OPKIND_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace kiln {

#include "Kiln/Rules/KilnOpKinds.h.inc"

} // namespace kiln

#endif // KILN_RULES_OPKIND_H
