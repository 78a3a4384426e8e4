//===- Stats.cpp - kilnc --stats: a program's size, work and memory -------===//

#include "Stats.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

namespace {

std::string megabytes(int64_t bytes) {
  return llvm::formatv("{0:F1} MB", bytes / 1e6).str();
}

} // namespace

void kiln::printStats(mlir::ModuleOp module, int64_t ranks,
                      llvm::raw_ostream &os) {
  auto text = module->getAttrOfType<mlir::StringAttr>("kiln.description");
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text.getValue());
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return;
  }
  const llvm::json::Object &description = *parsed->getAsObject();
  int64_t parameters = 0;
  for (const llvm::json::Value &slot : *description.getArray("slots")) {
    const llvm::json::Object &object = *slot.getAsObject();
    if (object.getString("role") != "param")
      continue;
    int64_t count = 1;
    for (const llvm::json::Value &size : *object.getArray("shape"))
      count *= *size.getAsInteger();
    parameters += count;
  }
  // "FLOPs per step: training 0.123 GFLOP, evaluation 0.045 GFLOP, ..." and
  // the same for the arenas, for the steps that the program has.
  std::string flops, arenas, reduced, bfloat16;
  for (auto [key, name] :
       {std::pair("train", "training"), std::pair("eval", "evaluation"),
        std::pair("predict", "prediction")}) {
    const llvm::json::Object *summary = description.getObject(key);
    if (!summary)
      continue;
    const char *separator = flops.empty() ? "" : ", ";
    flops += llvm::formatv("{0}{1} {2:F3} GFLOP", separator, name,
                           *summary->getInteger("flops") / 1e9);
    arenas += llvm::formatv("{0}{1} {2} (peak {3})", separator, name,
                            megabytes(*summary->getInteger("arena_bytes")),
                            megabytes(*summary->getInteger("peak_bytes")));
    if (std::optional<int64_t> bytes = summary->getInteger("bf16_bytes"))
      bfloat16 += llvm::formatv("{0}{1} {2}", bfloat16.empty() ? "" : ", ",
                                name, megabytes(*bytes));
    if (std::optional<int64_t> bytes = summary->getInteger("reduced_bytes")) {
      int64_t buckets = summary->getInteger("reduced_buckets").value_or(0);
      reduced = llvm::formatv("gradients averaged per training step: {0} in "
                              "{1} bucket{2}, over {3} ranks\n",
                              megabytes(*bytes), buckets,
                              buckets == 1 ? "" : "s", ranks)
                    .str();
    }
  }
  os << "model " << description.getString("model").value_or("?") << ": "
     << parameters << " parameters (" << megabytes(4 * parameters) << ")\n"
     << "FLOPs per step: " << flops << "\n"
     << "arena: " << arenas << "\n"
     << reduced;
  // The arena holds them as float32: the runtime multiplies in float32.
  if (!bfloat16.empty())
    os << "bfloat16 values per step (mixed precision, held as float32): "
       << bfloat16 << "\n";
}
