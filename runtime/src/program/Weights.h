//===- Weights.h - A program's parameters from a safetensors file ---------===//

#ifndef KILN_RUNTIME_PROGRAM_WEIGHTS_H
#define KILN_RUNTIME_PROGRAM_WEIGHTS_H

#include <map>
#include <string>
#include <vector>

namespace kiln::program {

struct Description;
class SlotBuffers;

/// What a weights file held besides the parameters.
struct LoadedWeights {
  /// The tensors that are neither parameters nor buffers of the program (a
  /// checkpoint's optimizer state), which are ignored.
  std::vector<std::string> ignored;
  /// The file's metadata: a Kiln checkpoint's "model", "data.classes", ...
  std::map<std::string, std::string> metadata;
};

/// Sets every parameter and buffer of `program` from the tensor of the same
/// name in the safetensors file `path` (f32, or f64 rounded to f32; i64 for
/// integer buffers): a Kiln checkpoint or a PyTorch state_dict. Throws Error
/// naming the tensor when one is missing or has another shape or kind, and
/// the model that a Kiln checkpoint of another model was written by.
LoadedWeights loadParameters(const std::string &path,
                             const Description &program, SlotBuffers &buffers);

} // namespace kiln::program

#endif // KILN_RUNTIME_PROGRAM_WEIGHTS_H
