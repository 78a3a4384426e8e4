//===- LowerRuntimeCalls.cpp - Runtime calls as calls of the C runtime ----===//

#include "Conversion/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERRUNTIMECALLS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Declares `name` as an external C function of `type`, once.
func::FuncOp declare(ModuleOp module, StringRef name, FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto func = func::FuncOp::create(builder, module.getLoc(), name, type);
  func.setPrivate();
  return func;
}

/// The address of a buffer's first element, as an LLVM pointer.
Value pointerOf(ImplicitLocOpBuilder &b, Value memref) {
  Value index = memref::ExtractAlignedPointerAsIndexOp::create(b, memref);
  Value integer = arith::IndexCastOp::create(b, b.getI64Type(), index);
  return LLVM::IntToPtrOp::create(b, LLVM::LLVMPointerType::get(b.getContext()),
                                  integer);
}

struct LowerRuntimeCallsPass
    : kiln::impl::KilnLowerRuntimeCallsBase<LowerRuntimeCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    Type i32 = IntegerType::get(context, 32), i64 = IntegerType::get(context, 64);
    Type ptr = LLVM::LLVMPointerType::get(context);

    SmallVector<RuntimeCallOp> calls;
    module.walk([&](RuntimeCallOp call) { calls.push_back(call); });
    for (RuntimeCallOp call : calls)
      if (call.getNumResults() != 0) {
        call.emitOpError("must be bufferized before it becomes a C call");
        return signalPassFailure();
      }

    func::FuncOp create = declare(
        module, "kiln_rt_create", FunctionType::get(context, {i64, i32, i32, ptr}, {}));
    func::FuncOp execute = declare(module, "kiln_rt_execute",
                                   FunctionType::get(context, {i64, ptr}, {}));

    // kiln_init creates every site, in site order.
    OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
    auto init = func::FuncOp::create(moduleBuilder, module.getLoc(), "kiln_init",
                                     FunctionType::get(context, {}, {}));
    auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), init.addEntryBlock());
    llvm::SmallDenseSet<int64_t> created;
    SmallVector<RuntimeCallOp> bySite(calls);
    llvm::stable_sort(bySite, [](RuntimeCallOp x, RuntimeCallOp y) {
      return x.getSite() < y.getSite();
    });
    for (RuntimeCallOp call : bySite) {
      int64_t site = call.getSite();
      if (!created.insert(site).second)
        continue;
      ArrayRef<int64_t> config = call.getConfig();
      auto arrayType = LLVM::LLVMArrayType::get(i64, std::max<size_t>(config.size(), 1));
      std::string name = "kiln_config_" + std::to_string(site);
      {
        OpBuilder::InsertionGuard guard(moduleBuilder);
        moduleBuilder.setInsertionPointToStart(module.getBody());
        SmallVector<int64_t> values(config);
        if (values.empty())
          values.push_back(0);
        LLVM::GlobalOp::create(
            moduleBuilder, module.getLoc(), arrayType, /*isConstant=*/true,
            LLVM::Linkage::Internal, name,
            DenseElementsAttr::get(
                RankedTensorType::get({static_cast<int64_t>(values.size())}, i64),
                ArrayRef<int64_t>(values)));
      }
      Value address = LLVM::AddressOfOp::create(b, ptr, name);
      func::CallOp::create(
          b, create,
          ValueRange{arith::ConstantOp::create(b, b.getI64IntegerAttr(site)),
                     arith::ConstantOp::create(
                         b, b.getI32IntegerAttr(static_cast<int32_t>(call.getKind()))),
                     arith::ConstantOp::create(
                         b, b.getI32IntegerAttr(static_cast<int32_t>(config.size()))),
                     address});
    }
    func::ReturnOp::create(b);

    // Each call passes its buffers in an array on the stack of its step.
    for (RuntimeCallOp call : calls) {
      auto func = call->getParentOfType<func::FuncOp>();
      auto entry = ImplicitLocOpBuilder::atBlockBegin(call.getLoc(),
                                                      &func.getBody().front());
      int64_t count = call.getInputs().size() + call.getOutputs().size();
      Value size = LLVM::ConstantOp::create(entry, i64, entry.getI64IntegerAttr(count));
      Value args = LLVM::AllocaOp::create(entry, ptr, ptr, size);
      ImplicitLocOpBuilder at(call.getLoc(), call);
      for (auto [i, operand] : llvm::enumerate(call->getOperands())) {
        Value slot = LLVM::GEPOp::create(
            at, ptr, ptr, args, ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
        LLVM::StoreOp::create(at, pointerOf(at, operand), slot);
      }
      func::CallOp::create(
          at, execute,
          ValueRange{arith::ConstantOp::create(at, at.getI64IntegerAttr(call.getSite())),
                     args});
      call.erase();
    }
  }
};

} // namespace
