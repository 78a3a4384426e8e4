//===- Commands.h - Using a trained model: predict and generate -----------===//
//
// The trainer's commands besides training: `predict` runs the compiled
// forward (the prediction step) over a file of examples, `generate` samples
// text from a language model. Both take the trained parameters from a
// checkpoint or a PyTorch state_dict (as training's --init does), print
// their notes through `notes` and their result on stdout, and throw Error on
// failure.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_COMMANDS_H
#define KILN_RUNTIME_TRAIN_COMMANDS_H

#include <functional>
#include <map>
#include <string>

struct kiln_program;

namespace kiln::program {
class SlotBuffers;
} // namespace kiln::program

namespace kiln::train {

struct Options;
struct Program;
using program::SlotBuffers;

/// Prints a note on stderr, unless the run is quiet.
using Notes = std::function<void(const std::string &)>;

/// Sets the parameters from the safetensors file `path` (a checkpoint or a
/// state_dict; the tensors that are not parameters, optimizer state or a
/// module's buffers, get a note), and returns the file's metadata (a
/// checkpoint's "data.classes", ...).
std::map<std::string, std::string> loadTrained(const std::string &path,
                                               const Program &program,
                                               SlotBuffers &buffers,
                                               const Notes &notes);

int runPredict(const Options &options, const kiln_program &compiled,
               const Program &program, const Notes &notes);

int runGenerate(const Options &options, const kiln_program &compiled,
                const Program &program, const Notes &notes);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_COMMANDS_H
