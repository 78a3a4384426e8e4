//===- PredictInput.cpp - The examples that `trainer predict` reads -------===//
//
// Each kind of file is read by the data layer's own code (TensorFiles.h,
// CsvTable.h, ImageFolder.h), so that predict converts, scales and checks
// an example exactly as training did, and its messages are the sources'.
// What training learned from its data (class names, a table's means and
// deviations) comes from the checkpoint's metadata, never from the training
// files, which predict does not need.
//
//===----------------------------------------------------------------------===//

#include "train/PredictInput.h"
#include "train/Error.h"
#include "train/Program.h"

#include "data/CsvTable.h"
#include "data/ImageFolder.h"
#include "data/TensorFiles.h"
#include "data/Text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <new>

#include <dirent.h>
#include <sys/stat.h>

using namespace kiln;
using namespace kiln::train;
using data::Field;

namespace {

constexpr const char *kFormats =
    "predict reads a .npz archive, a .safetensors file or a directory of "
    "NAME.npy files (each input takes the array of its name), a .npy file "
    "(the input of a model that reads one), a .csv or .tsv table with a "
    "header row, or a directory of images (PNG, JPEG, BMP, GIF, TGA, PPM, "
    "PGM), directly in it or in one folder per class";

bool endsWith(const std::string &text, const char *suffix) {
  size_t size = std::strlen(suffix);
  if (text.size() < size)
    return false;
  return std::equal(text.end() - size, text.end(), suffix, [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
  });
}

/// "'image' f32[1, 28, 28], 'label' i64[]".
std::string describeFields(const std::vector<Field> &fields) {
  std::string text;
  for (const Field &field : fields)
    text += (text.empty() ? "'" : ", '") + field.name + "' " +
            data::formatField(field);
  return text;
}

/// The input that a table or an image folder fills, which must be the
/// forward's only one.
const Field &onlyInput(const PredictRequest &request, const char *kind,
                       const char *takes) {
  if (request.inputs.size() == 1)
    return request.inputs[0];
  throw Error(request.path + ": " + kind + " fills one input, " + takes +
              ", but the model's forward reads " +
              std::to_string(request.inputs.size()) + " (" +
              describeFields(request.inputs) +
              "); give the examples as a .npz archive with one array per "
              "input, named as the inputs");
}

/// The label input when it holds class ids, which predict can score.
const Field *classLabel(const PredictRequest &request) {
  const std::optional<Field> &label = request.label;
  return label && label->dtype == io::DType::I64 && label->shape.empty()
             ? &*label
             : nullptr;
}

/// The checkpoint's metadata `key` as JSON, or null when absent.
nlohmann::json metadataJson(const PredictRequest &request, const char *key) {
  auto it = request.metadata.find(key);
  if (it == request.metadata.end())
    return nullptr;
  nlohmann::json value = nlohmann::json::parse(it->second, nullptr, false);
  if (value.is_discarded())
    throw Error(std::string("the checkpoint's metadata ") + key +
                    " is not JSON: " + it->second,
                "use a checkpoint that the trainer saved");
  return value;
}

/// The class names of data.classes, by id; nullopt when absent.
std::optional<std::vector<std::string>>
checkpointClasses(const PredictRequest &request) {
  nlohmann::json value = metadataJson(request, "data.classes");
  if (value.is_null())
    return std::nullopt;
  std::vector<std::string> names;
  bool valid = value.is_array();
  for (size_t i = 0; valid && i < value.size(); ++i)
    if ((valid = value[i].is_string()))
      names.push_back(value[i].get<std::string>());
  if (!valid)
    throw Error("the checkpoint's metadata data.classes is not a JSON list "
                "of class names: " +
                    request.metadata.at("data.classes"),
                "use a checkpoint that the trainer saved");
  return names;
}

/// The scale of arrays: --scale, else the recipe's, else 1.
double arrayScale(const PredictRequest &request) {
  if (request.scale)
    return *request.scale;
  const DataSource *source = request.recipeData;
  return source && source->args.has("scale") ? source->args.real("scale") : 1;
}

//===----------------------------------------------------------------------===//
// Arrays
//===----------------------------------------------------------------------===//

/// A single .npy file, as a store whose one array is the model's input.
class NpyFileStore : public data::TensorStore {
public:
  NpyFileStore(std::string path, std::string name) : path(std::move(path)) {
    arrayNames.push_back(std::move(name));
  }

