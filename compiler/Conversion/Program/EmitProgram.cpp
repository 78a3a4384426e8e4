//===- EmitProgram.cpp - kiln_compiled_program and the frame entries ------===//

#include "Conversion/Passes.h"
#include "Program/Steps.h"
#include "kiln/kiln_runtime.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace kiln {
#define GEN_PASS_DEF_KILNEMITPROGRAM
#include "Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Defines `entry(void **frame)`, which calls `step` with the pointers of
/// the slots `slots` (one per argument of the step).
LogicalResult defineEntry(ModuleOp module, StringRef stepName,
                          ArrayRef<int64_t> slots, StringRef entryName) {
  MLIRContext *context = module.getContext();
  auto step = module.lookupSymbol<LLVM::LLVMFuncOp>(stepName);
  if (!step)
    return module.emitError("kiln-emit-program needs the LLVM function ")
           << stepName;
  if (step.getNumArguments() != slots.size())
    return step.emitError("takes ") << step.getNumArguments()
                                    << " arguments but has " << slots.size()
                                    << " slots; convert it with bare pointers";
  Type ptr = LLVM::LLVMPointerType::get(context);
  auto entry = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
  auto func = LLVM::LLVMFuncOp::create(
      entry, entryName,
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {ptr}));
  auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), func.addEntryBlock(entry));
  Value frame = func.getArgument(0);
  SmallVector<Value> args;
  for (int64_t slot : slots) {
    Value address = LLVM::GEPOp::create(
        b, ptr, ptr, frame, ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot)});
    args.push_back(LLVM::LoadOp::create(b, ptr, address));
  }
  LLVM::CallOp::create(b, step, args);
  LLVM::ReturnOp::create(b, ValueRange());
  return success();
}

/// Removes the kiln attributes that described the steps' arguments: they
/// have served, and LLVM IR has no place for them.
void stripKilnAttributes(LLVM::LLVMFuncOp func) {
  auto isKiln = [](NamedAttribute attr) {
    return attr.getName().getValue().starts_with("kiln.");
  };
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    SmallVector<NamedAttribute> kept;
    for (NamedAttribute attr : func.getArgAttrDict(i) ? func.getArgAttrDict(i).getValue() : ArrayRef<NamedAttribute>())
      if (!isKiln(attr))
        kept.push_back(attr);
    func.setArgAttrs(i, kept);
  }
  SmallVector<StringAttr> names;
  for (NamedAttribute attr : func->getAttrs())
    if (isKiln(attr))
      names.push_back(attr.getName());
  for (StringAttr name : names)
    func->removeAttr(name);
}

struct EmitProgramPass : kiln::impl::KilnEmitProgramBase<EmitProgramPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      stripKilnAttributes(func);
      // Only kiln_compiled_program is the object file's business outside.
      if (!func.isExternal())
        func.setLinkage(LLVM::Linkage::Internal);
    }
    auto description = module->getAttrOfType<StringAttr>("kiln.description");
    if (!description) {
      module.emitError("kiln-emit-program needs the description that "
                       "kiln-describe-program records");
      return signalPassFailure();
    }
    if (!module.lookupSymbol<LLVM::LLVMFuncOp>("kiln_init")) {
      module.emitError("kiln-emit-program needs the LLVM function kiln_init "
                       "(kiln-lower-runtime-calls makes it)");
      return signalPassFailure();
    }
    // The steps that kiln-describe-program found; the others stay null.
    SmallVector<const StepEntry *> present;
    for (const StepEntry &step : kProgramSteps) {
      auto slots = module->getAttrOfType<DenseI64ArrayAttr>(slotsAttrName(step));
      if (!slots)
        continue;
      if (failed(defineEntry(module, step.function, slots.asArrayRef(),
                             step.entry)))
        return signalPassFailure();
      present.push_back(&step);
    }

    Type ptr = LLVM::LLVMPointerType::get(context);
    Type i32 = IntegerType::get(context, 32);
    auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
    std::string text = description.str();
    text.push_back('\0');
    LLVM::GlobalOp::create(b, LLVM::LLVMArrayType::get(IntegerType::get(context, 8),
                                                       text.size()),
                           /*isConstant=*/true, LLVM::Linkage::Internal,
                           "kiln_description", b.getStringAttr(text));

    // struct kiln_program {abi_version, description, init, the steps}.
    SmallVector<Type> fieldTypes = {i32, ptr, ptr};
    fieldTypes.append(std::size(kProgramSteps), ptr);
    auto programType = LLVM::LLVMStructType::getLiteral(context, fieldTypes);
    auto program = LLVM::GlobalOp::create(b, programType, /*isConstant=*/true,
                                          LLVM::Linkage::External,
                                          "kiln_compiled_program", Attribute());
    auto init = ImplicitLocOpBuilder::atBlockEnd(
        module.getLoc(), b.createBlock(&program.getInitializerRegion()));
    Value value = LLVM::UndefOp::create(init, programType);
    SmallVector<Value> fields = {
        LLVM::ConstantOp::create(init, i32, init.getI32IntegerAttr(KILN_ABI_VERSION)),
        LLVM::AddressOfOp::create(init, ptr, "kiln_description"),
        LLVM::AddressOfOp::create(init, ptr, "kiln_init")};
    for (const StepEntry &step : kProgramSteps)
      fields.push_back(llvm::is_contained(present, &step)
                           ? Value(LLVM::AddressOfOp::create(init, ptr, step.entry))
                           : Value(LLVM::ZeroOp::create(init, ptr)));
    for (auto [i, field] : llvm::enumerate(fields))
      value = LLVM::InsertValueOp::create(init, value, field,
                                          ArrayRef<int64_t>{static_cast<int64_t>(i)});
    LLVM::ReturnOp::create(init, value);
  }
};

} // namespace
