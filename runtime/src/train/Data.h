//===- Data.h - The recipe's data, loaded and checked against the model ---===//

#ifndef KILN_RUNTIME_TRAIN_DATA_H
#define KILN_RUNTIME_TRAIN_DATA_H

#include "data/Datasets.h"

#include <string>

namespace kiln::train {

struct Program;

/// Loads the recipe's data source, from `pathOverride` instead of the
/// recipe's directory when it is not empty, and checks it with checkData.
/// Throws Error with the loader's message (which names the file and byte).
data::Split loadData(const Program &program, const std::string &pathOverride);

/// Checks that `split` fits the program's inputs: one field per input, in
/// order, with the input's element type and per-example shape, and i64
/// values inside each input's range. Throws Error naming the field, and for
/// a value out of range the example and the value.
void checkData(const Program &program, const data::Split &split);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_DATA_H
