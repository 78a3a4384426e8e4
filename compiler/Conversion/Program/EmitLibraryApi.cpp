//===- EmitLibraryApi.cpp - The exported functions of an inference library ===//
//
// An inference library exports only its model's API (LibraryApi.h): each
// function passes the library's own kiln_compiled_program, now internal, to
// the runtime's kiln_model_* (kiln_runtime.h), so that an application may
// link the libraries of several models.
//
//===----------------------------------------------------------------------===//

#include "Conversion/Passes.h"
#include "Program/LibraryApi.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln {
#define GEN_PASS_DEF_KILNEMITLIBRARYAPI
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

struct EmitLibraryApiPass
    : kiln::impl::KilnEmitLibraryApiBase<EmitLibraryApiPass> {
  using KilnEmitLibraryApiBase::KilnEmitLibraryApiBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto description = module->getAttrOfType<StringAttr>("kiln.description");
    auto program = module.lookupSymbol<LLVM::GlobalOp>("kiln_compiled_program");
    if (!description || !program) {
      module.emitError("kiln-emit-library-api needs kiln_compiled_program "
                       "and its description (kiln-emit-program makes them)");
      return signalPassFailure();
    }
    llvm::Expected<LibraryApi> api =
        LibraryApi::fromDescription(description.getValue(), prefix);
    if (!api) {
      module.emitError("kiln-emit-library-api: ")
          << llvm::toString(api.takeError());
      return signalPassFailure();
    }
    for (StringRef suffix : {"load", "run", "last_error", "free"})
      if (module.lookupSymbol(api->function(suffix))) {
        module.emitError("kiln-emit-library-api: the module already has a "
                         "symbol '")
            << api->function(suffix) << "'; choose another prefix";
        return signalPassFailure();
      }
    program.setLinkage(LLVM::Linkage::Internal);

    MLIRContext *context = &getContext();
    Type ptr = LLVM::LLVMPointerType::get(context);
    Type i32 = IntegerType::get(context, 32);
    Type voidType = LLVM::LLVMVoidType::get(context);
    auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
    auto declare = [&](StringRef name, Type result, ArrayRef<Type> args) {
      if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
        return existing;
      return LLVM::LLVMFuncOp::create(b, name,
                                      LLVM::LLVMFunctionType::get(result, args));
    };
    auto load = declare("kiln_model_load", ptr, {ptr, ptr, i32});
    auto run = declare("kiln_model_run", i32, {ptr, ptr});
    auto lastError = declare("kiln_model_last_error", ptr, {});
    auto free = declare("kiln_model_free", voidType, {ptr});

    // Defines `name(args)` whose body `build` writes from its arguments.
    auto define = [&](StringRef name, Type result, ArrayRef<Type> args,
                      function_ref<Value(ImplicitLocOpBuilder &, ValueRange)>
                          build) {
      auto func = LLVM::LLVMFuncOp::create(
          b, name, LLVM::LLVMFunctionType::get(result, args));
      auto body = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(),
                                                   func.addEntryBlock(b));
      Value returned = build(body, func.getArguments());
      LLVM::ReturnOp::create(body, returned ? ValueRange(returned)
                                            : ValueRange());
    };

    define(api->function("load"), ptr, {ptr, i32},
           [&](ImplicitLocOpBuilder &body, ValueRange args) {
             Value self = LLVM::AddressOfOp::create(body, ptr, program.getSymName());
             return LLVM::CallOp::create(body, load,
                                         ValueRange{self, args[0], args[1]})
                 .getResult();
           });
    size_t tensors = api->inputs.size() + api->outputs.size();
    SmallVector<Type> runArgs(1 + tensors, ptr);
    define(api->function("run"), i32, runArgs,
           [&](ImplicitLocOpBuilder &body, ValueRange args) {
             // The tensors' pointers, in an array on the stack.
             Type array = LLVM::LLVMArrayType::get(ptr, tensors);
             Value one = LLVM::ConstantOp::create(body, body.getI64Type(),
                                                  body.getI64IntegerAttr(1));
             Value io = LLVM::AllocaOp::create(body, ptr, array, one);
             for (size_t i = 0; i < tensors; ++i) {
               Value address = LLVM::GEPOp::create(
                   body, ptr, ptr, io,
                   ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
               LLVM::StoreOp::create(body, args[1 + i], address);
             }
             return LLVM::CallOp::create(body, run, ValueRange{args[0], io})
                 .getResult();
           });
    define(api->function("last_error"), ptr, {},
           [&](ImplicitLocOpBuilder &body, ValueRange) {
             return LLVM::CallOp::create(body, lastError, ValueRange())
                 .getResult();
           });
    define(api->function("free"), voidType, {ptr},
           [&](ImplicitLocOpBuilder &body, ValueRange args) {
             LLVM::CallOp::create(body, free, ValueRange{args[0]});
             return Value();
           });
  }
};

} // namespace
