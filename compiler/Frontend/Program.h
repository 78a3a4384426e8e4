//===- Program.h - A checked Kiln file: a typed dataflow graph ------------===//
//
// Sema turns the syntax tree into a Program: blocks are expanded, functions
// inlined, layers resolved to named parameters with PyTorch's shapes, and
// every value has a static type. Each node is one operation of the kiln
// dialect (its OpKind generated from ODS, with attributes named as in ODS),
// so MLIRGen translates node by node. Result types come from the ops' shape
// rules (Kiln/Rules), the same ones the dialect's verifier applies.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_PROGRAM_H
#define KILN_FRONTEND_PROGRAM_H

#include "Frontend/RecipeCall.h"
#include "Kiln/Rules/OpKind.h"
#include "Kiln/Rules/TensorType.h"

#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kiln {

/// An attribute of a node. Integer arrays are DenseI64ArrayAttr; the i32
/// arrays are operand segment sizes.
using AttrValue = std::variant<bool, int64_t, double, std::string,
                               std::vector<int64_t>, std::vector<int32_t>>;

using ValueId = int;

/// One kiln operation.
struct Node {
  OpKind op;
  std::vector<ValueId> operands;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  std::vector<ValueId> results;
  llvm::SMLoc loc;
};

/// How a parameter starts training, as PyTorch initializes the same layer.
struct Init {
  enum class Kind { Uniform, Normal, Zeros, Ones };
  Kind kind = Kind::Zeros;
  double a = 0; // Uniform: lower bound; Normal: mean.
  double b = 0; // Uniform: upper bound; Normal: standard deviation.
};

struct Parameter {
  std::string name; // As in a PyTorch state_dict: "conv1.weight".
  ValueId value;
  Init init;
  llvm::SMLoc loc; // The layer's declaration.
};

/// State that a layer keeps besides its parameters, PyTorch's buffers: batch
/// norm's running statistics. The model takes each one and returns its new
/// value, which training writes back.
struct Buffer {
  std::string name; // As in a PyTorch state_dict: "bn1.running_mean".
  ValueId value;    // What the model starts from.
  ValueId update;   // What it ends with.
  Init init;
  llvm::SMLoc loc; // The layer's declaration.
};

struct Input {
  std::string name;
  ValueId value;
  llvm::SMLoc loc;
};

struct Output {
  std::string name;
  ValueId value;
};

/// The arithmetic of a training recipe's heavy ops (convolutions, matrix
/// products, recurrent layers, attention): float32, or torch.autocast's mixed
/// precision with bfloat16 (kiln-autocast).
enum class Precision { F32, BF16 };

/// "f32" or "bf16", as the train section and kilnc --precision write it.
inline const char *precisionName(Precision precision) {
  return precision == Precision::BF16 ? "bf16" : "f32";
}

/// The precision that `name` writes, if any.
inline std::optional<Precision> parsePrecision(llvm::StringRef name) {
  for (Precision precision : {Precision::F32, Precision::BF16})
    if (name == precisionName(precision))
      return precision;
  return std::nullopt;
}

/// The train section, with every default filled in.
struct Recipe {
  struct Optimizer {
    std::string kind; // sgd, adam, adamw.
    double lr = 0, momentum = 0, dampening = 0, weightDecay = 0;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    bool nesterov = false;
  };
  struct Schedule {
    std::string kind = "constant"; // constant, step, cosine.
    int64_t every = 0, warmup = 0;
    double gamma = 0.1, minLr = 0;
  };

  /// The data source, and the image transforms in the order written.
  RecipeCall data;
  std::vector<RecipeCall> transforms;
  /// Drop the last partial batch of each epoch (PyTorch's drop_last); when
  /// false it is completed with the epoch's first examples.
  bool dropLast = true;
  Optimizer optimizer;
  Schedule schedule;
  int64_t batchSize = 0, epochs = 1, seed = 0;
  /// Micro-batches of batchSize examples per update: their gradients are
  /// averaged, as k backward passes of loss / k in PyTorch.
  int64_t accumulate = 1;
  /// Data-parallel processes, each taking batchSize examples (per
  /// micro-batch) of a global batch of batchSize * ranks.
  int64_t ranks = 1;
  std::optional<double> clipGradNorm;
  std::string metric; // "accuracy", or empty.
  Precision precision = Precision::F32;
};

struct Program {
  std::string modelName;
  llvm::SMLoc modelLoc;
  std::vector<TensorType> valueTypes; // Indexed by ValueId.
  std::vector<Input> inputs;
  /// In the order of the layers' declarations, as in a PyTorch state_dict.
  std::vector<Parameter> params;
  /// In the order of the layers' declarations.
  std::vector<Buffer> buffers;
  /// The scalar i64 step counter that dropout draws from, when it is used.
  std::optional<ValueId> step;
  std::vector<Node> nodes;
  /// "loss" and "correct" (from the train section), then the model's outputs.
  std::vector<Output> outputs;
  std::optional<Recipe> recipe;

  const TensorType &typeOf(ValueId value) const { return valueTypes[value]; }
};

} // namespace kiln

#endif // KILN_FRONTEND_PROGRAM_H
