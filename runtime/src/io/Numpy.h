//===- Numpy.h - Writing NumPy's .npy files and .npz archives -------------===//
//
// What `trainer predict` writes for NumPy users: a .npy file (format 1.0,
// little-endian, C order) of one array, or a .npz archive of named ones
// (stored members, as numpy.savez writes them). Reading is the data layer's
// (data/TensorFiles.h).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_IO_NUMPY_H
#define KILN_RUNTIME_IO_NUMPY_H

#include "io/Safetensors.h"

#include <string>
#include <utility>
#include <vector>

namespace kiln::io {

/// Writes `tensor` to `path` atomically. On failure returns false and sets
/// `error`.
bool writeNpyFile(const std::string &path, const TensorData &tensor,
                  std::string &error);

/// Writes `arrays` to `path` atomically, each as the member NAME.npy, in
/// order. On failure returns false and sets `error`.
bool writeNpzFile(const std::string &path,
                  const std::vector<std::pair<std::string, TensorData>> &arrays,
                  std::string &error);

} // namespace kiln::io

#endif // KILN_RUNTIME_IO_NUMPY_H
