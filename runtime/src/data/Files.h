//===- Files.h - Reading whole files for the data loaders -----------------===//

#ifndef KILN_RUNTIME_DATA_FILES_H
#define KILN_RUNTIME_DATA_FILES_H

#include <string>

namespace kiln::data {

/// Reads the file at `path` into `contents`. On failure returns false and sets
/// `reason` to why, e.g. "cannot open it (No such file or directory)".
bool readWholeFile(const std::string &path, std::string &contents,
                   std::string &reason);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_FILES_H
