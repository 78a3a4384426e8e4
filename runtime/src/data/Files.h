//===- Files.h - Reading whole files for the data loaders -----------------===//

#ifndef KILN_RUNTIME_DATA_FILES_H
#define KILN_RUNTIME_DATA_FILES_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace kiln::data {

/// Reads the file at `path` into `contents`. On failure returns false and sets
/// `reason` to why, e.g. "cannot open it (No such file or directory)".
bool readWholeFile(const std::string &path, std::string &contents,
                   std::string &reason);

/// Reads up to `size` bytes at `offset` of `fd` into `out` with pread, any
/// thread at once; `got` is fewer only at the end of the file. On failure
/// returns false with errno set.
bool readAt(int fd, uint64_t offset, void *out, size_t size, size_t &got);

} // namespace kiln::data

#endif // KILN_RUNTIME_DATA_FILES_H
