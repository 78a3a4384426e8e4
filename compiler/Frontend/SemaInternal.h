//===- SemaInternal.h - The elaborator shared by the Sema*.cpp files ------===//
//
// Sema is an abstract interpreter: it evaluates the model's forward on types
// instead of data. Compile-time values (numbers, strings, lists, layers,
// functions) are computed outright; tensor values become nodes of the
// Program being built. The first error stops it, so that no message is the
// echo of another.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_SEMAINTERNAL_H
#define KILN_FRONTEND_SEMAINTERNAL_H

#include "Frontend/DataSources.h"
#include "Frontend/Sema.h"
#include "Kiln/Rules/Shapes.h"

#include "llvm/ADT/StringMap.h"

#include <array>
#include <functional>
#include <map>

namespace kiln::sema {

struct LayerInstance;
struct BuiltinFunction;

/// What an expression evaluates to.
struct Value {
  enum class Kind { Tensor, Integer, Real, String, Bool, List, Tuple, Layer,
                    Builtin, Function, Block };
  Kind kind = Kind::Integer;
  ValueId tensor = -1;
  int64_t integer = 0;
  double real = 0;
  bool boolean = false;
  std::string string;
  std::vector<Value> elements; // List, Tuple.
  LayerInstance *layer = nullptr;
  const BuiltinFunction *builtin = nullptr;
  const FnDecl *function = nullptr;
  const BlockDecl *block = nullptr;

  static Value ofTensor(ValueId id) { return make(Kind::Tensor, &Value::tensor, id); }
  /// The tensor an emitChecked made; absent after its error.
  static std::optional<Value> ofEmitted(std::optional<ValueId> id) {
    return id ? std::optional<Value>(ofTensor(*id)) : std::nullopt;
  }
  static Value ofInteger(int64_t v) { return make(Kind::Integer, &Value::integer, v); }
  static Value ofReal(double v) { return make(Kind::Real, &Value::real, v); }
  static Value ofBool(bool v) { return make(Kind::Bool, &Value::boolean, v); }
  static Value ofString(std::string v) { return make(Kind::String, &Value::string, std::move(v)); }
  static Value ofList(std::vector<Value> v) { return make(Kind::List, &Value::elements, std::move(v)); }
  static Value ofTuple(std::vector<Value> v) { return make(Kind::Tuple, &Value::elements, std::move(v)); }
  static Value ofLayer(LayerInstance *l) { return make(Kind::Layer, &Value::layer, l); }
  static Value ofBuiltin(const BuiltinFunction *f) { return make(Kind::Builtin, &Value::builtin, f); }
  static Value ofFunction(const FnDecl *f) { return make(Kind::Function, &Value::function, f); }
  static Value ofBlock(const BlockDecl *b) { return make(Kind::Block, &Value::block, b); }

  bool isNumber() const { return kind == Kind::Integer || kind == Kind::Real; }
  double number() const { return kind == Kind::Integer ? integer : real; }

private:
  template <typename Field, typename T>
  static Value make(Kind kind, Field Value::*field, T &&value) {
    Value v;
    v.kind = kind;
    v.*field = std::forward<T>(value);
    return v;
  }
};

/// A layer of the model, or of a block instance: its configuration, and its
/// parameters once its first call has fixed their shapes.
struct LayerInstance {
  enum class Kind { Conv1D, Conv2D, ConvTranspose2D, Linear, Embedding,
                    LayerNorm, BatchNorm, LSTM, GRU, MultiheadAttention,
                    Block, Repeat };
  Kind kind;
  std::string path;  // Prefix of its parameter names: "encoder.layers.0".
  llvm::SMLoc loc;   // Its declaration.
  unsigned ordinal;  // Declaration order, which orders the parameters.

  // Configuration of the built-in kinds.
  int64_t out = 0, num = 0, dim = 0, hidden = 0, layers = 1, heads = 0;
  std::array<int64_t, 2> kernel{}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  std::array<int64_t, 2> outputPadding{0, 0};
  bool bias = true, affine = true;
  double eps = 1e-5, momentum = 0.1, dropout = 0;
  /// How the weights start: one of torch.nn.init's, or empty for PyTorch's
  /// default for the layer.
  std::string init;

