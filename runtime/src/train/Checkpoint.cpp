//===- Checkpoint.cpp - Checkpoints and resuming --------------------------===//
//
// A save writes the whole checkpoint to "<path>.partial" (itself atomically,
// through writeTensorFile) and then renames it over the checkpoint. The
// second rename gives the test hook of kKillDuringSaveVariable its moment,
// and leaves an interrupted save under one known name that the next save
// replaces, rather than under a random temporary name.
//
//===----------------------------------------------------------------------===//

#include "train/Checkpoint.h"
#include "train/Error.h"
#include "train/Program.h"

#include "io/Hash.h"
#include "io/Safetensors.h"
#include "kiln/kiln_runtime.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::train;

namespace {

constexpr const char *kFormat = "kiln-checkpoint";
constexpr const char *kResumeHint =
    "resume with the trainer that wrote it; to start a new run from its "
    "parameters alone, use --init FILE";

/// The parameters, the state, then the buffers: the tensors of a
/// checkpoint.
std::vector<size_t> checkpointSlots(const Program &program) {
  std::vector<size_t> slots = program.params;
  slots.insert(slots.end(), program.state.begin(), program.state.end());
  slots.insert(slots.end(), program.buffers.begin(), program.buffers.end());
  return slots;
}

std::string describe(const io::TensorData &tensor) {
  return std::string(io::dtypeName(tensor.dtype)) + formatShape(tensor.shape);
}

/// A whole decimal number, strictly: a damaged step must not parse as 0.
bool parseUnsigned(const std::string &text, uint64_t &value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  errno = 0;
  value = std::strtoull(text.c_str(), nullptr, 10);
  return errno != ERANGE;
}

bool killRequested(int64_t step) {
  const char *value = std::getenv(kKillDuringSaveVariable);
  return value && std::to_string(step) == value;
}

/// Makes the rename of the checkpoint durable.
void syncDirectory(const std::string &path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty())
    directory = ".";
  int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0)
    ::close(fd);
  if (!synced)
    throw Error(path + ": written, but the directory '" + directory.string() +
                    "' cannot be flushed (" + std::strerror(errno) + ")",
                "the checkpoint may not survive a crash of the machine");
}

} // namespace

std::string kiln::train::partialPath(const std::string &path) {
  return path + ".partial";
}

namespace {

/// Slot `index`'s shape in the program of one process with the same global
/// batch: a data-parallel rank's inputs and per-example outputs hold its
/// share of the batch.
std::vector<int64_t> oneProcessShape(const Program &program, size_t index) {
  const Slot &slot = program.slots[index];
  std::vector<int64_t> shape = slot.shape;
  const std::vector<size_t> &outputs = program.predictOutputs;
  bool batched =
      slot.role == Role::Input || index == program.predictions ||
      std::find(outputs.begin(), outputs.end(), index) != outputs.end();
  if (batched && !shape.empty())
    shape.front() *= program.recipe.ranks;
  return shape;
}

} // namespace

std::string kiln::train::fingerprint(const Program &program) {
  // Over one line per slot.
  uint64_t hash = io::kFnvBasis;
  for (size_t index = 0; index < program.slots.size(); ++index) {
    const Slot &slot = program.slots[index];
    if (slot.role == Role::Arena)
      continue;
    std::string line = std::string(roleName(slot.role)) + " " + slot.name +
                       " " + elementTypeName(slot.type) +
                       formatShape(oneProcessShape(program, index)) + "\n";
    hash = io::fnv1a64(line, hash);
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(hash));
  return text;
}

void kiln::train::saveCheckpoint(const std::string &path,
                                 const Program &program,
                                 const SlotBuffers &buffers,
                                 const RunPosition &position) {
  io::TensorFile file;
  for (size_t index : checkpointSlots(program)) {
    const Slot &slot = program.slots[index];
    io::TensorData tensor;
    tensor.dtype = *toDType(slot.type);
    tensor.shape = slot.shape;
    const auto *bytes = buffers.get<const uint8_t>(index);
    tensor.bytes.assign(bytes, bytes + slot.numBytes());
    file.tensors.emplace(slot.name, std::move(tensor));
  }
  file.metadata = {{"format", kFormat},
                   {"model", program.model},
                   {"abi", std::to_string(KILN_ABI_VERSION)},
                   {"fingerprint", fingerprint(program)},
                   {"step", std::to_string(position.step)},
                   {"seed", std::to_string(position.seed)},
                   {"shuffle", position.shuffle ? "on" : "off"}};
  file.metadata.insert(position.data.begin(), position.data.end());

  std::string partial = partialPath(path), error;
  if (!io::writeTensorFile(partial, file, error))
    throw Error(error);
  if (killRequested(position.step))
    std::raise(SIGKILL);
  if (std::rename(partial.c_str(), path.c_str()) != 0)
    throw Error(path + ": cannot rename " + partial + " over it (" +
                    std::strerror(errno) + ")",
                "check that the path is not a directory; the new checkpoint "
                "is in " +
                    partial);
  syncDirectory(path);
}

RunPosition kiln::train::loadCheckpoint(const std::string &path,
                                        const Program &program,
                                        SlotBuffers &buffers) {
  io::TensorFile file;
  std::string error;
  if (!io::readTensorFile(path, file, error))
    throw Error(error);
  auto metadata = [&](const char *key) {
    auto it = file.metadata.find(key);
    return it == file.metadata.end() ? std::string() : it->second;
  };
  if (metadata("format") != kFormat)
    throw Error(path +
                    ": not a Kiln checkpoint (its metadata lacks \"format\": "
                    "\"" +
                    kFormat + "\")",
                "to start a new run from the parameters it holds, use --init "
                "FILE");
  if (metadata("fingerprint") != fingerprint(program))
    throw Error(path + ": the checkpoint was written by model '" +
                    metadata("model") + "' (slots " + metadata("fingerprint") +
                    "), not by this trainer's model '" + program.model +
                    "' (slots " + fingerprint(program) + ")",
                kResumeHint);

  RunPosition position;
  uint64_t step = 0;
  std::string shuffle = metadata("shuffle");
  if (!parseUnsigned(metadata("step"), step) || step > uint64_t(INT64_MAX) ||
      !parseUnsigned(metadata("seed"), position.seed) ||
      (shuffle != "on" && shuffle != "off"))
    throw Error(path + ": the checkpoint's metadata is damaged (step '" +
                    metadata("step") + "', seed '" + metadata("seed") +
                    "', shuffle '" + shuffle + "')",
                "use an earlier checkpoint of the run");
  position.step = static_cast<int64_t>(step);
  position.shuffle = shuffle == "on";
  for (const auto &[key, value] : file.metadata)
    if (key.rfind("data.", 0) == 0)
      position.data.emplace(key, value);

  for (size_t index : checkpointSlots(program)) {
    const Slot &slot = program.slots[index];
    auto it = file.tensors.find(slot.name);
    io::DType dtype = *toDType(slot.type);
    if (it == file.tensors.end() || it->second.dtype != dtype ||
        it->second.shape != slot.shape)
      throw Error(
          path + ": the checkpoint's tensor '" + slot.name + "' is " +
              (it == file.tensors.end() ? "missing" : describe(it->second)) +
              ", expected " + io::dtypeName(dtype) + formatShape(slot.shape),
          "the file is damaged; use an earlier checkpoint of the run");
    std::memcpy(buffers.get<void>(index), it->second.bytes.data(),
                slot.numBytes());
  }
  return position;
}
