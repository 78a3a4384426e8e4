//===- Data.cpp - The recipe's data source, opened for the model's inputs -===//
//
// The description names the source and its arguments; the loader registered
// under that name (data/Sources.cpp) opens it for the model's inputs. kilnc
// has checked what the recipe alone decides; what depends on the files (the
// arrays of an .npz, the columns of a table, the labels' values) the loader
// checks here, before the first step.
//
//===----------------------------------------------------------------------===//

#include "train/Data.h"
#include "train/Error.h"
#include "train/Program.h"

#include "data/Transforms.h"

using namespace kiln;
using namespace kiln::train;

data::Field kiln::train::inputField(const Program &program, size_t slot) {
  const Slot &input = program.slots[slot];
  return {input.name,
          *toDType(input.type),
          {input.shape.begin() + 1, input.shape.end()},
          input.range,
          input.ignoreIndex};
}

std::vector<data::Field> kiln::train::inputFields(const Program &program) {
  std::vector<data::Field> fields;
  for (size_t input : program.inputs)
    fields.push_back(inputField(program, input));
  return fields;
}

RunData kiln::train::openData(const Program &program,
                              const std::string &dataDir) {
  const DataSource &source = program.recipe.data;
  const data::SourceEntry *entry = data::findSource(source.kind);
  if (!entry)
    throw Error("the program's description is invalid: recipe.data.kind: "
                "unknown data source '" +
                    source.kind + "'",
                "rebuild the trainer with the kilnc that matches this runtime");
  data::SourceRequest request{source.args, inputFields(program), dataDir};
  data::OpenedSource opened;
  std::string error;
  bool ok;
  try {
    ok = entry->open(request, opened, error);
  } catch (const data::BadArgument &bad) {
    throw Error("the program's description is invalid: recipe.data: " +
                    std::string(bad.what()),
                "rebuild the trainer with the kilnc that matches this runtime");
  }
  if (!ok)
    throw Error(error);
  if (!opened.test)
    opened.test = data::noExamples();
  if (!data::checkTransforms(program.recipe.transforms, request.fields, error))
    throw Error(error);
  return {std::move(opened), std::move(request.fields),
          program.recipe.transforms};
}