  // Fixed by the first call: the input size the parameters were made for.
  bool called = false;
  int64_t inputSize = 0;
  std::vector<ValueId> params;
  /// Indices of its buffers in the program's.
  std::vector<size_t> buffers;

  // Blocks and repeats.
  const BlockDecl *block = nullptr;
  llvm::StringMap<Value> blockArgs;
  std::vector<std::unique_ptr<LayerInstance>> children;
  llvm::StringMap<LayerInstance *> childByName;
};

/// Where a name is looked up: local variables first, then the layers of the
/// enclosing model or block instance, the model's inputs, the block's
/// parameters, constants and built-ins.
struct Scope {
  llvm::StringMap<Value> locals;
  LayerInstance *owner = nullptr;
  const llvm::StringMap<Value> *inputs = nullptr;
};

/// A call's arguments, evaluated and matched to a signature.
struct Arguments {
  llvm::StringRef callee;
  /// The op the built-in builds, for those that build one.
  OpKind op = OpKind::Constant;
  llvm::SMLoc loc;
  std::vector<std::optional<Value>> values; // One per parameter.
  std::vector<llvm::SMLoc> locs;

  bool has(size_t i) const { return values[i].has_value(); }
  const Value &operator[](size_t i) const { return *values[i]; }
  llvm::SMLoc locOf(size_t i) const { return has(i) ? locs[i] : loc; }
};

/// A parameter of a built-in's signature.
struct ParamSpec {
  const char *name;
  bool required;
};

class Elaborator;

/// A built-in function: its signature and what a call produces.
struct BuiltinFunction {
  const char *name;
  std::vector<ParamSpec> params;
  std::optional<Value> (*call)(Elaborator &, const Arguments &);
  /// The kiln op that `call` builds, when it builds one chosen by the table.
  OpKind op = OpKind::Constant;
};

/// The table of built-in functions, by name.
const BuiltinFunction *lookupBuiltin(llvm::StringRef name);

/// Whether `name` is a built-in kind of layer (SemaLayers.cpp's table) or
/// `repeat`.
bool isLayerKind(llvm::StringRef name);

/// PyTorch's initializations, as a parameter's Init.
Init uniform(double bound);
Init normal(double mean, double std);
Init zeros();
Init ones();
/// The initialization of a weight of `shape` ([out, in, kernel...]): the
/// layer's `init`, with torch.nn.init's fans, or `fallback`.
Init weightInit(const LayerInstance &layer, const std::vector<int64_t> &shape,
                Init fallback);
/// Fixes the input size of a layer at its first call and checks later ones.
bool checkInputSize(Elaborator &e, LayerInstance &layer, int64_t size,
                    llvm::SMLoc loc, const char *what);

/// The loss functions (SemaLosses.cpp), built-ins of the table.
namespace losses {
std::optional<Value> crossEntropy(Elaborator &e, const Arguments &args);
std::optional<Value> mseLoss(Elaborator &e, const Arguments &args);
std::optional<Value> l1Loss(Elaborator &e, const Arguments &args);
std::optional<Value> binaryCrossEntropyWithLogits(Elaborator &e,
                                                  const Arguments &args);
} // namespace losses

class Elaborator {
public:
  Elaborator(const Module &module, DiagnosticEngine &diags,
             const SemaOptions &options)
      : module(module), diags(diags), options(options) {}

  std::optional<Program> run();

  //===--------------------------------------------------------------------===//
  // Errors. Each returns nullopt so that callers can `return error(...)`.
  //===--------------------------------------------------------------------===//

  std::nullopt_t error(llvm::SMLoc loc, const llvm::Twine &message);
  std::nullopt_t error(llvm::SMLoc loc, const llvm::Twine &message,
                       const llvm::Twine &hint);
  /// The same, for functions that answer whether they succeeded.
  bool reject(llvm::SMLoc loc, const llvm::Twine &message) {
    error(loc, message);
    return false;
  }
  bool reject(llvm::SMLoc loc, const llvm::Twine &message,
              const llvm::Twine &hint) {
    error(loc, message, hint);
    return false;
  }

  //===--------------------------------------------------------------------===//
  // Building the program.
  //===--------------------------------------------------------------------===//

