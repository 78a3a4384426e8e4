//===- Program.h - The description of a compiled program, and its slots ---===//
//
// kilnc describes the program it compiles in JSON (see kiln_runtime.h): the
// recipe, and one slot per buffer that the steps take. Program is that
// description, checked once at start so that the rest of the trainer can
// trust it; SlotBuffers holds the buffers and the frame that points at them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_PROGRAM_H
#define KILN_RUNTIME_TRAIN_PROGRAM_H

#include "data/Source.h"
#include "data/Transforms.h"
#include "io/Safetensors.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

enum class Role { Param, State, Step, TotalSteps, Input, Output, Arena };

enum class ElementType { F32, F64, I64, U8 };

/// Where the steps run: the CPU, or a GPU (kilnc --target=cuda).
enum class Target { Cpu, Cuda };

/// "f32", "f64", "i64" or "u8", as descriptions spell them.
const char *elementTypeName(ElementType type);
size_t elementSize(ElementType type);
/// The tensor file type of `type`; U8 (the arena) has none.
std::optional<io::DType> toDType(ElementType type);
ElementType fromDType(io::DType dtype);

/// "[64, 1, 28, 28]".
std::string formatShape(const std::vector<int64_t> &shape);

/// The initial distribution of a parameter.
struct Distribution {
  enum class Kind { Uniform, Normal, Zeros, Ones };
  Kind kind = Kind::Zeros;
  /// Uniform: low and high. Normal: mean and standard deviation.
  double first = 0, second = 0;
};

struct Slot {
  std::string name;
  Role role = Role::Arena;
  ElementType type = ElementType::U8;
  std::vector<int64_t> shape;
  /// Parameters only.
  Distribution init;
  /// i64 inputs: their values lie in [0, range); 0 when unbounded.
  int64_t range = 0;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * elementSize(type); }
};

/// The recipe's data source: its name and arguments, as kilnc wrote them
/// (every default filled in), for the loader registered under that name.
struct DataSource {
  /// "fashion_mnist", "csv", ...
  std::string kind;
  data::Arguments args;
  /// The source as the recipe writes it, for --help.
  std::string summary;
};

struct Recipe {
  int64_t batchSize = 0;
  int64_t epochs = 1;
  uint64_t seed = 0;
  DataSource data;
  /// The image transforms, in the order written, by input index.
  std::vector<data::Transform> transforms;
  /// Drop the last partial batch of each epoch, or complete it with the
  /// epoch's first examples.
  bool dropLast = true;
  /// How --help shows the rest, e.g. "sgd(lr: 0.01, momentum: 0.9)"; empty
  /// when the description has none.
  std::string optimizer, schedule, clipGradNorm, metric;
};

/// A checked description: every slot has a known role and type and a
/// non-negative shape, the roles the trainer needs are there once, inputs
/// and per-example outputs lead with the batch size.
struct Program {
  std::string model;
  Recipe recipe;
  Target target = Target::Cpu;
  /// GPU programs: the kernels' architecture ("sm_90") and format ("ptx" or
  /// "cubin").
  std::string gpuArch, gpuFormat;
  std::vector<Slot> slots;

  /// Slot indices by role, in slot order.
  std::vector<size_t> params, state, inputs;
  size_t step = 0, totalSteps = 0, loss = 0, lr = 0;
  std::optional<size_t> arena;
  /// Present when the recipe has a metric.
  std::optional<size_t> correct, predictions;
  /// The input that predictions are scored against when there is a metric:
  /// the last i64 input of shape [batch] (the labels, which every data
  /// source gives last).
  std::optional<size_t> labels;

  /// Parses and checks `description`; throws Error naming the first problem.
  static Program parse(const std::string &description);

  /// The slot called `name` with `role`, or null.
  const Slot *find(const std::string &name, Role role) const;
};

/// One zero-filled, 64-byte aligned buffer per slot, and the frame of
/// pointers to them that the steps take. A GPU program's arena lives only
/// on the device: its host buffer is empty.
class SlotBuffers {
public:
  explicit SlotBuffers(const Program &program);

  void **frame() { return pointers.data(); }
  template <typename T> T *get(size_t slot) const {
    return static_cast<T *>(pointers[slot]);
  }

private:
  struct Free {
    void operator()(void *buffer) const { std::free(buffer); }
  };
  std::vector<std::unique_ptr<void, Free>> buffers;
  std::vector<void *> pointers;
};

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_PROGRAM_H
