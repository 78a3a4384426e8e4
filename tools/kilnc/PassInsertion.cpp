//===- PassInsertion.cpp - One's own passes in kilnc's pipelines ----------===//

#include "PassInsertion.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

using namespace llvm;

namespace {

/// The elements of a comma-separated pipeline list, split where no brace
/// (pass options) or parenthesis (a nested pipeline) is open.
SmallVector<StringRef> splitElements(StringRef list) {
  SmallVector<StringRef> elements;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (c == '{' || c == '(')
      ++depth;
    else if (c == '}' || c == ')')
      --depth;
    else if (c == ',' && depth == 0) {
      elements.push_back(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (!list.slice(start, list.size()).trim().empty())
    elements.push_back(list.slice(start, list.size()).trim());
  return elements;
}

/// `list` with the insertions made, nested pipelines included.
std::string insertInto(StringRef list,
                       MutableArrayRef<kiln::PassInsertion> insertions) {
  SmallVector<std::string> out;
  for (StringRef element : splitElements(list)) {
    size_t nameEnd = element.find_first_of("{(");
    StringRef name = element.take_front(nameEnd).trim();
    std::string rewritten = element.str();
    // A nested pipeline, op-name(...): its passes may be anchors too.
    if (nameEnd != StringRef::npos && element[nameEnd] == '(' &&
        element.ends_with(")"))
      rewritten = (name + "(" +
                   insertInto(element.slice(nameEnd + 1, element.size() - 1),
                              insertions) +
                   ")")
                      .str();
    for (kiln::PassInsertion &insertion : insertions)
      if (!insertion.after && insertion.anchor == name) {
        out.push_back(insertion.pipeline);
        ++insertion.count;
      }
    out.push_back(rewritten);
    for (kiln::PassInsertion &insertion : insertions)
      if (insertion.after && insertion.anchor == name) {
        out.push_back(insertion.pipeline);
        ++insertion.count;
      }
  }
  return join(out, ",");
}

} // namespace

Expected<kiln::PassInsertion> kiln::parsePassInsertion(StringRef text) {
  auto [where, rest] = text.split(':');
  auto [anchor, pipeline] = rest.split(':');
  if ((where != "after" && where != "before") || anchor.empty() ||
      pipeline.empty())
    return createStringError(
        formatv("--insert-pass takes after:PASS:PIPELINE or "
                "before:PASS:PIPELINE (e.g. after:kiln-autodiff:my-pass), "
                "not '{0}'",
                text));
  // A pass, or an op that a nested pipeline runs on (func.func).
  if (!mlir::PassInfo::lookup(anchor) && !anchor.contains('.'))
    return createStringError(
        formatv("--insert-pass {0}: no pass is named '{1}'; kilnc "
                "--dump-pipeline -emit=STAGE prints the passes of a stage",
                text, anchor));
  return PassInsertion{text.str(), where == "after", anchor.str(),
                       pipeline.str()};
}

Error kiln::insertPasses(const mlir::OpPassManager &built,
                         MutableArrayRef<PassInsertion> insertions,
                         mlir::OpPassManager &pm) {
  std::string text;
  raw_string_ostream os(text);
  built.printAsTextualPipeline(os);
  // builtin.module(a,b,...): the passes within the anchor.
  StringRef inner = StringRef(text);
  size_t open = inner.find('(');
  inner = inner.slice(open + 1, inner.size() - 1);
  std::string rewritten = insertInto(inner, insertions);
  std::string error;
  raw_string_ostream errors(error);
  if (failed(mlir::parsePassPipeline(rewritten, pm, errors)))
    return createStringError("--insert-pass: " + StringRef(error).trim());
  return Error::success();
}
