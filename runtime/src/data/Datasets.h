//===- Datasets.h - The data sources of the trainers ----------------------===//
//
// The three sources of the language's train section (Fashion-MNIST, the word
// language task, synthetic data), the order of examples in each epoch, and
// the copy of a batch into the buffers of the training step. No LLVM or MLIR,
// and no exceptions leave these functions: loaders report every problem in
// `error`, naming the file, the byte offset and what to do about it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_DATA_DATASETS_H
#define KILN_RUNTIME_DATA_DATASETS_H

#include "io/Safetensors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::data {

/// Examples in memory: fields (e.g. images, then labels), each a tensor whose
/// first dimension indexes the examples. All fields have the same first
/// dimension.
struct Dataset {
  std::vector<io::TensorData> fields;

  /// The number of examples: the first dimension of the fields, 0 when there
  /// are none.
  int64_t size() const;
};

/// The training and test examples of a source, with the same fields.
struct Split {
  Dataset train, test;
};

/// Where Debian's dataset-fashion-mnist installs its files.
inline constexpr const char *kFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

/// The names of Fashion-MNIST's classes by id, as torchvision's
/// FashionMNIST.classes gives them.
inline constexpr const char *kFashionMnistClasses[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// Reads the four gzip IDX files of Fashion-MNIST in `dir`
/// (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz and the t10k-
/// ones). Fields: images f32 [N, 1, 28, 28], each pixel (0 to 255) times
/// `scale` (computed in double, then rounded: with scale 1/255 this is
/// exactly PyTorch's `uint8.float().div(255)`), and labels i64 [N] in
/// [0, 10). Checks the gzip streams, the IDX headers, the data lengths, the
/// labels and that images and labels agree in number. On failure returns
/// false, leaves `out` unchanged and sets `error`.
bool loadFashionMnist(const std::string &dir, double scale, Split &out,
                      std::string &error);

/// Where Debian's word lists (packages wamerican, wngerman, ...) live.
inline constexpr const char *kDictDir = "/usr/share/dict";

/// The word lists of the word language task in label order, as named in
/// kDictDir, and the Debian package that installs each.
struct WordList {
  const char *file;
  const char *package;
};
inline constexpr WordList kWordLists[] = {{"american-english", "wamerican"},
                                          {"ngerman", "wngerman"},
                                          {"french", "wfrench"},
                                          {"italian", "witalian"},
                                          {"spanish", "wspanish"},
                                          {"portuguese", "wportuguese"},
                                          {"dutch", "wdutch"},
                                          {"swedish", "wswedish"},
                                          {"danish", "wdanish"},
                                          {"polish", "wpolish"}};

/// The number of character ids of the word language task: 0 is padding, 1 an
/// unknown character, 2 and up the most frequent characters.
inline constexpr int64_t kWordLangVocabulary = 100;

/// Builds the word language task from the lists of kWordLists in `dictDir`:
/// which language a word comes from. Each file is decoded as UTF-8, or as
/// Latin-1 when it is not valid UTF-8; a word is a line stripped of
/// " \t\r\n\f\v", skipping empty lines and words with an apostrophe, with
/// A-Z lower-cased; each language's words are a set, and words in more than
/// one language are dropped. Each language's words are ordered by the FNV-1a
/// 64-bit hash of their UTF-8 bytes, then by code points; the first
/// `trainPerLanguage` are training words, the next `testPerLanguage` test
/// words, language 0's first. Character ids: 0 pad, 1 unknown, 2 and up the
/// 98 most frequent code points of the training words (ties: the smaller code
/// point first). Fields: ids i64 [N, length] of each word's first `length`
/// code points, left-padded with 0, and the language i64 [N]. Fails when a
/// language has fewer than trainPerLanguage + testPerLanguage words. When
/// `vocabulary` is given it receives the code points of ids 2, 3, ... On
/// failure returns false, leaves the outputs unchanged and sets `error`.
bool loadWordLang(const std::string &dictDir, int64_t trainPerLanguage,
                  int64_t testPerLanguage, int64_t length, Split &out,
                  std::string &error,
                  std::vector<char32_t> *vocabulary = nullptr);

/// One field of synthetic data: its element type and the shape of one
/// example (without the example dimension).
struct FieldSpec {
  io::DType dtype;
  std::vector<int64_t> shape;
};

/// Random examples of the given fields: f32 and f64 elements uniform in
/// [0, 1), i64 elements uniform in [0, classes). Uniform rather than normal
/// because it needs no libm function, so every machine makes the same bits.
/// Each (split, field) has its own stream, so the test data does not depend on
/// the number of training examples. Fails on negative sizes or shapes, or
/// classes < 1 with an i64 field.
bool makeSynthetic(const std::vector<FieldSpec> &fields, int64_t train,
                   int64_t test, int64_t classes, uint64_t seed, Split &out,
                   std::string &error);

/// The order of the examples 0 .. size-1 in epoch `epoch`: a Fisher-Yates
/// shuffle driven by a SplitMix64 stream of (seed, epoch), the same on every
/// machine and library, or 0, 1, ... when `shuffle` is false.
std::vector<int64_t> epochOrder(int64_t size, uint64_t seed, int64_t epoch,
                                bool shuffle);

/// Copies the examples order[begin], ..., order[begin + count - 1] of every
/// field of `data`, in that order, to destinations[field], which must hold
/// `count` examples of the field. The indices must be valid examples.
void gatherBatch(const Dataset &data, const std::vector<int64_t> &order,
                 int64_t begin, int64_t count,
                 const std::vector<void *> &destinations);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_DATASETS_H
