//===- KilnBase.td - The kiln dialect, its types and base op classes ------===//

#ifndef KILN_BASE_TD
#define KILN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "Kiln/IR/KilnInterfaces.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::kiln";
  let summary = "Tensor-level operations of neural networks and their training";
  let description = [{
    The `kiln` dialect is the first MLIR form of a model written in the Kiln
    language. Its operations have value (tensor) semantics and are pure: a
    training step is a function from parameters, optimizer state and a batch to
    the updated parameters and state, with no hidden mutation.

    Conventions, shared by every operation:

    * Tensors are ranked. Dimensions are static in every program that the
      compiler lowers; dynamic dimensions (`?`) are accepted so that hand-written
      IR can leave them to `kiln-shape-inference`.
    * Floating-point operations take `f32` or `f64`; labels and token ids are
      `i64`. All floating-point operands of one operation share one element type.
    * Layouts follow PyTorch: images are NCHW, convolution weights OIHW, `linear`
      weights are `[out, in]`, sequences are batch-first, LSTM gates are ordered
      i, f, g, o and GRU gates r, z, n. Weights therefore move between a
      PyTorch `state_dict` and a Kiln program without conversion.
    * Axes may be negative, counting from the last dimension as in PyTorch.
    * Result types are inferred from operands and attributes
      (`InferTypeOpInterface`); a declared result type must be compatible with
      the inferred one.
  }];
  let hasConstantMaterializer = 1;
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Kiln_Float : AnyTypeOf<[F32, F64], "32-bit or 64-bit float">;
def Kiln_FloatTensor : RankedTensorOf<[F32, F64]>;
def Kiln_IndexTensor : RankedTensorOf<[I64]>;
def Kiln_AnyTensor : RankedTensorOf<[F32, F64, I64]>;
def Kiln_FloatScalar : 0DTensorOf<[F32, F64]>;
def Kiln_IndexScalar : 0DTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Attribute constraints
//===----------------------------------------------------------------------===//

def Kiln_Pair : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;
// The data-parallel ranks whose batches a batch normalization's statistics
// are over (PyTorch's SyncBatchNorm); 1: this process's batch alone.
def Kiln_StatisticsRanks
    : DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>, "1">;
class Kiln_DefaultPair<string value>
    : ConfinedAttr<DefaultValuedAttr<DenseI64ArrayAttr, value>,
                   [DenseArrayCount<2>]>;
def Kiln_OptionalPair
    : ConfinedAttr<OptionalAttr<DenseI64ArrayAttr>, [DenseArrayCount<2>]>;

def Kiln_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "how gelu evaluates the normal distribution function", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"tanh", 1>
    ]> {
  let cppNamespace = "::kiln";
  let genSpecializedAttr = 0;
}
def Kiln_GeluApproximationAttr
    : EnumAttr<Kiln_Dialect, Kiln_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Base operation classes
//===----------------------------------------------------------------------===//

// An op whose adjoint rule lives in KilnAdjoints.cpp or KilnNNAdjoints.cpp,
// or, for an elementwise op, in KilnElementwise.cpp.
def Kiln_Differentiable
    : DeclareOpInterfaceMethods<Kiln_DifferentiableOpInterface>;

// An elementwise op, whose scalar body lives in KilnElementwise.cpp.
def Kiln_Elementwise : DeclareOpInterfaceMethods<Kiln_ElementwiseOpInterface>;

// An op that counts its floating-point operations itself, in KilnFlops.cpp,
// rather than one per element.
def Kiln_CountsFlops
    : DeclareOpInterfaceMethods<Kiln_FlopCountOpInterface, ["countFlops"]>;

// An op that the CPU runtime implements (kiln-lower-to-runtime lowers it to
// a kiln.runtime_call); the CPU pipeline decomposes only the other
// composite ops.
def Kiln_RuntimeKernel : NativeOpTrait<"RuntimeKernel"> {
  let cppNamespace = "::kiln";
}

// An op whose products run on bfloat16 values under mixed precision (the
// recipe's precision = bf16), as torch.autocast's lower-precision ops on the
// CPU: kiln-autocast rounds its float operands and results.
def Kiln_LowerPrecisionCompute : NativeOpTrait<"LowerPrecisionCompute"> {
  let cppNamespace = "::kiln";
}

// An op each of whose result elements is an operand element or zero, and
// whose adjoint likewise only selects elements of the result gradient
// (reshapes, transposes, slices, concatenation, relu): rounding commutes with
// it both ways, so kiln-autocast does not round again what it gives of
// rounded values.
def Kiln_SelectsElements : NativeOpTrait<"SelectsElements"> {
  let cppNamespace = "::kiln";
}

// Every op counts its floating-point operations: by default, or itself.
class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic,
         !listconcat(traits, [Pure],
                     !if(!eq(!size(!listremove(traits, [Kiln_CountsFlops])),
                             !size(traits)),
                         [Kiln_FlopCountOpInterface], []))>;

// An operation whose result types follow from its operands and attributes.
// The inference also checks the operands, so it is the operation's verifier.
// Declared result types may be less or more static than the inferred ones, as
// long as they are compatible: that is what lets kiln-shape-inference refine.
// The verifier runs the inference first so that a broken rule reports its own
// diagnostic, alone.
class Kiln_InferredOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptorWithIsCompatible])> {
  let hasVerifier = 1;
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange inferred,
                                            ::mlir::TypeRange declared) {
      return ::kiln::areCompatibleTensorTypes(inferred, declared);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::kiln::verifyInferredResultTypes(*this);
    }
  }];
}

// An elementwise function of one floating-point tensor.
class Kiln_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType,
                                             InferTypeOpInterface,
                                             Kiln_Differentiable,
                                             Kiln_Elementwise])> {
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

// An elementwise function of two floating-point tensors that broadcast
// against each other as in NumPy and PyTorch.
class Kiln_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Kiln_InferredOp<mnemonic, !listconcat(traits, [Kiln_Differentiable,
                                                     Kiln_Elementwise])> {
  let arguments = (ins Kiln_FloatTensor:$lhs, Kiln_FloatTensor:$rhs);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

// A reduction over a set of axes.
class Kiln_ReductionOp<string mnemonic, list<Trait> traits = []>
    : Kiln_InferredOp<mnemonic, !listconcat(traits, [Kiln_Differentiable])> {
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "false">:$keep_dims);
  let results = (outs Kiln_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
}

#endif // KILN_BASE_TD
