//===- LowerLaunches.cpp - Kernel launches as calls of the CUDA runtime ---===//
//
// The runtime owns the CUDA driver (loaded with dlopen) and the stream that
// the steps run on, so generated code needs only two entry points: one that
// loads the kernels' binary once, from kiln_init, and one that launches a
// kernel by number with its parameters, as cuLaunchKernel takes them.
//
//===----------------------------------------------------------------------===//

#include "GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/Support/FormatVariadic.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERGPULAUNCHES
#include "GPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The bytes of a parameter slot: every kernel parameter is a pointer, an
/// integer or a float of at most 8 bytes.
constexpr unsigned kSlotBytes = 8;

/// "ptx" or "cubin", as the description and the runtime name the formats.
FailureOr<StringRef> formatName(gpu::CompilationTarget format) {
  switch (format) {
  case gpu::CompilationTarget::Assembly:
    return StringRef("ptx");
  case gpu::CompilationTarget::Binary:
    return StringRef("cubin");
  default:
    return failure();
  }
}

LLVM::LLVMFuncOp declare(ModuleOp module, StringRef name,
                         LLVM::LLVMFunctionType type) {
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
  return LLVM::LLVMFuncOp::create(b, name, type);
}

LLVM::GlobalOp bytesGlobal(ModuleOp module, StringRef name, StringRef bytes) {
  auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
  auto type = LLVM::LLVMArrayType::get(IntegerType::get(b.getContext(), 8),
                                       bytes.size());
  auto global = LLVM::GlobalOp::create(b, type, /*isConstant=*/true,
                                       LLVM::Linkage::Internal, name,
                                       b.getStringAttr(bytes));
  global.setAlignment(16);
  return global;
}

