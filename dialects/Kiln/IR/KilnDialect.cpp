//===- KilnDialect.cpp - Registration of the kiln dialect -----------------===//

#include "Kiln/IR/KilnDialect.h"
#include "Kiln/IR/KilnOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kiln;

#include "Kiln/IR/KilnDialect.cpp.inc"
#include "Kiln/IR/KilnEnums.cpp.inc"
#include "Kiln/IR/KilnInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "Kiln/IR/KilnAttrs.cpp.inc"

void KilnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "Kiln/IR/KilnOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Kiln/IR/KilnAttrs.cpp.inc"
      >();
}

Operation *KilnDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
