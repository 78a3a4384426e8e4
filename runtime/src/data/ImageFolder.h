//===- ImageFolder.h - Folders of images, one per class, decoded by stb ---===//
//
// The layout of torchvision's ImageFolder: ROOT/CLASS/.../FILE, the classes
// being the sorted names of ROOT's folders. Opening the images(...) source
// scans the folders and checks every file's header, and keeps the paths
// only; an example is decoded when it is read, so a folder larger than
// memory trains.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_IMAGEFOLDER_H
#define KILN_RUNTIME_DATA_IMAGEFOLDER_H

#include "data/Source.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::data {

/// The extensions of the files that are read (any case), in the order the
/// messages list them: what stb_image decodes.
inline constexpr const char *kImageExtensions[] = {
    ".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tga", ".gif"};

/// The most pixels (width times height) of one image: bounds the memory that
/// decoding one example takes.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 26;

/// Whether `name` ends in one of kImageExtensions, in any case.
bool isImageFileName(std::string_view name);

/// The images of one split.
struct ImageFolder {
  /// The folder, without trailing slashes.
  std::string root;
  /// The names of its class folders, sorted.
  std::vector<std::string> classes;
  /// Every image, sorted as torchvision sorts them: by class, then by the
  /// folder that holds it, then by name.
  std::vector<std::string> paths;
  /// The class id of each image.
  std::vector<int64_t> labels;
  /// What the trainer should print about the scan: symbolic-link loops that
  /// were not followed, files that torchvision would read but stb cannot.
  std::vector<std::string> notes;
};

/// Scans `root` and checks the header of every image (checkImageFile). The
/// labels are the index of each class in `folder.classes`, or, for a test
/// split (`trainClasses` given), in `trainClasses`, which must then hold
/// every class folder of `root`. On failure returns false and sets `error`.
bool scanImageFolder(const std::string &root,
                     const std::vector<std::string> *trainClasses,
                     ImageFolder &folder, std::string &error);

/// Checks that `path` is a regular file that stb_image can decode, without
/// decoding it: its header, its size and, for the formats whose decoder in
/// stb does not notice a truncated file, that the file is as long as its
/// header says. On failure returns false and sets `error`.
bool checkImageFile(const std::string &path, std::string &error);

/// Decodes the image `path` with `channels` channels (1 grey, 3 RGB; stb
/// converts between them and drops alpha), resizes it to height x width
/// unless it has that size, and writes channels x height x width floats in
/// [0, 1] to `out`, each byte v as v / 255 (torchvision's ToTensor). Safe to
/// call from several threads at once. On failure returns false and sets
/// `error`.
bool decodeImage(const std::string &path, int channels, int height, int width,
                 float *out, std::string &error);

/// The images(...) source (registered in Sources.cpp).
bool openImages(const SourceRequest &request, OpenedSource &opened,
                std::string &error);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_IMAGEFOLDER_H
