//===- MergeModules.cpp - Every kernel in one gpu.module ------------------===//

#include "GPU/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNMERGEGPUMODULES
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

struct MergeGPUModulesPass
    : kiln::impl::KilnMergeGPUModulesBase<MergeGPUModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto modules = llvm::to_vector(module.getOps<gpu::GPUModuleOp>());
    if (modules.empty())
      return;
    // Outlining names each module uniquely, but not the kernels inside: a
    // kernel takes its module's name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp gpuModule : modules)
      for (auto kernel : llvm::make_early_inc_range(
               gpuModule.getBody()->getOps<gpu::GPUFuncOp>())) {
        renamed[{gpuModule.getSymNameAttr(), SymbolTable::getSymbolName(kernel)}] =
            gpuModule.getSymNameAttr();
        SymbolTable::setSymbolName(kernel, gpuModule.getSymNameAttr());
      }
    gpu::GPUModuleOp merged = modules.front();
    SymbolTable table(merged);
    for (gpu::GPUModuleOp other : llvm::drop_begin(modules)) {
      for (Operation &op : llvm::make_early_inc_range(*other.getBody())) {
        // The outlining copies a global that several kernels read into
        // each of their modules: one copy is enough.
        auto name = op.getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
        if (name && table.lookup(name)) {
          if (isa<gpu::GPUFuncOp>(op)) {
            op.emitError("two kernels are named ") << name;
            return signalPassFailure();
          }
          continue;
        }
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        if (name)
          table.insert(&op);
      }
    }
    auto mergedName = merged.getSymNameAttr();
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr kernel =
          renamed.lookup({launch.getKernelModuleName(), launch.getKernelName()});
      launch.setKernelAttr(SymbolRefAttr::get(
          mergedName, {FlatSymbolRefAttr::get(kernel)}));
    });
    for (gpu::GPUModuleOp other : llvm::drop_begin(modules))
      other.erase();
  }
};

} // namespace
