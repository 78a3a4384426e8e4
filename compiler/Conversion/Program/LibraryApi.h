//===- LibraryApi.h - The C API of an inference library -------------------===//
//
// An inference library (kilnc --emit=lib) exports four functions named after
// its model: `<prefix>_load`, `<prefix>_run`, `<prefix>_last_error` and
// `<prefix>_free`. kiln-emit-library-api defines them in the object file and
// kilnc writes their header; both read them from here, which reads the
// program's description, so the two cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_CONVERSION_PROGRAM_LIBRARYAPI_H
#define KILN_CONVERSION_PROGRAM_LIBRARYAPI_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// An input or output of the prediction step.
struct LibraryTensor {
  std::string name;
  /// "f32", "f64" or "i64".
  std::string dtype;
  std::vector<int64_t> shape;

  int64_t numElements() const;
  /// The C element type: "float", "double" or "int64_t".
  llvm::StringRef cType() const;
};

struct LibraryApi {
  /// The prefix of the functions: a C identifier.
  std::string prefix;
  std::string model;
  int64_t batchSize = 0;
  /// In the order of the prediction step's slots: the arguments of
  /// `<prefix>_run` after the model.
  std::vector<LibraryTensor> inputs, outputs;

  /// Reads the prediction step of `description` (kiln_runtime.h). An empty
  /// `prefix` is the model's name, made a C identifier.
  static llvm::Expected<LibraryApi> fromDescription(llvm::StringRef description,
                                                    llvm::StringRef prefix);

  /// `<prefix>_<suffix>`: "cnn_load".
  std::string function(llvm::StringRef suffix) const {
    return prefix + "_" + suffix.str();
  }

  /// Writes the C header of the library; `source` names the model file.
  void writeHeader(llvm::raw_ostream &os, llvm::StringRef source) const;
};

/// Whether `name` can name C functions: [A-Za-z_][A-Za-z0-9_]*.
bool isCIdentifier(llvm::StringRef name);

} // namespace kiln

#endif // KILN_CONVERSION_PROGRAM_LIBRARYAPI_H
