//===- ImagesSource.cpp - The images(...) source: folders of images -------===//
//
// images(train: DIR, test: DIR, size: [H, W], channels: C) fills two inputs:
// the images, f32[C, H, W], and their class ids, i64[]. The folders are
// scanned and every header checked at open; an example is decoded, converted
// and resized when it is read (ImageFolder.h), so a folder larger than memory
// trains, and any number of batch threads can read at once.
//
//===----------------------------------------------------------------------===//

#include "data/ImageFolder.h"
#include "data/Text.h"

#include <cmath>
#include <cstring>
#include <new>

using namespace kiln;
using namespace kiln::data;

namespace {

/// The examples of one split: paths and labels; the pixels are decoded on
/// each read.
class ImageExamples : public Examples {
public:
  ImageExamples(ImageFolder folder, const char *split, int channels, int height,
                int width)
      : folder(std::move(folder)), split(split), channels(channels),
        height(height), width(width) {}

  int64_t size() const override {
    return static_cast<int64_t>(folder.paths.size());
  }

  bool read(int64_t index, void *const *rows,
            std::string &error) const override {
    auto example = [&] {
      return std::string(split) + " example " + std::to_string(index) + ": ";
    };
    if (index < 0 || index >= size()) {
      error = example() + "the split has " + std::to_string(size()) +
              " examples, from " + folder.root;
      return false;
    }
    if (!decodeImage(folder.paths[index], channels, height, width,
                     static_cast<float *>(rows[0]), error)) {
      error = example() + error;
      return false;
    }
    std::memcpy(rows[1], &folder.labels[index], sizeof(int64_t));
    return true;
  }

private:
  ImageFolder folder;
  const char *split;
  int channels, height, width;
};

std::string counted(size_t count, const char *singular, const char *plural) {
  return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

std::string summary(const ImageFolder &folder) {
  return folder.root + " (" +
         counted(folder.classes.size(), "class", "classes") + ", " +
         counted(folder.paths.size(), "file", "files") + ")";
}

/// "classes: 0 cat, 1 dog", the first 20 of them.
std::string classNote(const std::vector<std::string> &classes) {
  constexpr size_t kShown = 20;
  std::string note = "classes:";
  for (size_t i = 0; i < classes.size() && i < kShown; ++i)
    note += (i ? ", " : " ") + std::to_string(i) + " " + classes[i];
  if (classes.size() > kShown)
    note += ", ... (" + std::to_string(classes.size()) +
            " in all; the checkpoint's data.classes lists them)";
  return note;
}

bool checkArguments(const SourceRequest &request, int &channels, int &height,
                    int &width, std::string &error) {
  std::vector<double> size = request.args.reals("size");
  bool whole = size.size() == 2;
  for (double side : size)
    whole = whole && side >= 1 && side <= kMaxImagePixels &&
            std::floor(side) == side;
  if (!whole || size[0] * size[1] > kMaxImagePixels) {
    std::string given;
    for (double side : size)
      given += (given.empty() ? "" : ", ") + shortNumber(side);
    error = "images(...): size is [" + given +
            "]; give [height, width], two whole numbers of pixels above 0 "
            "(at most " +
            std::to_string(kMaxImagePixels) + " pixels in all)";
    return false;
  }
  height = static_cast<int>(size[0]);
  width = static_cast<int>(size[1]);
  int64_t given = request.args.integer("channels");
  if (given != 1 && given != 3) {
    error = "images(...): channels is " + std::to_string(given) +
            "; give 1 (grey) or 3 (RGB)";
    return false;
  }
  channels = static_cast<int>(given);

  const std::vector<Field> &fields = request.fields;
  if (fields.size() != 2) {
    error = "images(...): the model has " +
            counted(fields.size(), "input", "inputs") +
            ", but images(...) fills two: first the images, f32[C, H, W], "
            "then their class ids, i64[]; declare the model's inputs so";
    return false;
  }
  const Field &images = fields[0];
  std::vector<int64_t> shape = {channels, height, width};
  if (images.dtype != io::DType::F32 || images.shape != shape) {
    error = "images(...): the model's input '" + images.name + "' is " +
            formatField(images) +
            ", but images(...) with channels: " + std::to_string(channels) +
            " and size: [" + std::to_string(height) + ", " +
            std::to_string(width) + "] makes f32[" + std::to_string(channels) +
            ", " + std::to_string(height) + ", " + std::to_string(width) +
            "] images; make them agree (the input's type, or channels and "
            "size)";
    return false;
  }
  const Field &labels = fields[1];
  if (labels.dtype != io::DType::I64 || !labels.shape.empty()) {
    error = "images(...): the model's input '" + labels.name + "' is " +
            formatField(labels) +
            ", but images(...) gives one class id per image, i64[]; "
            "declare it i64[batch]";
    return false;
  }
  return true;
}

} // namespace

bool data::openImages(const SourceRequest &request, OpenedSource &opened,
                      std::string &error) {
  int channels = 0, height = 0, width = 0;
  if (!checkArguments(request, channels, height, width, error))
    return false;
  const std::string &trainPath = request.args.string("train");
  const std::string &testPath = request.args.string("test");
  if (trainPath.empty()) {
    error = "images(...): train is empty; give the folder of the training "
            "images";
    return false;
  }
  try {
    ImageFolder train, test;
    if (!scanImageFolder(request.resolve(trainPath), nullptr, train, error))
      return false;
    const Field &labels = request.fields[1];
    if (labels.range > 0 &&
        static_cast<int64_t>(train.classes.size()) > labels.range) {
      error = train.root + ": " + std::to_string(train.classes.size()) +
              " class folders, but the model's input '" + labels.name +
              "' takes class ids in [0, " + std::to_string(labels.range) +
              "); give the model " + std::to_string(train.classes.size()) +
              " classes (the size of its output), or keep " +
              std::to_string(labels.range) + " class folders";
      return false;
    }
    if (!testPath.empty() && !scanImageFolder(request.resolve(testPath),
                                              &train.classes, test, error))
      return false;

    OpenedSource result;
    result.description = "images from " + summary(train) +
                         (testPath.empty() ? std::string(", no test split")
                                           : " and " + summary(test));
    result.notes.push_back(classNote(train.classes));
    for (const ImageFolder *folder : {&train, &test})
      result.notes.insert(result.notes.end(), folder->notes.begin(),
                          folder->notes.end());
    result.metadata["data.classes"] = jsonStringList(train.classes);
    result.train = std::make_unique<ImageExamples>(std::move(train), "training",
                                                   channels, height, width);
    if (testPath.empty())
      result.test = noExamples();
    else
      result.test = std::make_unique<ImageExamples>(std::move(test), "test",
                                                    channels, height, width);
    opened = std::move(result);
    return true;
  } catch (const std::bad_alloc &) {
    error = request.resolve(trainPath) +
            ": out of memory while listing the images; give folders of "
            "fewer files";
    return false;
  }
}