  bool load(const std::string &name, data::TensorArray &array,
            std::string &error) const override {
    array.name = name;
    array.location = data::Location{path, "", false};
    std::string reason;
    if (!data::ByteSource::openFile(path, array.bytes, reason)) {
      error = path + ": " + reason;
      return false;
    }
    return data::readNpyArray(array, 0, array.bytes.size(), error);
  }

private:
  std::string path;
};

PredictInput openArrays(const PredictRequest &request, bool npyFile) {
  const std::string &path = request.path;
  std::string error;
  std::unique_ptr<data::TensorStore> store;
  if (npyFile) {
    if (request.inputs.size() != 1)
      throw Error(path +
                  ": a .npy file holds one unnamed array, but the "
                  "model's forward reads " +
                  std::to_string(request.inputs.size()) + " inputs (" +
                  describeFields(request.inputs) +
                  "); save the arrays together with numpy.savez(\"data.npz\", "
                  "NAME=...) for each input, or give a directory of NAME.npy "
                  "files");
    store = std::make_unique<NpyFileStore>(path, request.inputs[0].name);
  } else if (!(store = data::openTensorStore(path, error))) {
    throw Error(error);
  }

  PredictInput input;
  input.fields = request.inputs;
  const std::vector<std::string> &names = store->names();
  if (const Field *label = classLabel(request); label && !npyFile) {
    bool isInput = std::any_of(
        input.fields.begin(), input.fields.end(),
        [&](const Field &field) { return field.name == label->name; });
    input.hasLabels =
        !isInput && std::binary_search(names.begin(), names.end(), label->name);
    if (input.hasLabels)
      input.fields.push_back(*label);
    else if (!isInput)
      input.notes.push_back("no array '" + label->name + "' in " + path +
                            ": predicting without labels, so without "
                            "accuracy");
  }
  data::TensorSplit split;
  if (!data::openTensorSplit(*store, path, path, input.fields,
                             arrayScale(request), split, error))
    throw Error(error);
  input.examples = std::move(split.examples);
  input.description =
      (npyFile ? "an array from " : "tensors from ") + split.description;
  if (!split.ignored.empty())
    input.notes.push_back("arrays that no input of the model takes, "
                          "ignored: " +
                          data::quotedList(split.ignored));
  if (!split.inflated.empty())
    input.notes.push_back(path + ": deflated members " +
                          data::quotedList(split.inflated) +
                          " (numpy.savez_compressed) are held in memory");
  return input;
}

//===----------------------------------------------------------------------===//
// Tables
//===----------------------------------------------------------------------===//

/// data.standardize: the training table's mean and deviation per feature.
struct Scaling {
  std::vector<double> mean, deviation;
};

std::optional<Scaling> checkpointScaling(const PredictRequest &request,
                                         size_t width, bool expected) {
  nlohmann::json value = metadataJson(request, "data.standardize");
  if (value.is_null()) {
    if (expected)
      throw Error(request.path +
                      ": the recipe standardizes the features (standardize: "
                      "true), but the checkpoint has no data.standardize, the "
                      "training table's means and deviations",
                  "use a checkpoint that the trainer saved");
    return std::nullopt;
  }
  Scaling scaling;
  bool valid = value.is_object();
  for (auto [key, out] : {std::pair("mean", &scaling.mean),
                          std::pair("std", &scaling.deviation)}) {
    const nlohmann::json *list = valid ? &value[key] : nullptr;
    valid = valid && list->is_array();
    for (size_t i = 0; valid && i < list->size(); ++i) {
      valid = (*list)[i].is_number();
      if (valid)
        out->push_back((*list)[i].get<double>());
    }
  }
  if (!valid || scaling.mean.size() != scaling.deviation.size())
    throw Error("the checkpoint's metadata data.standardize is not "
                "{\"mean\": [...], \"std\": [...]}: " +
                    request.metadata.at("data.standardize"),
                "use a checkpoint that the trainer saved");
  if (scaling.mean.size() != width)
    throw Error(request.path + ": the table has " + std::to_string(width) +
                " feature columns, but the checkpoint's data.standardize "
                "has the means of " +
                std::to_string(scaling.mean.size()) +
                ", the training table's; give the training table's feature "
                "columns");
  return scaling;
}

io::TensorData featureTensor(const data::CsvTable &table,
                             const std::optional<Scaling> &scaling) {
  size_t width = table.featureColumns.size();
  io::TensorData out = io::TensorData::zeros(
      io::DType::F32, {table.rows(), static_cast<int64_t>(width)});
  float *values = out.data<float>();
  for (int64_t i = 0; i < table.rows(); ++i)
    for (size_t j = 0; j < width; ++j) {
      double value = table.features[i * width + j];
      // As CsvSource.cpp: in double, rounded to float once.
      if (scaling)
        value = (value - scaling->mean[j]) / scaling->deviation[j];
      if (std::fabs(value) > FLT_MAX)
        throw Error(table.where(table.rowNumbers[i], table.featureColumns[j]) +
                    ": the value " + (scaling ? "standardizes to " : "") +
                    data::shortNumber(value) +
                    ", beyond the range of 32-bit floats (about 3.4e38), "
                    "which the model's inputs hold; correct it, or drop the "
                    "row");
      values[i * width + j] = static_cast<float>(value);
    }
  return out;
}

/// The class id of each row: by data.classes when the checkpoint has it
/// (the training labels were names), else the label itself.
io::TensorData
labelTensor(const data::CsvTable &table, const Field &label,
            const std::optional<std::vector<std::string>> &names) {
  io::TensorData out = io::TensorData::zeros(io::DType::I64, {table.rows()});
  for (int64_t i = 0; i < table.rows(); ++i) {
    const std::string &text = table.labelNames[table.labels[i]];
    int64_t id = -1;
    if (names) {
      auto it = std::find(names->begin(), names->end(), text);
      if (it != names->end())
        id = it - names->begin();
    } else if (!data::parseCsvClassId(text, id)) {
      id = -1;
    }
    std::string where = table.where(table.rowNumbers[i], table.labelColumn);
    std::string drop = "; correct the label, or leave out the column '" +
                       table.header[table.labelColumn] +
                       "' to predict without accuracy";
    if (id < 0 && names)
      throw Error(where + ": the label " + data::quoteCsvCell(text) +
                  " is not one of the model's " +
                  std::to_string(names->size()) + " classes (" +
                  data::listCsvNames(*names) +
                  ", as the checkpoint's data.classes names them)" + drop);
    if (id < 0)
      throw Error(where + ": the label " + data::quoteCsvCell(text) +
                  " is not a class id, and the model's classes are ids (its "
                  "training labels were integers: the checkpoint has no "
                  "data.classes)" +
                  drop);
    if (label.range > 0 && id >= label.range)
      throw Error(where + ": class " + std::to_string(id) + " is not below " +
                  std::to_string(label.range) +
                  ", the number of the model's classes" + drop);
    out.data<int64_t>()[i] = id;
  }
  return out;
}

PredictInput openTable(const PredictRequest &request, bool tabs) {
  const std::string &path = request.path;
  const Field &x = onlyInput(request, "a table", "the features f32[F]");
  if (x.dtype != io::DType::F32 || x.shape.size() != 1)
    throw Error(path +
                ": a table fills the model's input with the features "
                "of a row, f32[F], but '" +
                x.name + "' is " + data::formatField(x) +
                "; give the examples as a .npz archive with an array '" +
                x.name + "'");
  const DataSource *recipe = request.recipeData;
  bool fromTable = recipe && recipe->kind == "csv";
  const Field *label = fromTable ? classLabel(request) : nullptr;

  data::CsvOptions options;
  options.delimiter = tabs ? '\t' : ',';
  options.labelOptional = true;
  options.skipLabel = !label;
  if (fromTable) {
    // The recipe's columns, so that a table like the training one fits.
    const std::string &delimiter = recipe->args.string("delimiter");
    if (!tabs && delimiter.size() == 1)
      options.delimiter = delimiter[0];
    options.label = recipe->args.string("label");
    options.features = recipe->args.strings("features");
  }
  options.checkHeader = [&](const data::CsvTable &table, std::string &error) {
    auto width = static_cast<int64_t>(table.featureColumns.size());
    if (width == x.shape[0])
      return true;
    std::vector<std::string> names;
    for (size_t column : table.featureColumns)
      names.push_back(table.header[column]);
    error = table.path + ": row " + std::to_string(table.headerRow) +
            ": the table has " + std::to_string(width) + " feature columns (" +
            data::listCsvNames(names) + "), but the model's input '" + x.name +
            "' takes " + std::to_string(x.shape[0]) +
            (fromTable ? "; give the columns of the training table"
                       : "; give a table of those columns alone");
    return false;
  };
  data::CsvTable table;
  std::string error;
  if (!data::readCsvTable(path, options, table, error))
    throw Error(error);
  if (table.rows() == 0)
    throw Error(path + ": the table has a header (row " +
                std::to_string(table.headerRow) +
                ") but no data rows; add one row per example to predict");

  size_t width = table.featureColumns.size();
  bool standardized = fromTable && recipe->args.boolean("standardize");
  std::optional<Scaling> scaling =
      checkpointScaling(request, width, standardized);
  std::vector<io::TensorData> tensors;
  tensors.push_back(featureTensor(table, scaling));

  PredictInput input;
  input.fields = {x};
  std::string contents =
      std::to_string(width) + (width == 1 ? " feature" : " features");
  if (label && table.hasLabelColumn()) {
    tensors.push_back(labelTensor(table, *label, checkpointClasses(request)));
    input.fields.push_back(*label);
    input.hasLabels = true;
    contents += ", labels '" + options.label + "'";
  } else if (label) {
    input.notes.push_back(path + " has no column '" + options.label +
                          "': predicting without labels, so without "
                          "accuracy");
  }
  if (scaling)
    input.notes.push_back("standardize: each feature minus the training "
                          "table's mean, over its standard deviation (the "
                          "checkpoint's data.standardize)");
  input.description = "csv table " + path + " (" + contents + ")";
  input.examples = std::make_unique<data::TensorExamples>(std::move(tensors));
  return input;
}

//===----------------------------------------------------------------------===//
// Images
//===----------------------------------------------------------------------===//

/// Images decoded on each read, as images(...) reads them.
class ImageFiles : public data::Examples {
public:
  ImageFiles(std::vector<std::string> paths, std::vector<int64_t> labels,
             const Field &image)
      : paths(std::move(paths)), labels(std::move(labels)),
        channels(static_cast<int>(image.shape[0])),
        height(static_cast<int>(image.shape[1])),
        width(static_cast<int>(image.shape[2])) {}

