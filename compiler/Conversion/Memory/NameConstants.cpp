//===- NameConstants.cpp - Constant globals named in the order of use -----===//
//
// One-Shot Bufferize turns each constant tensor into a memref.global, named
// after its type (`__constant_2xi64`, then `__constant_2xi64_0`, ...) in the
// order it bufferizes the functions. That order comes from a DenseMap of
// functions (getFuncOpsOrderedByCalls, MLIR 22), so it changes from run to
// run: the same input bufferized twice names and places the globals
// differently. This pass renames and places them by their first use in the
// module, so that a pipeline's output depends on its input alone (and
// kiln-opt reproduces kilnc's stages exactly).
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace kiln {
#define GEN_PASS_DEF_KILNNAMECONSTANTS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// `name` without One-Shot Bufferize's uniquing suffix (`_0`, `_1`, ...).
StringRef baseName(StringRef name) {
  StringRef base = name.rtrim("0123456789");
  return base.size() < name.size() && base.ends_with("_") ? base.drop_back()
                                                          : name;
}

struct NameConstantsPass
    : kiln::impl::KilnNameConstantsBase<NameConstantsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<memref::GlobalOp> globals;
    llvm::DenseSet<Operation *> seen;
    module.walk([&](memref::GetGlobalOp get) {
      auto global = symbols.lookup<memref::GlobalOp>(get.getName());
      if (global && global.getConstant() && global.isPrivate() &&
          seen.insert(global).second)
        globals.push_back(global);
    });
    SmallVector<std::string> bases;
    for (memref::GlobalOp global : globals)
      bases.push_back(baseName(global.getSymName()).str());
    // Temporary names first, so that no new name meets an old one.
    for (auto [i, global] : llvm::enumerate(globals))
      if (failed(symbols.rename(global, ("__kiln_renaming_" + Twine(i)).str())))
        return signalPassFailure();
    llvm::StringMap<unsigned> uses;
    for (auto [global, base] : llvm::zip(globals, bases)) {
      std::string name = base;
      unsigned use = uses[name]++;
      if (use > 0)
        name += "_" + std::to_string(use - 1);
      if (failed(symbols.rename(global, name)))
        return signalPassFailure();
    }
    // The first used first, at the top of the module.
    for (memref::GlobalOp global : llvm::reverse(globals))
      global->moveBefore(&module.getBody()->front());
  }
};

} // namespace
