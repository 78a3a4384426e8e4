//===- PredictionFile.cpp - The file that `trainer predict` writes --------===//

#include "train/PredictionFile.h"
#include "train/Error.h"

#include "data/Text.h"
#include "io/AtomicFile.h"
#include "io/Numpy.h"

#include <cinttypes>
#include <cstdio>

using namespace kiln;
using namespace kiln::train;

namespace {

bool endsWith(const std::string &text, const std::string &suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A CSV cell: quoted when it holds the delimiter, a quote or a line break.
std::string csvCell(const std::string &text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (char c : text)
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

/// Element `i` of `tensor` as text that reads back as the same value.
std::string formatElement(const io::TensorData &tensor, int64_t i) {
  char text[40];
  switch (tensor.dtype) {
  case io::DType::F32:
    std::snprintf(text, sizeof(text), "%.9g", tensor.data<float>()[i]);
    break;
  case io::DType::F64:
    std::snprintf(text, sizeof(text), "%.17g", tensor.data<double>()[i]);
    break;
  case io::DType::I64:
    std::snprintf(text, sizeof(text), "%" PRId64, tensor.data<int64_t>()[i]);
    break;
  }
  return text;
}

/// The values per example of `tensor`, whose first dimension counts them.
int64_t perExample(const io::TensorData &tensor) {
  return tensor.shape.empty() || tensor.shape[0] == 0
             ? 0
             : tensor.numElements() / tensor.shape[0];
}

std::string csvText(const Predictions &p) {
  int64_t examples = p.outputs.front().second.shape[0];
  const io::TensorData *classes = p.classes ? &*p.classes : nullptr;
  bool oneClass = classes && classes->shape.size() == 1;
  bool named = oneClass && !p.classNames.empty();
  std::string text = "index";
  if (!p.exampleNames.empty())
    text += ",name";
  if (classes) {
    int64_t count = perExample(*classes);
    for (int64_t j = 0; j < count; ++j)
      text += oneClass ? ",prediction" : ",prediction[" + std::to_string(j) + "]";
  }
  if (named)
    text += ",class";
  for (const auto &[name, tensor] : p.outputs)
    for (int64_t j = 0, count = perExample(tensor); j < count; ++j)
      text += "," + csvCell(name + "[" + std::to_string(j) + "]");
  text += "\n";
  for (int64_t i = 0; i < examples; ++i) {
    text += std::to_string(i);
    if (!p.exampleNames.empty())
      text += "," + csvCell(p.exampleNames[i]);
    if (classes)
      for (int64_t j = 0, count = perExample(*classes); j < count; ++j)
        text += "," + formatElement(*classes, i * count + j);
    if (named) {
      int64_t id = classes->data<int64_t>()[i];
      text += "," + csvCell(id < static_cast<int64_t>(p.classNames.size())
                                ? p.classNames[id]
                                : "");
    }
    for (const auto &[name, tensor] : p.outputs)
      for (int64_t j = 0, count = perExample(tensor); j < count; ++j)
        text += "," + formatElement(tensor, i * count + j);
    text += "\n";
  }
  return text;
}

/// The outputs, then the classes as "predictions".
std::vector<std::pair<std::string, io::TensorData>>
namedArrays(const Predictions &p) {
  std::vector<std::pair<std::string, io::TensorData>> arrays = p.outputs;
  if (p.classes)
    arrays.emplace_back("predictions", *p.classes);
  return arrays;
}

} // namespace

PredictionFormat kiln::train::predictionFormat(const std::string &path) {
  if (endsWith(path, ".npy"))
    return PredictionFormat::Npy;
  if (endsWith(path, ".npz"))
    return PredictionFormat::Npz;
  if (endsWith(path, ".safetensors"))
    return PredictionFormat::Safetensors;
  if (endsWith(path, ".csv"))
    return PredictionFormat::Csv;
  throw usageError("--output " + path +
                       ": predict writes .npy, .npz, .safetensors or .csv "
                       "files, told apart by the extension",
                   "name the output file with one of them");
}

void kiln::train::writePredictions(const std::string &path,
                                   const Predictions &p) {
  std::string error;
  bool ok = true;
  switch (predictionFormat(path)) {
  case PredictionFormat::Npy: {
    if (p.outputs.size() != 1) {
      std::vector<std::string> names;
      for (const auto &[name, tensor] : p.outputs)
        names.push_back(name);
      throw Error(path + ": a .npy file holds one array, but the model has " +
                      std::to_string(p.outputs.size()) + " outputs (" +
                      data::quotedList(names) + ")",
                  "write a .npz or .safetensors file, which name each");
    }
    ok = io::writeNpyFile(path, p.outputs.front().second, error);
    break;
  }
  case PredictionFormat::Npz:
    ok = io::writeNpzFile(path, namedArrays(p), error);
    break;
  case PredictionFormat::Safetensors: {
    io::TensorFile file;
    for (auto &[name, tensor] : namedArrays(p))
      file.tensors.emplace(name, std::move(tensor));
    file.metadata = p.metadata;
    if (!p.classNames.empty())
      file.metadata["classes"] = data::jsonStringList(p.classNames);
    ok = io::writeTensorFile(path, file, error);
    break;
  }
  case PredictionFormat::Csv: {
    std::string text = csvText(p);
    ok = io::writeFileAtomically(path, {{text.data(), text.size()}}, error);
    break;
  }
  }
  if (!ok)
    throw Error(error);
}
