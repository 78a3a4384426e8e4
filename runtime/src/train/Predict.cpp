//===- Predict.cpp - `trainer predict`: a model's outputs for a file ------===//
//
// Runs the prediction step, the compiled forward in evaluation mode, over
// every example of the input in batches of the compiled size; a last partial
// batch is padded with its first example, and only its real rows are kept.
// The inputs are read as the recipe's were (scale, non-random transforms),
// so that the outputs are those that evaluation saw.
//
//===----------------------------------------------------------------------===//

#include "train/Batches.h"
#include "train/Commands.h"
#include "train/Data.h"
#include "train/Error.h"
#include "train/Executor.h"
#include "train/Flags.h"
#include "train/PredictInput.h"
#include "train/PredictionFile.h"
#include "train/Program.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

using namespace kiln;
using namespace kiln::train;

namespace {

/// The recipe's transforms of the inputs in `fields`, renumbered for them.
std::vector<data::Transform> transformsFor(const Program &program,
                                           const std::vector<data::Field> &fields) {
  std::vector<data::Transform> kept;
  for (data::Transform transform : program.recipe.transforms) {
    const std::string &name =
        program.slots[program.inputs[transform.field]].name;
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const data::Field &f) { return f.name == name; });
    if (field == fields.end())
      continue;
    transform.field = field - fields.begin();
    kept.push_back(transform);
  }
  return kept;
}

/// Whether the first output holds class scores: its last axis is as long as
/// the range of the class ids that the model trains against.
bool isClassifier(const Program &program) {
  const Slot &output = program.slots[program.predictOutputs.front()];
  if (output.type != ElementType::F32 || output.shape.size() < 2)
    return false;
  return std::any_of(program.inputs.begin(), program.inputs.end(),
                     [&](size_t input) {
                       return program.slots[input].range ==
                              output.shape.back();
                     });
}

/// The class of each example (or position): the index of the largest score
/// along the last axis, the first of equals.
io::TensorData classesOf(const io::TensorData &scores) {
  int64_t classes = scores.shape.back();
  std::vector<int64_t> shape(scores.shape.begin(), scores.shape.end() - 1);
  io::TensorData predicted = io::TensorData::zeros(io::DType::I64, shape);
  for (int64_t i = 0, e = predicted.numElements(); i < e; ++i) {
    const float *row = scores.data<float>() + i * classes;
    predicted.data<int64_t>()[i] = std::max_element(row, row + classes) - row;
  }
  return predicted;
}

/// "; accuracy 0.9013 (9013/10000)": how often the classes are the labels.
std::string accuracyOf(const io::TensorData &classes,
                       const std::vector<int64_t> &labels) {
  int64_t size = static_cast<int64_t>(labels.size()), correct = 0;
  for (int64_t i = 0; i < size; ++i)
    correct += classes.data<int64_t>()[i] == labels[i];
  char text[128];
  std::snprintf(text, sizeof(text), "; accuracy %.4f (%lld/%lld)",
                size ? static_cast<double>(correct) / size : 0.0,
                static_cast<long long>(correct), static_cast<long long>(size));
  return text;
}

/// The class names of the checkpoint's "data.classes", if any.
std::vector<std::string>
classNames(const std::map<std::string, std::string> &metadata) {
  auto it = metadata.find("data.classes");
  if (it == metadata.end())
    return {};
  nlohmann::json names = nlohmann::json::parse(it->second, nullptr, false);
  if (!names.is_array() ||
      !std::all_of(names.begin(), names.end(),
                   [](const nlohmann::json &n) { return n.is_string(); }))
    return {};
  return names.get<std::vector<std::string>>();
}

} // namespace

int kiln::train::runPredict(const Options &options,
                            const kiln_program &compiled,
                            const Program &program, const Notes &notes) {
  // The output's kind is checked before any work.
  predictionFormat(options.output);
  SlotBuffers buffers(program);
  std::map<std::string, std::string> metadata =
      loadTrained(options.checkpoint, program, buffers, notes);

  PredictRequest request;
  request.path = options.input;
  for (size_t input : program.predictInputs)
    request.inputs.push_back(inputField(program, input));
  if (program.labels)
    request.label = inputField(program, *program.labels);
  request.recipeData = &program.recipe.data;
  request.metadata = metadata;
  request.scale = options.scale;
  PredictInput input = openPredictInput(request);
  std::vector<data::Transform> transforms = transformsFor(program, input.fields);
  std::string error;
  if (!data::checkTransforms(transforms, input.fields, error))
    throw Error(error);

  int64_t batch = program.recipe.batchSize, size = input.examples->size();
  int64_t batches = (size + batch - 1) / batch;
  notes("model '" + program.model + "' predicts " + input.description +
        ": " + std::to_string(size) + " examples in " +
        std::to_string(batches) + " batches of " + std::to_string(batch));
  for (const std::string &line : input.notes)
    notes(line);

  std::unique_ptr<Executor> executor =
      startProgram(compiled, program, buffers, options.threads);
  // Each field goes to the input slot of its name.
  std::vector<void *> slots = executor->inputs(), destinations;
  for (const data::Field &field : input.fields)
    for (size_t i = 0; i < program.inputs.size(); ++i)
      if (program.slots[program.inputs[i]].name == field.name)
        destinations.push_back(slots[i]);

  Predictions predictions;
  for (size_t output : program.predictOutputs) {
    const Slot &slot = program.slots[output];
    std::vector<int64_t> shape = slot.shape;
    shape[0] = size;
    predictions.outputs.emplace_back(
        slot.name, io::TensorData::zeros(*toDType(slot.type), shape));
  }
  std::vector<int64_t> labels;
  BatchReader reader({*input.examples, input.fields, transforms,
                      /*training=*/false, /*seed=*/0, "input"},
                     batch, batches, inOrder(size, batch));
  for (int64_t begin = 0; begin < size; begin += batch) {
    const Batch &read = reader.next(destinations);
    executor->predict();
    for (size_t o = 0; o < program.predictOutputs.size(); ++o) {
      size_t slot = program.predictOutputs[o];
      size_t row = program.slots[slot].numBytes() / batch;
      std::memcpy(predictions.outputs[o].second.bytes.data() + begin * row,
                  buffers.get<uint8_t>(slot), read.count * row);
    }
    if (input.hasLabels) {
      const auto *values =
          reinterpret_cast<const int64_t *>(read.fields.back().data());
      labels.insert(labels.end(), values, values + read.count);
    }
  }

  std::string result = "predicted " + std::to_string(size) + " examples";
  if (isClassifier(program)) {
    predictions.classes = classesOf(predictions.outputs.front().second);
    predictions.classNames = classNames(metadata);
    if (input.hasLabels && predictions.classes->shape.size() == 1)
      result += accuracyOf(*predictions.classes, labels);
  }
  predictions.exampleNames = std::move(input.exampleNames);
  predictions.metadata = {{"model", program.model},
                          {"checkpoint", options.checkpoint},
                          {"input", options.input}};
  writePredictions(options.output, predictions);
  std::printf("%s; wrote %s\n", result.c_str(), options.output.c_str());
  std::fflush(stdout);
  return kExitSuccess;
}
