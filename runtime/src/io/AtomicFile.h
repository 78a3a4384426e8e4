//===- AtomicFile.h - Writing a file so that a crash never halves it ------===//

#ifndef KILN_RUNTIME_IO_ATOMICFILE_H
#define KILN_RUNTIME_IO_ATOMICFILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::io {

/// Bytes to write, in place.
struct Bytes {
  const void *data;
  size_t size;
};

/// Writes `pieces`, one after the other, to `path` atomically: to a
/// temporary file in the same directory, flushed with fsync, then renamed
/// over `path` and the directory flushed, so that a crash leaves either the
/// old file or the new one, never a half-written one. On failure returns
/// false and sets `error`, naming the file and what to check.
bool writeFileAtomically(const std::string &path,
                         const std::vector<Bytes> &pieces, std::string &error);

} // namespace kiln::io

#endif // KILN_RUNTIME_IO_ATOMICFILE_H
