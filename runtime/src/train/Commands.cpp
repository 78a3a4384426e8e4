//===- Commands.cpp - What predict and generate share ---------------------===//

#include "train/Commands.h"
#include "train/Program.h"

#include "data/Text.h"
#include "program/Weights.h"

using namespace kiln;
using namespace kiln::train;

std::map<std::string, std::string>
kiln::train::loadTrained(const std::string &path, const Program &program,
                         SlotBuffers &buffers, const Notes &notes) {
  program::LoadedWeights loaded = program::loadParameters(path, program, buffers);
  if (!loaded.ignored.empty())
    notes(path + ": ignored " + std::to_string(loaded.ignored.size()) +
          " tensors that are not parameters of model '" + program.model +
          "': " + data::quotedList(loaded.ignored, 4));
  return loaded.metadata;
}
