//===- Description.h - A compiled program's description and its slots ----===//
//
// kilnc describes the program it compiles in JSON (see kiln_runtime.h): its
// model, its device, one slot per buffer that its steps take, and which
// slots each step takes. Description is that, checked once at start so that
// the rest of the runtime can trust it; SlotBuffers holds the buffers and the
// frame that points at them. The trainer (train/Program.h) adds the recipe;
// an inference library needs no more than this.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_PROGRAM_DESCRIPTION_H
#define KILN_RUNTIME_PROGRAM_DESCRIPTION_H

#include "io/Safetensors.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::program {

/// What a slot holds. Buffers are layers' state besides their parameters
/// (PyTorch's buffers: batch norm's running statistics), which training
/// updates in place and checkpoints keep.
enum class Role { Param, State, Buffer, Step, TotalSteps, Input, Output, Arena };

/// "param", "state", "buffer", "step", "total_steps", "input", "output" or
/// "arena", as descriptions spell them.
const char *roleName(Role role);

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

/// The initial distribution of a parameter or a buffer.
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
  /// Parameters and buffers only.
  Distribution init;
  /// i64 inputs: their values lie in [0, range); 0 when unbounded.
  int64_t range = 0;
  /// i64 inputs with a range: a value outside it that is accepted too (the
  /// label that the loss ignores).
  std::optional<int64_t> ignoreIndex;

  int64_t numElements() const;
  size_t numBytes() const { return numElements() * elementSize(type); }
};

/// One entry point: the slot of each argument, in order.
struct Step {
  std::vector<size_t> slots;
  int64_t flops = 0;
};

/// A checked description: every slot has a known role and type and a
/// non-negative shape that fits in memory, parameters are f32 and have
/// unique names, and every step names existing slots.
struct Description {
  std::string model;
  Target target = Target::Cpu;
  /// GPU programs: the kernels' architecture ("sm_90") and format ("ptx" or
  /// "cubin").
  std::string gpuArch, gpuFormat;
  std::vector<Slot> slots;
  /// The steps that the program has: a trainer has the three, an inference
  /// library only `predict`.
  std::optional<Step> train, eval, predict;
  /// Parameter and buffer slots, in slot order.
  std::vector<size_t> params, buffers;

  /// Parses and checks `text`; throws Error naming the first problem.
  static Description parse(const std::string &text);

  /// The slot called `name` with `role`, or null.
  const Slot *find(const std::string &name, Role role) const;
  /// The slots of `step` with `role`, in the step's order.
  std::vector<size_t> slotsOf(const Step &step, Role role) const;
};

/// One zero-filled, 64-byte aligned buffer per slot, and the frame of
/// pointers to them that the steps take. A GPU program's arena lives only
/// on the device, and a slot in `external` is given by the caller (an
/// inference library's inputs and outputs): their host buffers are empty.
class SlotBuffers {
public:
  explicit SlotBuffers(const Description &program,
                       const std::vector<size_t> &external = {});

  void **frame() { return pointers.data(); }
  template <typename T> T *get(size_t slot) const {
    return static_cast<T *>(pointers[slot]);
  }
  /// Points slot `slot` of the frame at `data`.
  void set(size_t slot, void *data) { pointers[slot] = data; }

private:
  struct Free {
    void operator()(void *buffer) const { std::free(buffer); }
  };
  std::vector<std::unique_ptr<void, Free>> buffers;
  std::vector<void *> pointers;
};

} // namespace kiln::program

#endif // KILN_RUNTIME_PROGRAM_DESCRIPTION_H
