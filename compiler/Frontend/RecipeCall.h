//===- RecipeCall.h - A checked call of the recipe: a source, a transform -===//
//
// What Sema makes of `data = csv(train: "t.csv", label: "y")`: the entry of
// the call's table (DataSources.h) and one value per argument, defaults
// filled in. The Program carries it to MLIRGen, which writes it out.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_RECIPECALL_H
#define KILN_FRONTEND_RECIPECALL_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

/// A bound argument's value; Input arguments are strings.
using RecipeValue = std::variant<bool, int64_t, double, std::string,
                                 std::vector<double>, std::vector<std::string>>;

struct RecipeCallSpec;

/// A recipe call checked against its entry: one value per parameter of the
/// spec, in the spec's order, with every default filled in.
struct RecipeCall {
  const RecipeCallSpec *spec = nullptr;
  std::vector<RecipeValue> values;
  /// Whether the file gave each value, or it is the default.
  std::vector<bool> given;

  const RecipeValue &value(llvm::StringRef name) const;
  bool isGiven(llvm::StringRef name) const;
  int64_t integer(llvm::StringRef name) const;
  double real(llvm::StringRef name) const;
  const std::string &string(llvm::StringRef name) const;
  const std::vector<double> &reals(llvm::StringRef name) const;
  const std::vector<std::string> &strings(llvm::StringRef name) const;
};

} // namespace kiln

#endif // KILN_FRONTEND_RECIPECALL_H