  const TensorType &typeOf(ValueId value) const {
    return program.valueTypes[value];
  }
  ValueId newValue(TensorType type);
  /// Emits `op` with result types that are known without its rule.
  std::vector<ValueId> emit(OpKind op, std::vector<ValueId> operands,
                            std::vector<std::pair<std::string, AttrValue>> attrs,
                            std::vector<TensorType> results, llvm::SMLoc loc);
  /// Emits `op` with the result types its shape rule gave, or reports the
  /// rule's problem at `loc` as "<what>: <problem>".
  std::optional<ValueId>
  emitChecked(OpKind op, std::vector<ValueId> operands,
              std::vector<std::pair<std::string, AttrValue>> attrs,
              const Checked<TensorType> &result, llvm::SMLoc loc,
              const llvm::Twine &what, const llvm::Twine &hint = "");
  std::optional<std::vector<ValueId>>
  emitChecked(OpKind op, std::vector<ValueId> operands,
              std::vector<std::pair<std::string, AttrValue>> attrs,
              const Checked<std::vector<TensorType>> &results,
              llvm::SMLoc loc, const llvm::Twine &what,
              const llvm::Twine &hint = "");
  ValueId emit1(OpKind op, std::vector<ValueId> operands,
                std::vector<std::pair<std::string, AttrValue>> attrs,
                TensorType result, llvm::SMLoc loc) {
    return emit(op, std::move(operands), std::move(attrs), {std::move(result)},
                loc)[0];
  }
  /// An f32 scalar constant.
  ValueId constant(double value, llvm::SMLoc loc);
  ValueId reshape(ValueId input, std::vector<int64_t> shape, llvm::SMLoc loc);
  ValueId transpose(ValueId input, std::vector<int64_t> permutation,
                    llvm::SMLoc loc);
  /// The step counter that dropout draws from, made on first use.
  ValueId stepCounter(llvm::SMLoc loc);
  /// kiln.attention of `q`, `k` and `v`; with `dropout` > 0, it draws its
  /// mask from the step counter at a site of its own. Reports the rule's
  /// problem as emitChecked does.
  std::optional<ValueId> attention(ValueId q, ValueId k, ValueId v, bool causal,
                                   double dropout, llvm::SMLoc loc,
                                   const llvm::Twine &what,
                                   const llvm::Twine &hint = "");
  /// A buffer of `layer`, named `layer.path + "." + suffix`.
  void newBuffer(LayerInstance &layer, llvm::StringRef suffix, TensorType type,
                 Init init);
  /// A parameter of `layer`, named `layer.path + "." + suffix`.
  ValueId newParam(LayerInstance &layer, llvm::StringRef suffix,
                   std::vector<int64_t> shape, Init init);

  //===--------------------------------------------------------------------===//
  // Checked conversions of compile-time values. `what` names the value in
  // messages: "argument 'kernel' of max_pool2d".
  //===--------------------------------------------------------------------===//

  std::optional<ValueId> asTensor(const Value &value, llvm::SMLoc loc,
                                  const llvm::Twine &what);
  /// A tensor of f32 elements (numbers are not converted).
  std::optional<ValueId> asFloatTensor(const Value &value, llvm::SMLoc loc,
                                       const llvm::Twine &what);
  std::optional<int64_t> asInteger(const Value &value, llvm::SMLoc loc,
                                   const llvm::Twine &what);
  std::optional<int64_t> asPositive(const Value &value, llvm::SMLoc loc,
                                    const llvm::Twine &what);
  std::optional<double> asNumber(const Value &value, llvm::SMLoc loc,
                                 const llvm::Twine &what);
  std::optional<bool> asBool(const Value &value, llvm::SMLoc loc,
                             const llvm::Twine &what);
  std::optional<std::string> asString(const Value &value, llvm::SMLoc loc,
                                      const llvm::Twine &what);
  std::optional<std::vector<int64_t>>
  asIntegerList(const Value &value, llvm::SMLoc loc, const llvm::Twine &what);
  /// One integer for both spatial dimensions, or a list of two.
  std::optional<std::array<int64_t, 2>>
  asPair(const Value &value, llvm::SMLoc loc, const llvm::Twine &what);
  /// `axis` of a tensor of rank `rank`, counted from the front.
  std::optional<int64_t> asAxis(const Value &value, int64_t rank,
                                llvm::SMLoc loc, const llvm::Twine &what);
  /// How a value reads in a message: "f32[64, 10]", "the number 3".
  std::string describe(const Value &value) const;

