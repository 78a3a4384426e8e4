//===- KilnNames.cpp - Names of the arguments and results of Kiln functions ===//

#include "Kiln/IR/KilnNames.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace {
constexpr const char *kNameAttributes[] = {"kiln.param", "kiln.state",
                                           "kiln.buffer", "kiln.input",
                                           "kiln.output"};
} // namespace

std::string kiln::getArgumentName(FunctionOpInterface func, unsigned index) {
  for (const char *attr : kNameAttributes)
    if (auto name = func.getArgAttrOfType<StringAttr>(index, attr))
      return name.str();
  if (func.getArgAttr(index, "kiln.step"))
    return "step";
  if (func.getArgAttr(index, "kiln.total_steps"))
    return "total_steps";
  return "arg" + std::to_string(index);
}

std::string kiln::getResultName(FunctionOpInterface func, unsigned index) {
  for (const char *attr : kNameAttributes)
    if (auto name = func.getResultAttrOfType<StringAttr>(index, attr))
      return name.str();
  if (auto name = func.getResultAttrOfType<StringAttr>(index, "kiln.grad"))
    return "grad." + name.str();
  return "result" + std::to_string(index);
}