  int64_t size() const override { return static_cast<int64_t>(paths.size()); }

  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    if (!data::decodeImage(paths[index], channels, height, width,
                           static_cast<float *>(rows[0]), error))
      return false;
    if (!labels.empty())
      std::memcpy(rows[1], &labels[index], sizeof(int64_t));
    return true;
  }

private:
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  int channels, height, width;
};

/// What a directory holds, sorted by name.
struct Listing {
  std::vector<std::string> npy, images, folders;
};

Listing listDirectory(const std::string &dir) {
  std::unique_ptr<DIR, int (*)(DIR *)> handle(::opendir(dir.c_str()),
                                              ::closedir);
  if (!handle)
    throw Error(dir + ": cannot open the directory (" + std::strerror(errno) +
                "); make it readable, or give another --input");
  Listing listing;
  while (const dirent *entry = ::readdir(handle.get())) {
    std::string name = entry->d_name;
    struct stat status;
    if (name == "." || name == ".." ||
        ::stat((dir + "/" + name).c_str(), &status) != 0)
      continue;
    if (S_ISDIR(status.st_mode))
      listing.folders.push_back(name);
    else if (S_ISREG(status.st_mode) && endsWith(name, ".npy"))
      listing.npy.push_back(name);
    else if (S_ISREG(status.st_mode) && data::isImageFileName(name))
      listing.images.push_back(name);
  }
  for (auto *names : {&listing.npy, &listing.images, &listing.folders})
    std::sort(names->begin(), names->end());
  return listing;
}

