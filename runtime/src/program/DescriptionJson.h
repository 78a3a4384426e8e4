//===- DescriptionJson.h - Reading the JSON of a program's description ----===//
//
// The description comes from kilnc, so a problem in it means that the
// program's object file and runtime disagree, not that the user erred; the
// checks are still complete, so that no later code reads a slot of the wrong
// type or size. Internal to the runtime: the trainer's Program.cpp reads the
// recipe with the same helpers.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_PROGRAM_DESCRIPTIONJSON_H
#define KILN_RUNTIME_PROGRAM_DESCRIPTIONJSON_H

#include "program/Description.h"

#include <nlohmann/json.hpp>

#include <string>

namespace kiln::program {

// Ordered, so that --help shows a recipe's settings in the order kilnc wrote.
using Json = nlohmann::ordered_json;

inline constexpr const char *kRebuildHint =
    "the program's object file and its runtime disagree; rebuild it with the "
    "kilnc that matches this runtime";

/// Throws the Error of an invalid description at `where`.
[[noreturn]] void invalid(const std::string &where, const std::string &what);

/// Member `key` of `object`, which must be there.
const Json &member(const Json &object, const char *key,
                   const std::string &where);
std::string string(const Json &value, const std::string &where);
/// An integer of at least `least`.
int64_t integer(const Json &value, const std::string &where, int64_t least);
/// A finite number.
double number(const Json &value, const std::string &where);
/// The member `key` of `object`, or `fallback` (the language's default)
/// when it is absent.
int64_t optionalInteger(const Json &object, const char *key,
                        const std::string &where, int64_t least,
                        int64_t fallback);

/// Parses `text`, which must be a JSON object.
Json parseJson(const std::string &text);
/// The description in `root`: checks the ABI version, the slots and the
/// steps.
Description parseDescription(const Json &root);

} // namespace kiln::program

#endif // KILN_RUNTIME_PROGRAM_DESCRIPTIONJSON_H
