//===- PredictionFile.h - The file that `trainer predict` writes ----------===//

#ifndef KILN_RUNTIME_TRAIN_PREDICTIONFILE_H
#define KILN_RUNTIME_TRAIN_PREDICTIONFILE_H

#include "io/Safetensors.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::train {

/// The outputs of a model for every example of an input.
struct Predictions {
  /// The model's outputs by name, in the prediction step's order, each with
  /// the examples first: "logits" f32[N, 10].
  std::vector<std::pair<std::string, io::TensorData>> outputs;
  /// For a classifier, the class of the largest value along the last axis
  /// of the first output: i64[N] (or [N, T] for per-position logits).
  std::optional<io::TensorData> classes;
  /// The names of the classes by id, when the data had them.
  std::vector<std::string> classNames;
  /// A name per example (an image's path), or none.
  std::vector<std::string> exampleNames;
  /// Besides the tensors: "model", "checkpoint", "input".
  std::map<std::string, std::string> metadata;
};

/// The formats, by the path's extension.
enum class PredictionFormat { Npy, Npz, Safetensors, Csv };

/// The format of `path`; throws a usage Error for another extension.
PredictionFormat predictionFormat(const std::string &path);

/// Writes `predictions` to `path` atomically, in its format:
/// - .npy: the model's output (a model with several must use .npz);
/// - .npz and .safetensors: every output by name, and "predictions" (the
///   classes); safetensors keeps the metadata and the class names
///   ("classes", a JSON list);
/// - .csv: a header, then a row per example: its index, its name, its class
///   and the class's name when known, then the outputs' values, flattened.
/// Throws Error.
void writePredictions(const std::string &path, const Predictions &predictions);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_PREDICTIONFILE_H
