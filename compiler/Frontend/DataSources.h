//===- DataSources.h - The recipe's calls: data sources and transforms ----===//
//
// The compiler's half of every data source and image transform: its name,
// its arguments with their types and defaults, and the rule that the model's
// inputs must follow. Sema binds and checks a recipe call against its entry,
// MLIRGen writes every argument (defaults filled in) into the program's
// description, and `kilnc --list-data` prints the table; the runtime's half
// is the loader registered under the same name in runtime/src/data.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_DATASOURCES_H
#define KILN_FRONTEND_DATASOURCES_H

#include "Frontend/Program.h"
#include "Frontend/RecipeCall.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kiln {

/// The type of a recipe argument. `Input` names one of the model's inputs
/// (the first argument of a transform) and is kept as that name.
enum class RecipeArgType { Bool, Integer, Real, String, Reals, Strings, Input };

/// What an argument's value must satisfy beyond its type.
enum class RecipeArgRule {
  Any,
  Positive,    // Integer, Real: > 0.
  NonNegative, // Integer, Real: >= 0.
  Fraction,    // Real: in [0, 1).
  Probability, // Real: in [0, 1].
  Path,        // String: not empty.
  Choice,      // String: one of `choices`.
  Character,   // String: exactly one character.
};

struct RecipeParam {
  const char *name;
  RecipeArgType type;
  /// The default, or nothing when the argument is required.
  std::optional<RecipeValue> fallback;
  RecipeArgRule rule = RecipeArgRule::Any;
  /// Choice: the allowed strings, separated by '|'.
  const char *choices = "";
  /// One line for --list-data and docs/data.md.
  const char *doc = "";
};

/// One of the model's inputs, as the input rules see it.
struct InputInfo {
  std::string name;
  TensorType type;
};

/// A rule broken: where it shows (an input of the model, an argument of the
/// call, or the call itself), what is wrong and what to do.
struct RecipeProblem {
  std::optional<size_t> input;
  std::string argument;
  std::string message, hint;
};

/// Checks a call's arguments against each other and the model's inputs
/// against the call; nothing when all is well.
using RecipeCheck = std::optional<RecipeProblem> (*)(
    const RecipeCall &call, const std::vector<InputInfo> &inputs,
    int64_t batch);

struct RecipeCallSpec {
  const char *name;
  /// One line: what it reads or does.
  const char *summary;
  std::vector<RecipeParam> params;
  /// The inputs it fills, in words: "image f32[batch, 1, 28, 28], then
  /// label i64[batch]".
  const char *inputs;
  RecipeCheck check;

  const RecipeParam *find(llvm::StringRef name) const;
  size_t indexOf(llvm::StringRef name) const;
};

/// Every data source, in the order --list-data shows them.
const std::vector<RecipeCallSpec> &dataSources();
/// Every transform of `transforms = [...]`.
const std::vector<RecipeCallSpec> &transforms();
/// The entry called `name` in `table`, or null.
const RecipeCallSpec *findRecipeCall(const std::vector<RecipeCallSpec> &table,
                                     llvm::StringRef name);

/// "a(...), b(...) or c(...)", for messages.
std::string listRecipeCalls(const std::vector<RecipeCallSpec> &table);
/// A value as the language writes it: 1, 0.5, "bytes", [1, 2].
std::string formatRecipeValue(const RecipeValue &value);
/// The table as `kilnc --list-data` prints it.
std::string describeRecipeCalls();

} // namespace kiln

#endif // KILN_FRONTEND_DATASOURCES_H
