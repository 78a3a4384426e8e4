//===- DescribeProgram.cpp - The program's slots as JSON for the runtime --===//

#include "Conversion/Passes.h"
#include "Program/Steps.h"
#include "kiln/kiln_runtime.h"
#include "Kiln/IR/KilnNames.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln {
#define GEN_PASS_DEF_KILNDESCRIBEPROGRAM
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// An attribute of the recipe as JSON.
llvm::json::Value toJson(Attribute attr) {
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object object;
    for (NamedAttribute entry : dict)
      object[entry.getName().str()] = toJson(entry.getValue());
    return object;
  }
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array values;
    for (Attribute element : array)
      values.push_back(toJson(element));
    return values;
  }
  if (auto text = dyn_cast<StringAttr>(attr))
    return text.str();
  if (auto flag = dyn_cast<BoolAttr>(attr))
    return flag.getValue();
  if (auto integer = dyn_cast<IntegerAttr>(attr))
    return integer.getInt();
  if (auto real = dyn_cast<FloatAttr>(attr))
    return real.getValueAsDouble();
  return nullptr;
}

/// The role of argument `index` of a step, by its attributes.
StringRef roleOf(func::FuncOp func, unsigned index) {
  if (func.getArgAttr(index, "kiln.param"))
    return "param";
  if (func.getArgAttr(index, "kiln.state"))
    return "state";
  if (func.getArgAttr(index, "kiln.buffer"))
    return "buffer";
  if (func.getArgAttr(index, "kiln.step"))
    return "step";
  if (func.getArgAttr(index, "kiln.total_steps"))
    return "total_steps";
  if (func.getArgAttr(index, "kiln.input"))
    return "input";
  if (func.getArgAttr(index, "kiln.output"))
    return "output";
  if (func.getArgAttr(index, "kiln.arena"))
    return "arena";
  return "";
}

std::string nameOf(func::FuncOp func, unsigned index) {
  return func.getArgAttr(index, "kiln.arena") ? "arena"
                                              : getArgumentName(func, index);
}

StringRef dtypeOf(Type element) {
  if (element.isF32())
    return "f32";
  if (element.isF64())
    return "f64";
  if (element.isInteger(64))
    return "i64";
  if (element.isInteger(8))
    return "u8";
  return "";
}

struct DescribeProgramPass
    : kiln::impl::KilnDescribeProgramBase<DescribeProgramPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<const StepEntry *, func::FuncOp>> steps;
    for (const StepEntry &step : kProgramSteps)
      if (auto func = module.lookupSymbol<func::FuncOp>(step.function))
        steps.push_back({&step, func});
    if (steps.empty()) {
      module.emitError("kiln-describe-program needs a step: train_step and "
                       "eval_step (kiln-build-train-step makes them) or "
                       "predict_step (kiln-build-predict-step)");
      return signalPassFailure();
    }

    for (auto [step, func] : steps) {
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
        auto buffer = dyn_cast<MemRefType>(type);
        if (!buffer) {
          func.emitError("argument ")
              << i << " of " << func.getName() << " is " << type
              << ", not a buffer; kiln-describe-program runs after "
                 "bufferization";
          return signalPassFailure();
        }
        if (dtypeOf(buffer.getElementType()).empty()) {
          func.emitError("argument ")
              << i << " of " << func.getName() << " holds "
              << buffer.getElementType()
              << ", which no slot can: slots hold f32, f64, i64 or i8";
          return signalPassFailure();
        }
      }
    }

    llvm::json::Array slots;
    llvm::StringMap<int64_t> slotOf;
    int64_t arenaSlot = -1;
    Builder builder(&getContext());
    auto assign = [&](func::FuncOp func) -> SmallVector<int64_t> {
      SmallVector<int64_t> indices;
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
        std::string name = nameOf(func, i);
        auto [it, inserted] = slotOf.try_emplace(name, slots.size());
        indices.push_back(it->second);
        auto type = cast<MemRefType>(func.getArgumentTypes()[i]);
        if (!inserted) {
          // The arena serves every step: it is as large as any needs. So
          // does an input: the training step of `accumulate = k` takes k
          // batches in it, the other steps read its first one.
          llvm::json::Object &shared = *slots[it->second].getAsObject();
          llvm::json::Array &shape = *shared.getArray("shape");
          auto grow = [&](int64_t size) {
            shape[0] = std::max<int64_t>(*shape[0].getAsInteger(), size);
          };
          if (it->second == arenaSlot)
            grow(type.getNumElements());
          else if (roleOf(func, i) == "input" && type.getRank() > 0)
            grow(type.getDimSize(0));
          continue;
        }
        llvm::json::Object slot{{"name", name},
                                {"role", roleOf(func, i).str()},
                                {"dtype", dtypeOf(type.getElementType()).str()},
                                {"shape", llvm::json::Array(type.getShape())}};
        if (Attribute init = func.getArgAttr(i, "kiln.init"))
          slot["init"] = toJson(init);
        if (auto range = func.getArgAttrOfType<IntegerAttr>(i, "kiln.range"))
          slot["range"] = range.getInt();
        if (auto ignored =
                func.getArgAttrOfType<IntegerAttr>(i, "kiln.ignore_index"))
          slot["ignore_index"] = ignored.getInt();
        if (roleOf(func, i) == "arena")
          arenaSlot = slots.size();
        slots.push_back(std::move(slot));
      }
      return indices;
    };

    llvm::json::Object description{{"abi", KILN_ABI_VERSION}};
    for (auto [step, func] : steps) {
      SmallVector<int64_t> indices = assign(func);
      // Kept on the module: the steps' attributes do not survive the
      // conversion to LLVM.
      module->setAttr(slotsAttrName(*step),
                      builder.getDenseI64ArrayAttr(indices));
      auto get = [&](StringRef name) -> int64_t {
        auto attr = func->getAttrOfType<IntegerAttr>(name);
        return attr ? attr.getInt() : 0;
      };
      llvm::json::Object summary{{"flops", get("kiln.flops")},
                                 {"arena_bytes", get("kiln.arena_bytes")},
                                 {"peak_bytes", get("kiln.peak_bytes")},
                                 {"slots", llvm::json::Array(indices)}};
      if (int64_t bytes = get("kiln.bf16_bytes"))
        summary["bf16_bytes"] = bytes;
      // Only a data-parallel training step reduces.
      if (int64_t reduced = get("kiln.reduced_bytes")) {
        summary["reduced_bytes"] = reduced;
        summary["reduced_buckets"] = get("kiln.reduced_buckets");
      }
      description[step->key] = std::move(summary);
    }
    description["slots"] = std::move(slots);
    if (auto model = module->getAttrOfType<StringAttr>("kiln.model"))
      description["model"] = model.str();
    if (Attribute recipe = module->getAttr("kiln.recipe"))
      description["recipe"] = toJson(recipe);
    std::string text;
    llvm::raw_string_ostream(text) << llvm::json::Value(std::move(description));
    module->setAttr("kiln.description", builder.getStringAttr(text));
  }
};

} // namespace
