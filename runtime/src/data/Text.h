//===- Text.h - How the data sources write shapes, numbers and names ------===//
//
// The small pieces of text that the sources' messages, notes and metadata
// share, written one way: shapes "[60000, 28, 28]", field types
// "f32[1, 28, 28]", numbers "0.1", JSON strings and quoted name lists.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_TEXT_H
#define KILN_RUNTIME_DATA_TEXT_H

#include "data/Source.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data {

/// "[60000, 28, 28]"; "[]" for a scalar.
std::string formatShape(const std::vector<int64_t> &shape);

/// A shape as a recipe declares it, the batch first: "[batch, 28, 28]".
std::string formatBatchShape(const std::vector<int64_t> &shape);

/// An element type as recipes write it: "f32", "f64", "i64".
const char *dtypeText(io::DType dtype);

/// A field's type per example: "f32[1, 28, 28]", "i64[]".
std::string formatField(const Field &field);

/// A field's type as the recipe declares it: "f32[batch, 4]".
std::string formatDeclaredField(const Field &field);

/// The shortest %g text that reads back as `value`: 0.1, not
/// 0.10000000000000001.
std::string shortNumber(double value);

/// The length of the UTF-8 sequence at `at` of `text`, or 0 when it is not
/// valid UTF-8 (overlong, a surrogate, beyond U+10FFFF, cut short).
size_t utf8Length(std::string_view text, size_t at);

/// `text` as a JSON string: quotes and backslashes escaped, control
/// characters as \b, \f, \n, \r, \t or \u00XX. A byte that is not part of
/// valid UTF-8 (a name in another encoding) is written \udcXX, as Python's
/// json.dumps writes the name that os.listdir gives for it.
std::string jsonString(std::string_view text);

/// `names` as a JSON list of strings: ["cat", "dog"].
std::string jsonStringList(const std::vector<std::string> &names);

/// "'a', 'b', 'c'": the first `limit` names quoted, then " and N more".
std::string quotedList(const std::vector<std::string> &names,
                       size_t limit = std::numeric_limits<size_t>::max());

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_TEXT_H
