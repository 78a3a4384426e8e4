//===- AtomicFile.cpp - Writing a file so that a crash never halves it ----===//

#include "io/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::io;

namespace {

std::string systemError() { return std::strerror(errno); }

bool writeAll(int fd, const void *bytes, size_t size) {
  const auto *data = static_cast<const uint8_t *>(bytes);
  while (size) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= n;
  }
  return true;
}

} // namespace

bool kiln::io::writeFileAtomically(const std::string &path,
                                   const std::vector<Bytes> &pieces,
                                   std::string &error) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty())
    directory = ".";
  std::string temporary =
      (directory /
       (std::filesystem::path(path).filename().string() + ".tmp.XXXXXX"))
          .string();
  int fd = ::mkstemp(temporary.data());
  if (fd < 0) {
    error = path + ": cannot create a temporary file in '" +
            directory.string() + "' (" + systemError() +
            "); check that the directory exists and is writable";
    return false;
  }
  auto abandon = [&](const std::string &what) {
    error = path + ": " + what + " (" + systemError() +
            "); check the free space and permissions of '" +
            directory.string() + "'";
    ::close(fd);
    ::unlink(temporary.c_str());
    return false;
  };
  for (const Bytes &piece : pieces)
    if (!writeAll(fd, piece.data, piece.size))
      return abandon("cannot write the temporary file " + temporary);
  // mkstemp makes the file private; a data file is as readable as any.
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
    return abandon("cannot flush the temporary file " + temporary);
  if (::close(fd) != 0) {
    error = path + ": cannot close the temporary file " + temporary + " (" +
            systemError() + "); check the free space of '" +
            directory.string() + "'";
    ::unlink(temporary.c_str());
    return false;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": cannot rename " + temporary + " over it (" +
            systemError() + "); check that the path is not a directory";
    ::unlink(temporary.c_str());
    return false;
  }
  // The rename is durable only once the directory entry is on disk too.
  int dirFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0 || ::fsync(dirFd) != 0) {
    error = path + ": written, but cannot flush the directory '" +
            directory.string() + "' (" + systemError() +
            "); the file may not survive a crash";
    if (dirFd >= 0)
      ::close(dirFd);
    return false;
  }
  ::close(dirFd);
  return true;
}
