//===- CountOps.cpp - An out-of-tree pass for kilnc and kiln-opt ----------===//
//
// A pass plugin: kilnc --load-pass-plugin=libKilnExamplePlugin.so
// --insert-pass=after:kiln-autodiff:func.func(example-count-ops) runs it on
// the way to a trainer, kiln-opt --load-pass-plugin=... runs it on any
// stage. It records on each function how many ops of each kiln kind it
// holds, as `example.kiln_ops`, which the printed stages show.
//
// It builds against an installed Kiln (find_package(Kiln): Kiln's dialect
// headers and MLIR's); the dialect's code is the tool's, which exports it.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Config/llvm-config.h"

#include <algorithm>

using namespace mlir;

namespace {

struct CountKilnOps
    : public PassWrapper<CountKilnOps, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CountKilnOps)

  StringRef getArgument() const final { return "example-count-ops"; }
  StringRef getName() const final { return "CountKilnOps"; }
  StringRef getDescription() const final {
    return "Record on each function how many ops of each kiln kind it holds "
           "(example.kiln_ops)";
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    llvm::StringMap<int64_t> counts;
    func.walk([&](Operation *op) {
      if (isa_and_nonnull<kiln::KilnDialect>(op->getDialect()))
        ++counts[op->getName().getStringRef()];
    });
    Builder builder(&getContext());
    SmallVector<NamedAttribute> entries;
    for (const auto &entry : counts)
      entries.push_back(builder.getNamedAttr(
          entry.getKey(), builder.getI64IntegerAttr(entry.getValue())));
    std::sort(entries.begin(), entries.end(),
              [](const NamedAttribute &a, const NamedAttribute &b) {
                return a.getName().strref() < b.getName().strref();
              });
    func->setAttr("example.kiln_ops", builder.getDictionaryAttr(entries));
  }
};

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KilnExamplePlugin", LLVM_VERSION_STRING,
          [] { PassRegistration<CountKilnOps>(); }};
}
