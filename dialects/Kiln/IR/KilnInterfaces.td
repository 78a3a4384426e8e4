//===- KilnInterfaces.td - Interfaces of the kiln dialect -----------------===//

#ifndef KILN_INTERFACES_TD
#define KILN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def Kiln_DifferentiableOpInterface
    : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An operation that states its own adjoint: how the gradients of its
    results give the gradients of its operands. kiln-autodiff applies these
    local rules, one per op, in reverse order; the rules never look beyond
    their own op.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the gradients of the operands
        whose `needed` entry is true, given the gradients of the results
        (`resultGrads`, one per result, null for a result that does not reach
        the loss). Sets `operandGrads` (one entry per operand, resized by the
        caller and null on entry) and leaves unneeded entries null.
      }],
      "::llvm::LogicalResult", "buildAdjoint",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

def Kiln_TrainingModeOpInterface : OpInterface<"TrainingModeOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An operation that computes something else when a model evaluates or
    predicts than when it trains, as a PyTorch module in `eval()` mode:
    dropout passes its input through, batch normalization uses its running
    statistics. The steps that evaluate and predict build each such op's
    evaluation form instead of cloning it.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, what this op computes in
        evaluation, and maps each of its results in `mapping` to the value
        that replaces it. Its operands are already mapped.
      }],
      "void", "buildEvaluationForm",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::IRMapping &":$mapping)>
  ];
}

def Kiln_RandomOpInterface : OpInterface<"RandomOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An operation that draws the runtime's counter-based random numbers
    (`kiln/Random.h`): element `i` of site `seed` at step `counter` is
    `kiln_uniform(seed, counter, i)`, the same on every backend. Sites that
    must draw apart have different seeds; an op and its adjoint that must
    draw the same numbers share theirs. Gradient accumulation moves the
    seeds of each micro-batch past every site.
  }];
  let methods = [
    InterfaceMethod<"The site's seed.", "uint64_t", "getSeed">,
    InterfaceMethod<"Sets the site's seed.", "void", "setSeed",
                    (ins "uint64_t":$seed)>,
    InterfaceMethod<[{
        The scalar step counter it draws at, or null when the op draws
        nothing (attention without dropout).
      }],
      "::mlir::Value", "getCounter">
  ];
}

def Kiln_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An operation of value semantics whose every result element is a function
    of the operands' elements at the same index, the operands broadcast to
    the result's shape as in NumPy. The op states that function itself, on
    scalars, with arith and math ops: the linalg lowering makes it the body
    of a linalg.generic (which is how the GPU path computes the op too), and
    the CPU layout assignment lets blocked tensors through an op whose
    operands all have its result's type, since any order of the elements
    then serves.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, one element of the result
        from `operands`, one element of each operand, in order, and returns
        it. It creates arith and math ops, so their dialects must be loaded.
      }],
      "::mlir::Value", "buildScalar",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$operands)>
  ];
}

def Kiln_ParameterUpdateOpInterface
    : OpInterface<"ParameterUpdateOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    An optimizer's update of one parameter from its gradient (kiln.sgd,
    kiln.adam, kiln.adamw): passes that change what reaches the update, such
    as kiln-reduce-gradients, find the gradient through it.
  }];
  let methods = [
    InterfaceMethod<"The operand that holds the parameter's gradient.",
      "::mlir::OpOperand &", "getGradientOperand", (ins), [{
        return $_op.getGradMutable();
      }]>
  ];
}

def Kiln_FlopCountOpInterface : OpInterface<"FlopCountOpInterface"> {
  let cppNamespace = "::kiln";
  let description = [{
    The floating-point operations that an operation performs, counting a
    multiply-add as two and any other elementwise operation (including a
    transcendental function) as one, as benchmarks usually count.
    kiln-annotate-steps sums them over each step, for `kilnc --stats` and
    the achieved GFLOP/s of the benchmarks. Every kiln op has it; by
    default an op performs one operation per element of its largest
    floating-point operand, and heavy ops count their own.
  }];
  let methods = [
    InterfaceMethod<[{
        The floating-point operations of one execution of the op, 0 where a
        shape it depends on is dynamic.
      }],
      "int64_t", "countFlops", (ins), /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return ::kiln::countElementFlops($_op.getOperation());
      }]>
  ];
}

#endif // KILN_INTERFACES_TD
