//===- StageInput.cpp - kilnc's printed stages, read back -----------------===//
//
// `kilnc FILE.mlir` continues the pipeline from what FILE holds, so that IR
// changed by hand or by a pass of one's own becomes a trainer. Everything
// the later stages need travels in the IR itself: the recipe (kiln.recipe),
// the parameters, inputs and outputs (argument and result attributes), and,
// from the linalg stage on, the slots (kiln.*_slots).
//
//===----------------------------------------------------------------------===//

#include "StageInput.h"

#include "Kiln/IR/KilnOps.h"
#include "Kiln/Transforms/Autodiff.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

std::optional<kiln::Stage> kiln::detectStage(ModuleOp module,
                                             std::string &why) {
  bool anyFunction = false, steps = false, gradient = false;
  for (auto func : module.getOps<func::FuncOp>()) {
    anyFunction = true;
    steps |= isStepFunction(func);
    gradient |= func->hasAttr("kiln.gradient_of");
  }
  if (!anyFunction) {
    if (!module.getOps<LLVM::LLVMFuncOp>().empty())
      return Stage::LLVMDialect;
    why = "it has no function";
    return std::nullopt;
  }
  if (!steps) {
    if (!module->hasAttr("kiln.model")) {
      why = "it has neither the steps (train_step, eval_step, predict_step) "
            "nor a model (the module attribute kiln.model)";
      return std::nullopt;
    }
    return gradient ? Stage::KilnGrad : Stage::Kiln;
  }
  // The linalg stage has lowered every kiln op but the calls to the runtime.
  WalkResult kilnOp = module.walk([](Operation *op) {
    return isa<KilnDialect>(op->getDialect()) && !isa<RuntimeCallOp>(op)
               ? WalkResult::interrupt()
               : WalkResult::advance();
  });
  return kilnOp.wasInterrupted() ? Stage::TrainStep : Stage::Linalg;
}

std::optional<kiln::StageInput> kiln::readStageInput(llvm::SourceMgr &sourceMgr,
                                                     MLIRContext &context,
                                                     std::optional<Stage> from,
                                                     llvm::StringRef name) {
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return std::nullopt;
  if (from)
    return StageInput{std::move(module), *from};
  std::string why;
  std::optional<Stage> stage = detectStage(*module, why);
  if (!stage) {
    llvm::WithColor::error(llvm::errs(), "kilnc")
        << name << " is not a stage that kilnc prints: " << why
        << "; give the output of kilnc -emit=kiln, kiln-grad, train-step, "
           "linalg or llvm-dialect, or name its stage with --from\n";
    return std::nullopt;
  }
  return StageInput{std::move(module), *stage};
}