  //===--------------------------------------------------------------------===//
  // Evaluation.
  //===--------------------------------------------------------------------===//

  std::optional<Value> eval(const Expr &expr, Scope &scope);
  /// Runs a body; returns the values of its `return`.
  std::optional<std::vector<Value>> run(const Body &body, Scope &scope,
                                        llvm::SMLoc endLoc);
  /// Matches evaluated arguments to a signature.
  std::optional<Arguments> bind(llvm::StringRef callee, llvm::SMLoc loc,
                                const std::vector<ParamSpec> &params,
                                const CallExpr &call, Scope &scope);
  /// Elementwise arithmetic and comparisons with broadcasting.
  std::optional<Value> arithmetic(llvm::StringRef op, const Value &lhs,
                                  const Value &rhs, llvm::SMLoc lhsLoc,
                                  llvm::SMLoc rhsLoc, llvm::SMLoc loc);

  // Layers (SemaLayers.cpp).
  std::optional<std::unique_ptr<LayerInstance>>
  declareLayer(const Expr &value, std::string path, llvm::SMLoc loc,
               Scope &scope);
  /// conv1d, conv2d and conv_transpose2d applied to `x`
  /// (SemaConvolutions.cpp).
  std::optional<Value> callConvolution(LayerInstance &layer, ValueId x,
                                       llvm::SMLoc loc);
  /// lstm and gru applied to `x` (SemaRecurrent.cpp).
  std::optional<Value> callRecurrent(LayerInstance &layer, ValueId x,
                                     llvm::SMLoc loc);
  std::optional<Value> callLayer(LayerInstance &layer, const CallExpr &call,
                                 Scope &scope);

  // The train section (SemaTrain.cpp).
  bool elaborateTrain(const TrainDecl &train, Scope &modelScope);
  std::optional<RecipeCall>
  bindRecipeCall(const std::vector<RecipeCallSpec> &table, const Expr &expr,
                 const char *what, const std::vector<InputInfo> &inputs,
                 Scope &scope);
  std::optional<int64_t> findBatchSize();
  /// The ranks that batch norms synchronize their statistics over: those of
  /// the run with sync_batch_norm = true, else 1.
  std::optional<int64_t> findBatchNormRanks();

  const Module &module;
  DiagnosticEngine &diags;
  const SemaOptions &options;
  Program program;
  llvm::StringMap<Value> constants;
  std::optional<int64_t> batchSize;
  int64_t batchNormRanks = 1;
  unsigned nextOrdinal = 0;
  /// The most layers a model may declare, blocks and repeats included.
  static constexpr unsigned kMaxLayers = 1 << 16;
  /// The user functions being expanded, to catch recursion.
  std::vector<const FnDecl *> expanding;

private:
  std::optional<Value> lookup(const Identifier &name, Scope &scope);
  std::optional<Value> evalName(const NameExpr &expr, Scope &scope);
  std::optional<Value> evalMember(const MemberExpr &expr, Scope &scope);
  std::optional<Value> evalCall(const CallExpr &expr, Scope &scope);
  std::optional<Value> evalIndex(const IndexExpr &expr, Scope &scope);
  std::optional<Value> evalBinary(const BinaryExpr &expr, Scope &scope);
  std::optional<Value> evalUnary(const UnaryExpr &expr, Scope &scope);
  std::optional<Value> matmul(const Value &lhs, const Value &rhs,
                              llvm::SMLoc lhsLoc, llvm::SMLoc rhsLoc,
                              llvm::SMLoc loc);
  std::optional<Value> callFunction(const FnDecl &fn, const CallExpr &call,
                                    Scope &scope);
  bool elaborateConstants();
  bool elaborateModel(const ModelDecl &model, Scope &scope);
  /// Sorts the parameters into declaration order.
  void orderParameters();

  /// The declaration ordinal and position within the layer of each param.
  std::map<ValueId, std::pair<unsigned, unsigned>> paramOrder;
};

} // namespace kiln::sema

#endif // KILN_FRONTEND_SEMAINTERNAL_H
