//===- PredictInput.h - The examples that `trainer predict` reads ---------===//
//
// `trainer predict --input FILE` runs the model's forward pass over the
// examples of FILE, whatever source the recipe trained on: arrays (.npz,
// safetensors, .npy, a directory of NAME.npy files), a table (.csv, .tsv) or
// a directory of images. The file is read as the data sources read theirs
// (the same conversions, checks and messages), with the preprocessing the
// model was trained with taken from the recipe and the checkpoint, so that
// predict needs the model's checkpoint and FILE alone.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TRAIN_PREDICTINPUT_H
#define KILN_RUNTIME_TRAIN_PREDICTINPUT_H

#include "data/Source.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln::train {

struct DataSource;

/// What `trainer predict` reads its examples for.
struct PredictRequest {
  /// --input: a file or directory.
  std::string path;
  /// The model's inputs that the forward pass reads, in order.
  std::vector<data::Field> inputs;
  /// The labels input (i64, per-example shape []) when the recipe has a
  /// metric: read too where the file has labels, to report accuracy.
  std::optional<data::Field> label;
  /// The recipe's data source, for the preprocessing the model was trained
  /// with (csv's columns, label and delimiter, the `scale` of arrays); null
  /// when unknown.
  const DataSource *recipeData = nullptr;
  /// The checkpoint's metadata: "data.classes" (a JSON list of class names
  /// by id), "data.standardize" (csv), ...
  std::map<std::string, std::string> metadata;
  /// --scale: overrides the recipe's scale for arrays.
  std::optional<double> scale;
};

/// The opened examples.
struct PredictInput {
  /// Each example fills `fields`: the request's inputs in order, then the
  /// label when hasLabels.
  std::unique_ptr<data::Examples> examples;
  std::vector<data::Field> fields;
  bool hasLabels = false;
  /// How the trainer names what it read: "tensors from test.npz (image
  /// u8[10000, 28, 28], label i64[10000])".
  std::string description;
  /// Lines to print (arrays ignored, labels absent, ...).
  std::vector<std::string> notes;
  /// One name per example when the input has names (an images folder: each
  /// file's path relative to the folder), else empty.
  std::vector<std::string> exampleNames;
};

/// Opens request.path by its kind (its name, and its first bytes where the
/// name does not tell): .npz, .safetensors or a directory of .npy files
/// (each input takes the array of its name, as tensors(...) reads them), a
/// .npy file (the model's only input), .csv or .tsv (the features, and the
/// recipe's label column when the recipe is csv(...)), or a directory of
/// images (directly in it, or one folder per class). Throws Error with a
/// message that names the file and the byte, row or column, and what to do.
PredictInput openPredictInput(const PredictRequest &request);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_PREDICTINPUT_H
