//===- LowerParallelCalls.cpp - Calls of parallel bodies on the threads ---===//
//
// kiln_rt_parallel_for runs body(context, begin, end) on pieces of a range;
// the bodies that kiln-outline-parallel-loops made take (begin, end, the
// values they capture). Once the bodies take LLVM types (buffers as bare
// pointers), each gets a task, `<body>_task(context, begin, end)`, that reads
// the captured values from a struct in `context`, and each call of a body
// becomes a store of its arguments into such a struct on the caller's stack
// and a call of kiln_rt_parallel_for.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERPARALLELCALLS
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {

/// The struct of all the arguments of `body`: begin, end, the captures.
LLVM::LLVMStructType contextType(LLVM::LLVMFuncOp body) {
  return LLVM::LLVMStructType::getLiteral(body.getContext(),
                                          body.getFunctionType().getParams());
}

/// The address of field `field` of the struct of `type` at `base`.
Value fieldAddress(ImplicitLocOpBuilder &b, LLVM::LLVMStructType type,
                   Value base, unsigned field) {
  return LLVM::GEPOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext()), type, base,
      ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(field)});
}

/// Defines `<body>_task(context, begin, end)`, which calls `body` on
/// [start + begin, start + end) with the captures of the context, where
/// start is the context's begin.
LLVM::LLVMFuncOp defineTask(LLVM::LLVMFuncOp body) {
  MLIRContext *context = body.getContext();
  Type ptr = LLVM::LLVMPointerType::get(context);
  Type i64 = IntegerType::get(context, 64);
  auto module = body->getParentOfType<ModuleOp>();
  auto top = ImplicitLocOpBuilder::atBlockEnd(body.getLoc(), module.getBody());
  auto task = LLVM::LLVMFuncOp::create(
      top, (body.getName() + "_task").str(),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                  {ptr, i64, i64}));
  task.setLinkage(LLVM::Linkage::Internal);
  auto b =
      ImplicitLocOpBuilder::atBlockEnd(body.getLoc(), task.addEntryBlock(top));
  LLVM::LLVMStructType type = contextType(body);
  SmallVector<Value> args;
  for (auto [i, field] : llvm::enumerate(type.getBody()))
    args.push_back(LLVM::LoadOp::create(
        b, field, fieldAddress(b, type, task.getArgument(0), i)));
  Value start = args[0];
  args[0] = LLVM::AddOp::create(b, start, task.getArgument(1));
  args[1] = LLVM::AddOp::create(b, start, task.getArgument(2));
  LLVM::CallOp::create(b, body, args);
  LLVM::ReturnOp::create(b, ValueRange());
  return task;
}

struct LowerParallelCallsPass
    : kiln::impl::KilnLowerParallelCallsBase<LowerParallelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    Type ptr = LLVM::LLVMPointerType::get(context);
    Type i64 = IntegerType::get(context, 64);

    SmallVector<LLVM::LLVMFuncOp> bodies;
    for (auto body : module.getOps<LLVM::LLVMFuncOp>()) {
      if (!body->hasAttr("kiln.parallel_body"))
        continue;
      auto params = body.getFunctionType().getParams();
      if (params.size() < 2 || params[0] != i64 || params[1] != i64) {
        body.emitError("a parallel body takes (i64 begin, i64 end, ...); "
                       "lower it to the LLVM dialect first");
        return signalPassFailure();
      }
      bodies.push_back(body);
    }
    if (bodies.empty())
      return;
    // The calls from the steps, before the tasks add theirs.
    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      std::optional<StringRef> callee = call.getCallee();
      if (callee && module.lookupSymbol<LLVM::LLVMFuncOp>(*callee)->hasAttr(
                        "kiln.parallel_body"))
        calls.push_back(call);
    });
    llvm::DenseMap<StringAttr, LLVM::LLVMFuncOp> tasks;
    for (LLVM::LLVMFuncOp body : bodies)
      tasks[body.getSymNameAttr()] = defineTask(body);

    auto declare = OpBuilder::atBlockEnd(module.getBody());
    auto parallelFor =
        module.lookupSymbol<LLVM::LLVMFuncOp>("kiln_rt_parallel_for");
    if (!parallelFor)
      parallelFor = LLVM::LLVMFuncOp::create(
          declare, module.getLoc(), "kiln_rt_parallel_for",
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context),
                                      {ptr, ptr, i64}));

    for (LLVM::CallOp call : calls) {
      auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(*call.getCallee());
      LLVM::LLVMStructType type = contextType(body);
      auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
      auto entry = ImplicitLocOpBuilder::atBlockBegin(
          call.getLoc(), &caller.getBody().front());
      Value one =
          LLVM::ConstantOp::create(entry, i64, entry.getI64IntegerAttr(1));
      Value frame = LLVM::AllocaOp::create(entry, ptr, type, one);
      ImplicitLocOpBuilder b(call.getLoc(), call);
      for (auto [i, arg] : llvm::enumerate(call.getArgOperands()))
        LLVM::StoreOp::create(b, arg, fieldAddress(b, type, frame, i));
      Value count = LLVM::SubOp::create(b, call.getArgOperands()[1],
                                        call.getArgOperands()[0]);
      Value task = LLVM::AddressOfOp::create(
          b, ptr, tasks.lookup(body.getSymNameAttr()).getSymName());
      LLVM::CallOp::create(b, parallelFor, ValueRange{task, frame, count});
      call.erase();
    }
  }
};

} // namespace
