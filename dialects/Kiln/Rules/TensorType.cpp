//===- TensorType.cpp - Tensor types as the shape rules see them ----------===//

#include "Kiln/Rules/TensorType.h"

#include <cstdio>

using namespace kiln;

int64_t TensorType::numElements() const {
  int64_t count = 1;
  for (int64_t size : shape) {
    if (isDynamic(size))
      return kDynamic;
    count *= size;
  }
  return count;
}

std::string TensorType::str() const {
  return elementName(element) + formatShape(shape);
}

const char *kiln::elementName(ElementType element) {
  switch (element) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I64:
    return "i64";
  }
  return "?";
}

std::string kiln::formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      text += ", ";
    text += isDynamic(shape[i]) ? "?" : std::to_string(shape[i]);
  }
  return text + "]";
}

std::string kiln::formatNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}