struct LowerGPULaunchesPass
    : kiln::impl::KilnLowerGPULaunchesBase<LowerGPULaunchesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto binaries = llvm::to_vector(module.getOps<gpu::BinaryOp>());
    if (binaries.size() != 1) {
      module.emitError("kiln-lower-gpu-launches needs exactly one gpu.binary "
                       "(run kiln-merge-gpu-modules and gpu-module-to-binary); "
                       "found ")
          << binaries.size();
      return signalPassFailure();
    }
    gpu::BinaryOp binary = binaries.front();
    auto object = cast<gpu::ObjectAttr>(binary.getObjectsAttr()[0]);
    FailureOr<StringRef> format = formatName(object.getFormat());
    if (failed(format)) {
      binary.emitError("the kernels must be PTX (format=isa) or a cubin "
                       "(format=bin)");
      return signalPassFailure();
    }

    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp launch) { launches.push_back(launch); });
    llvm::MapVector<StringAttr, int32_t> kernels;
    for (gpu::LaunchFuncOp launch : launches) {
      if (!launch.getAsyncDependencies().empty() || launch.getAsyncToken()) {
        launch.emitError("kernel launches run in program order on the "
                         "runtime's stream; async tokens are not supported");
        return signalPassFailure();
      }
      kernels.insert({launch.getKernelName(), kernels.size()});
    }

    Type ptr = LLVM::LLVMPointerType::get(context);
    Type i32 = IntegerType::get(context, 32), i64 = IntegerType::get(context, 64);
    Type voidType = LLVM::LLVMVoidType::get(context);
    auto load = declare(module, "kiln_cuda_load_module",
                        LLVM::LLVMFunctionType::get(voidType,
                                                    {ptr, ptr, i32, ptr}));
    auto launchFn = declare(
        module, "kiln_cuda_launch",
        LLVM::LLVMFunctionType::get(voidType, {i32, i64, i64, i64, i64, i64,
                                               i64, i32, ptr}));

    // The image: PTX must end with a NUL for the driver; a cubin does not
    // mind one.
    std::string image = object.getObject().getValue().str();
    image.push_back('\0');
    bytesGlobal(module, "kiln_gpu_image", image);
    std::string names;
    for (auto &entry : kernels)
      names += entry.first.str() + '\0';
    bytesGlobal(module, "kiln_gpu_kernel_names", names);
    std::string formatText = format->str() + '\0';
    bytesGlobal(module, "kiln_gpu_format", formatText);

    if (module.lookupSymbol("kiln_init")) {
      module.emitError("kiln-lower-gpu-launches defines kiln_init, which "
                       "exists already");
      return signalPassFailure();
    }
    {
      auto b = ImplicitLocOpBuilder::atBlockEnd(module.getLoc(), module.getBody());
      auto init = LLVM::LLVMFuncOp::create(
          b, "kiln_init", LLVM::LLVMFunctionType::get(voidType, {}));
      b.setInsertionPointToStart(init.addEntryBlock(b));
      Value args[] = {
          LLVM::AddressOfOp::create(b, ptr, "kiln_gpu_image"),
          LLVM::AddressOfOp::create(b, ptr, "kiln_gpu_format"),
          LLVM::ConstantOp::create(
              b, i32, b.getI32IntegerAttr(static_cast<int32_t>(kernels.size()))),
          LLVM::AddressOfOp::create(b, ptr, "kiln_gpu_kernel_names")};
      LLVM::CallOp::create(b, load, args);
      LLVM::ReturnOp::create(b, ValueRange());
    }

    // Each function's launches share one array of parameter slots and one
    // array of pointers to them: the driver copies the parameters when a
    // kernel is launched (or captured), so the next launch may reuse them.
    llvm::MapVector<LLVM::LLVMFuncOp, SmallVector<gpu::LaunchFuncOp>> byFunc;
    for (gpu::LaunchFuncOp launch : launches)
      byFunc[launch->getParentOfType<LLVM::LLVMFuncOp>()].push_back(launch);
    for (auto &[func, funcLaunches] : byFunc) {
      if (!func) {
        funcLaunches.front().emitError(
            "kiln-lower-gpu-launches runs after the host is in the LLVM "
            "dialect (gpu-to-llvm)");
        return signalPassFailure();
      }
      size_t most = 1;
      for (gpu::LaunchFuncOp launch : funcLaunches)
        most = std::max(most, launch.getKernelOperands().size());
      auto entry = ImplicitLocOpBuilder::atBlockBegin(func.getLoc(),
                                                      &func.getBody().front());
      Value count = LLVM::ConstantOp::create(entry, i64,
                                             entry.getI64IntegerAttr(most));
      Value slots = LLVM::AllocaOp::create(entry, ptr, i64, count, kSlotBytes);
      Value pointers = LLVM::AllocaOp::create(entry, ptr, ptr, count, kSlotBytes);
      for (gpu::LaunchFuncOp launch : funcLaunches)
        if (failed(lower(launch, launchFn, kernels[launch.getKernelName()],
                         slots, pointers)))
          return signalPassFailure();
    }

    if (failed(describe(module, object, *format, kernels.size())))
      return signalPassFailure();
    binary.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }

  LogicalResult lower(gpu::LaunchFuncOp launch, LLVM::LLVMFuncOp launchFn,
                      int32_t kernel, Value slots, Value pointers) {
    MLIRContext *context = launch.getContext();
    Type ptr = LLVM::LLVMPointerType::get(context);
    Type i32 = IntegerType::get(context, 32), i64 = IntegerType::get(context, 64);
    ImplicitLocOpBuilder b(launch.getLoc(), launch);
    for (auto [i, arg] : llvm::enumerate(launch.getKernelOperands())) {
      Type type = arg.getType();
      bool fits = isa<LLVM::LLVMPointerType>(type) ||
                  (type.isIntOrFloat() &&
                   type.getIntOrFloatBitWidth() <= 8 * kSlotBytes);
      if (!fits)
        return launch.emitError("kernel parameter #")
               << i << " has type " << type
               << "; kernel parameters must be pointers or scalars (run "
                  "gpu-to-llvm first)";
      auto at = [&](Value base, Type element) {
        return LLVM::GEPOp::create(
            b, ptr, element, base,
            ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      };
      Value slot = at(slots, i64);
      LLVM::StoreOp::create(b, arg, slot);
      LLVM::StoreOp::create(b, slot, at(pointers, ptr));
    }
    auto size = [&](Value value) -> Value {
      if (value.getType() == i64)
        return value;
      return LLVM::ZExtOp::create(b, i64, value);
    };
    Value shared = launch.getDynamicSharedMemorySize();
    if (!shared)
      shared = LLVM::ConstantOp::create(b, i32, b.getI32IntegerAttr(0));
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
    Value args[] = {LLVM::ConstantOp::create(b, i32, b.getI32IntegerAttr(kernel)),
                    size(grid.x),  size(grid.y),  size(grid.z),
                    size(block.x), size(block.y), size(block.z),
                    shared,        pointers};
    LLVM::CallOp::create(b, launchFn, args);
    launch.erase();
    return success();
  }

  /// Adds the device, the architecture, the format and the number of
  /// kernels to the program's description.
  LogicalResult describe(ModuleOp module, gpu::ObjectAttr object,
                         StringRef format, size_t kernels) {
    auto description = module->getAttrOfType<StringAttr>("kiln.description");
    StringRef text = description ? description.getValue() : StringRef();
    size_t end = text.rfind('}');
    if (end == StringRef::npos) {
      module.emitError("kiln-lower-gpu-launches needs the description that "
                       "kiln-describe-program records");
      return failure();
    }
    std::string chip;
    if (auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
      chip = target.getChip().str();
    std::string fields = llvm::formatv(
        ", \"device\": \"cuda\", \"gpu_arch\": \"{0}\", \"gpu_format\": "
        "\"{1}\", \"kernels\": {2}",
        chip, format, kernels);
    std::string updated =
        (text.take_front(end) + fields + text.drop_front(end)).str();
    module->setAttr("kiln.description", StringAttr::get(module.getContext(), updated));
    return success();
  }
};

} // namespace