/// Each image's class id by the checkpoint's class names, or by the sorted
/// folder names (torchvision's ImageFolder ids) when it has none or when no
/// folder bears one of its names (folders that number the classes, as
/// examples/data/fashion_to_pngs.py writes "0-t-shirt-top": a class name
/// such as "T-shirt/top" cannot name a folder). Folders that bear some of
/// the names but not all are an error: a folder misspelt.
std::vector<int64_t> folderLabels(const data::ImageFolder &folder,
                                  const Field &label,
                                  const PredictRequest &request,
                                  std::vector<std::string> &notes) {
  std::optional<std::vector<std::string>> names = checkpointClasses(request);
  bool byName = names && std::any_of(folder.classes.begin(),
                                     folder.classes.end(),
                                     [&](const std::string &name) {
                                       return std::count(names->begin(),
                                                         names->end(), name);
                                     });
  std::vector<int64_t> idOf(folder.classes.size());
  for (size_t c = 0; c < folder.classes.size(); ++c) {
    const std::string &name = folder.classes[c];
    std::string at = folder.root + "/" + name + ": the class folder '" + name;
    if (byName) {
      auto it = std::find(names->begin(), names->end(), name);
      if (it == names->end())
        throw Error(at + "' is not one of the model's " +
                    std::to_string(names->size()) + " classes (" +
                    data::quotedList(*names, 10) +
                    ", as the checkpoint's data.classes names them), while "
                    "other folders are; rename it, or give the images "
                    "without class folders to predict without accuracy");
      idOf[c] = it - names->begin();
    } else {
      idOf[c] = static_cast<int64_t>(c);
    }
    if (label.range > 0 && idOf[c] >= label.range)
      throw Error(at + "' is class " + std::to_string(idOf[c]) +
                  " in sorted order, but the model has " +
                  std::to_string(label.range) +
                  " classes; keep the class folders of training, or give the "
                  "images without class folders to predict without accuracy");
  }
  if (!names)
    notes.push_back("labels: the class folders' ids in sorted order (the "
                    "checkpoint has no data.classes)");
  else if (!byName)
    notes.push_back("labels: the class folders' ids in sorted order (no "
                    "folder is named after one of the checkpoint's "
                    "data.classes)");
  std::vector<int64_t> labels;
  for (int64_t c : folder.labels)
    labels.push_back(idOf[c]);
  return labels;
}

