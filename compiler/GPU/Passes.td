//===- Passes.td - The passes of the GPU backend --------------------------===//

#ifndef KILN_GPU_PASSES_TD
#define KILN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnDecompose : Pass<"kiln-decompose", "mlir::ModuleOp"> {
  let summary = "Rewrite composite kiln ops as primitive kiln ops";
  let description = [{
    A backend without a library of heavy primitives (the GPU backend) needs
    every op as loops. Composite ops become the primitive kiln ops they are
    defined by, so that only the matrix product, convolutions, pooling and
    elementwise arithmetic remain to be lowered:

    - `softmax`, `log_softmax` and their gradients: reductions along the axis
      (maximum subtracted first) and elementwise arithmetic;
    - `layer_norm` and its gradient: means over the normalized dimensions;
    - `linear`: a matrix product of the rows of the input (one matrix, so one
      kernel for all leading dimensions), plus the bias;
    - `attention` and its gradient: matrix products, a softmax and, when
      causal, an additive mask of -infinity; the gradient recomputes the
      attention weights;
    - `lstm`, `gru` and their gradients, unrolled over the static sequence
      length: one matrix product of all steps' inputs per layer, then per
      step a matrix product with the hidden state and the gate arithmetic.
      The gradient recomputes the forward with the very same ops, which CSE
      merges with the forward's, then runs back through time and forms the
      weight gradients as matrix products over all steps;
    - `batch_norm` and its gradient: means over every dimension but the
      channel, and the running statistics' update.

    Each op's rewrite is attached to the op (linalg's AggregatedOpInterface,
    compiler/GPU/Decompose). With `keep-runtime-kernels` (the CPU pipeline),
    the ops that the CPU runtime implements (trait `RuntimeKernel`) stay
    whole for kiln-lower-to-runtime; the others, such as `gru`, become
    primitive ops, of which the matrix products then go to the runtime.

    The result computes what the composite op computes (checked against the
    reference evaluator), in a different order of floating-point operations.
  }];
  let options = [
    Option<"keepRuntimeKernels", "keep-runtime-kernels", "bool", "false",
           "Leave whole the ops that the CPU runtime implements">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnLowerHeavyToLinalg
    : Pass<"kiln-lower-heavy-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower matmul, convolutions, pooling and embedding gradients to linalg";
  let description = [{
    The ops that the CPU backend sends to oneDNN become linalg.generic ops on
    tensors, which every backend can compile:

    - `matmul`: a contraction over the reduction dimension, with broadcast
      batch dimensions and transposed operands read through the indexing
      maps (nothing is materialized);
    - `conv2d`, `conv2d_backward_input`, `conv2d_backward_weight`: one
      generic each over the result and the summed dimensions; padding,
      stride and dilation are index arithmetic in the body, which reads the
      input with a bounds check instead of padding it;
    - `max_pool2d`, `avg_pool2d` and their gradients: windows read the same
      way; the max-pooling gradient gives each input position the gradients
      of the windows whose first maximum it is (PyTorch's rule);
    - `embedding_backward`: a reduction over positions for each row of the
      table, instead of a sequential scatter.

    Run it before `kiln-lower-to-linalg`, which lowers everything else.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"
  ];
}

def KilnDeviceScalars : Pass<"kiln-device-scalars", "mlir::ModuleOp"> {
  let summary = "Move scalar computations of the steps into linalg ops";
  let description = [{
    On a device, the host must not read or write the buffers of a step. The
    linalg lowering computes some scalars outside linalg ops (the learning
    rate, the gradient norm, a loss read with `tensor.extract`). This pass,
    on tensors, turns each `tensor.from_elements` of such a scalar into a
    rank-0 `linalg.generic` that computes it, and gives each `linalg.generic`
    whose body uses such a scalar the tensors it is read from as operands,
    so that after bufferization every memory access is inside a linalg op.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnMapToGPU : Pass<"kiln-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Map each linalg op of the steps to a GPU kernel";
  let description = [{
    Runs on buffers, after the memory plan. Every linalg op (and memref.copy)
    of a function becomes one `gpu.launch`:

    - without reductions: one thread per element of the iteration space,
      linearized (the innermost dimension fastest, so that neighbouring
      threads touch neighbouring addresses), 256 threads per block;
    - with reductions and enough results to fill the GPU: one thread per
      result, which accumulates in a register over the reduced dimensions;
    - with few results and long reductions (a loss, a bias gradient, a
      weight gradient of a convolution): one block per result, whose threads
      accumulate strided partial results combined with warp shuffles
      (`gpu.all_reduce`), when the reduction's combiner is recognized;
    - matrix products (contractions whose operands are read through
      projected permutations): tiles of 64 x 64 results per block of 256
      threads, each computing 4 x 4 results from 64 x 16 slices of both
      operands staged in shared memory.

    Ops that touch memory and remain outside a kernel are errors: the host
    must not dereference device buffers.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

def KilnApproximateMath : Pass<"kiln-approximate-math"> {
  let summary = "Replace math functions by polynomial approximations";
  let description = [{
    The NVVM lowering calls libdevice (`__nv_expf`, `__nv_sqrtf`, ...), which
    comes with the CUDA toolkit. Where the toolkit is missing, kernels
    compute square roots, floors, ceilings, absolute values, copysign and
    fused multiply-adds with their PTX instruction as inline assembly (the
    NVVM lowering rejects the LLVM intrinsics of those), and the other
    math functions
    (exp, log, tanh, erf, pow, cos, ...) with MLIR's polynomial
    approximations and expansions, in plain arithmetic. Those exist in f32:
    f64 functions (scalars of learning-rate schedules) are computed in f32.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def KilnMergeGPUModules : Pass<"kiln-merge-gpu-modules", "mlir::ModuleOp"> {
  let summary = "Put every outlined kernel into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one gpu.module per kernel. One module gives
    one binary: one PTX text to print, one ptxas run, one module for the
    runtime to load. Kernel names are unique already.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def KilnLowerGPULaunches : Pass<"kiln-lower-gpu-launches", "mlir::ModuleOp"> {
  let summary = "Turn kernel launches into calls of the Kiln CUDA runtime";
  let description = [{
    Runs after `gpu-module-to-binary` and `gpu-to-llvm`. The binary (a cubin,
    or PTX text that the driver compiles) becomes a constant global; a new
    `kiln_init` function registers it and the names of its kernels with
    `kiln_cuda_load_module`. Each `gpu.launch_func` becomes
    `kiln_cuda_launch(kernel, grid, block, shared bytes, arguments)`, where
    the arguments are an array of pointers to the kernel's parameters, as
    `cuLaunchKernel` takes them. The program's description gains
    `"device": "cuda"`, the architecture and the format of the binary.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // KILN_GPU_PASSES_TD
