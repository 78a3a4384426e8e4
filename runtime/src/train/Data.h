//===- Data.h - The recipe's data source, opened for the model's inputs ---===//

#ifndef KILN_RUNTIME_TRAIN_DATA_H
#define KILN_RUNTIME_TRAIN_DATA_H

#include "data/Source.h"
#include "data/Transforms.h"

#include <string>
#include <vector>

namespace kiln::train {

struct Program;

/// Input slot `slot` as a source fills it: name, element type, the shape of
/// one example and the range of i64 values.
data::Field inputField(const Program &program, size_t slot);

/// The model's inputs, each as inputField gives it.
std::vector<data::Field> inputFields(const Program &program);

/// The data of a run: the opened source, the inputs it fills and the
/// transforms of the recipe.
struct RunData {
  data::OpenedSource source;
  std::vector<data::Field> fields;
  std::vector<data::Transform> transforms;

  const data::Examples &train() const { return *source.train; }
  const data::Examples &test() const { return *source.test; }
};

/// Opens the recipe's data source for the model's inputs, reading relative
/// paths from `dataDir` when it is not empty (the trainer's --data), and
/// checks the recipe's transforms against the inputs. Throws Error with the
/// source's message, which names the file and the byte, row or column.
RunData openData(const Program &program, const std::string &dataDir);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_DATA_H
