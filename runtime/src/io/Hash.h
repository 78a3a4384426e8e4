//===- Hash.h - FNV-1a, the runtime's one non-cryptographic hash ----------===//
//
// Used where a stable 64-bit digest is needed across runs and machines:
// parameter streams drawn from names, checkpoint fingerprints of slot lists,
// the ranks' check that they start from the same weights.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IO_HASH_H
#define KILN_IO_HASH_H

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kiln::io {

constexpr uint64_t kFnvBasis = 0xcbf29ce484222325;

/// Continues the FNV-1a hash `hash` (64 bits) over `size` bytes at `data`.
inline uint64_t fnv1a64(const void *data, size_t size,
                        uint64_t hash = kFnvBasis) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3;
  return hash;
}

inline uint64_t fnv1a64(std::string_view text, uint64_t hash = kFnvBasis) {
  return fnv1a64(text.data(), text.size(), hash);
}

} // namespace kiln::io

#endif // KILN_IO_HASH_H
