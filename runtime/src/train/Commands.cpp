//===- Commands.cpp - What predict and generate share ---------------------===//

#include "train/Commands.h"
#include "train/Flags.h"
#include "train/Program.h"

#include "data/Text.h"
#include "program/Weights.h"

using namespace kiln;
using namespace kiln::train;

std::map<std::string, std::string>
kiln::train::loadTrained(const Options &options, const Program &program,
                         SlotBuffers &buffers, const Notes &notes) {
  program::LoadedWeights loaded =
      program::loadParameters(options.checkpoint, program, buffers);
  // A checkpoint's optimizer state is expected; a state_dict's buffers are
  // worth a word.
  std::vector<std::string> others;
  for (const std::string &name : loaded.ignored)
    if (!program.find(name, Role::State))
      others.push_back(name);
  if (!others.empty())
    notes(options.checkpoint + ": ignored " + std::to_string(others.size()) +
          " tensors that are not parameters of model '" + program.model +
          "': " + data::quotedList(others, 4));
  return loaded.metadata;
}
