//===- Checkpoint.h - Checkpoints and resuming ----------------------------===//
//
// A checkpoint is a safetensors file: the parameters under their PyTorch
// names and layouts (so PyTorch loads them as a state_dict), the optimizer
// state under its slot names ("fc.weight.momentum_buffer"), and metadata
// that says where the run stands and which program wrote it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_CHECKPOINT_H
#define KILN_RUNTIME_TRAIN_CHECKPOINT_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

struct Program;
using program::SlotBuffers;

/// What a checkpoint records besides tensors: the updates done, and what
/// decides the order of the examples.
struct RunPosition {
  int64_t step = 0;
  uint64_t seed = 0;
  bool shuffle = true;
  /// The data source's metadata ("data.classes", ...): what the model's
  /// outputs mean. A resumed run must read data that agrees.
  std::map<std::string, std::string> data = {};
};

/// For tests only: when this environment variable holds N, the save of
/// update N kills the trainer with SIGKILL once the new checkpoint is
/// complete on disk but before it replaces the old one, so that a test can
/// crash a save at the worst moment without racing it.
inline constexpr const char *kKillDuringSaveVariable =
    "KILN_TEST_KILL_DURING_SAVE";

/// The file that a save writes in full before renaming it over `path`.
std::string partialPath(const std::string &path);

/// A hash of the name, role, type and shape of every slot but the arena
/// (whose size is the compiler's business): two programs with the same
/// fingerprint read and write the same checkpoints. The shapes are those of
/// one process with the same global batch, so that a checkpoint of a
/// data-parallel run resumes with any number of ranks.
std::string fingerprint(const Program &program);

/// Writes the checkpoint atomically: a crash leaves the old checkpoint or
/// the new one, never a mix. Throws Error.
void saveCheckpoint(const std::string &path, const Program &program,
                    const SlotBuffers &buffers, const RunPosition &position);

/// Restores parameters and state from the checkpoint at `path` and returns
/// where its run stood. Throws Error when the file cannot be read, is not a
/// checkpoint, or was written by another program.
RunPosition loadCheckpoint(const std::string &path, const Program &program,
                           SlotBuffers &buffers);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_CHECKPOINT_H