PredictInput openImages(const PredictRequest &request, const Listing &listing) {
  std::string root = request.path;
  while (root.size() > 1 && root.back() == '/')
    root.pop_back();
  const Field &image =
      onlyInput(request, "a directory of images", "the images f32[C, H, W]");
  const std::vector<int64_t> &shape = image.shape;
  if (image.dtype != io::DType::F32 || shape.size() != 3 ||
      (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1 ||
      shape[1] * shape[2] > data::kMaxImagePixels)
    throw Error(root +
                ": images fill an input f32[C, H, W] with C 1 (grey) "
                "or 3 (RGB), but the model's input '" +
                image.name + "' is " + data::formatField(image) +
                "; give the examples as a .npz archive with an array '" +
                image.name + "'");

  PredictInput input;
  input.fields = {image};
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  std::string error;
  if (!listing.images.empty()) {
    // The images themselves: no classes, so no labels.
    for (const std::string &name : listing.images) {
      paths.push_back(root + "/" + name);
      if (!data::checkImageFile(paths.back(), error))
        throw Error(error);
    }
    input.exampleNames = listing.images;
    if (const Field *label = classLabel(request))
      input.notes.push_back(root +
                            ": the images are not in class folders: "
                            "predicting without labels '" +
                            label->name + "', so without accuracy");
    if (!listing.folders.empty())
      input.notes.push_back(root + ": the folders " +
                            data::quotedList(listing.folders, 10) +
                            " are not read: the directory holds images "
                            "itself");
    input.description = "images from " + root + " (" +
                        std::to_string(paths.size()) +
                        (paths.size() == 1 ? " file)" : " files)");
  } else {
    data::ImageFolder folder;
    if (!data::scanImageFolder(root, nullptr, folder, error))
      throw Error(error);
    if (const Field *label = classLabel(request)) {
      labels = folderLabels(folder, *label, request, input.notes);
      input.fields.push_back(*label);
      input.hasLabels = true;
    }
    for (const std::string &path : folder.paths)
      input.exampleNames.push_back(path.substr(folder.root.size() + 1));
    input.notes.insert(input.notes.end(), folder.notes.begin(),
                       folder.notes.end());
    input.description =
        "images from " + root + " (" + std::to_string(folder.classes.size()) +
        (folder.classes.size() == 1 ? " class, " : " classes, ") +
        std::to_string(folder.paths.size()) +
        (folder.paths.size() == 1 ? " file)" : " files)");
    paths = std::move(folder.paths);
  }
  input.examples =
      std::make_unique<ImageFiles>(std::move(paths), std::move(labels), image);
  return input;
}

//===----------------------------------------------------------------------===//
// Telling the kinds apart
//===----------------------------------------------------------------------===//

PredictInput openDirectory(const PredictRequest &request) {
  Listing listing = listDirectory(request.path);
  if (!listing.npy.empty())
    return openArrays(request, false);
  if (!listing.images.empty() || !listing.folders.empty())
    return openImages(request, listing);
  throw Error(request.path +
              ": the directory holds no .npy files, no images and no "
              "folders; " +
              kFormats);
}

PredictInput openFile(const PredictRequest &request) {
  const std::string &path = request.path;
  if (endsWith(path, ".npz") || endsWith(path, ".safetensors"))
    return openArrays(request, false);
  if (endsWith(path, ".npy"))
    return openArrays(request, true);
  if (endsWith(path, ".csv"))
    return openTable(request, false);
  if (endsWith(path, ".tsv"))
    return openTable(request, true);
  // No known name: the first bytes tell the array formats apart.
  data::ByteSource file;
  std::string reason;
  char magic[9] = {};
  if (!data::ByteSource::openFile(path, file, reason) ||
      !file.read(0, std::min<uint64_t>(file.size(), sizeof(magic)), magic,
                 reason))
    throw Error(path + ": " + reason + "; " + kFormats);
  if (std::memcmp(magic, "\x93NUMPY", 6) == 0)
    return openArrays(request, true);
  if (std::memcmp(magic, "PK", 2) == 0 ||
      (file.size() > sizeof(magic) && magic[8] == '{'))
    return openArrays(request, false);
  if (data::isImageFileName(path))
    throw Error(path + ": predict reads images from a directory; put the "
                       "image in one and give the directory");
  throw Error(path +
              ": byte 0: not a kind of file that predict reads (by "
              "its name or its first bytes); " +
              kFormats);
}

} // namespace

PredictInput kiln::train::openPredictInput(const PredictRequest &request) {
  const std::string &path = request.path;
  if (request.inputs.empty())
    throw Error("the model's forward pass reads no input: predict has "
                "nothing to give it");
  struct stat status;
  if (path.empty() || ::stat(path.c_str(), &status) != 0)
    throw Error(
        (path.empty()
             ? std::string("--input is empty")
             : path + ": cannot open it (" + std::strerror(errno) + ")") +
        "; give the file or directory of the examples to predict: " + kFormats);
  try {
    return S_ISDIR(status.st_mode) ? openDirectory(request) : openFile(request);
  } catch (const data::BadArgument &bad) {
    throw Error("the program's description is invalid: recipe.data: " +
                    std::string(bad.what()),
                "rebuild the trainer with the kilnc that matches this runtime");
  } catch (const std::bad_alloc &) {
    throw Error(path + ": out of memory while opening it; a table and a "
                       "deflated .npz member (numpy.savez_compressed) are "
                       "held in memory: save the examples with numpy.savez, "
                       "whose arrays are read from the file as needed");
  }
}
