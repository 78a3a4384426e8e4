//===- Files.cpp - Reading whole files for the data loaders ---------------===//

#include "data/Files.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;

bool data::readWholeFile(const std::string &path, std::string &contents,
                         std::string &reason) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    reason = std::string("cannot open it (") + std::strerror(errno) + ")";
    return false;
  }
  struct stat status;
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    reason = "it is not a regular file";
    ::close(fd);
    return false;
  }
  // One read of the size that fstat gives, then on to the end in case the
  // file grew meanwhile.
  contents.resize(static_cast<size_t>(status.st_size));
  size_t done = 0;
  for (;;) {
    if (done == contents.size())
      contents.resize(contents.size() + 4096);
    ssize_t count = ::read(fd, contents.data() + done, contents.size() - done);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      reason = std::string("cannot read it (") + std::strerror(errno) + ")";
      ::close(fd);
      return false;
    }
    if (count == 0)
      break;
    done += static_cast<size_t>(count);
  }
  ::close(fd);
  contents.resize(done);
  return true;
}

bool data::readAt(int fd, uint64_t offset, void *out, size_t size,
                  size_t &got) {
  auto *bytes = static_cast<uint8_t *>(out);
  got = 0;
  while (got < size) {
    ssize_t count =
        ::pread(fd, bytes + got, size - got, static_cast<off_t>(offset + got));
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0)
      return false;
    if (count == 0)
      break;
    got += static_cast<size_t>(count);
  }
  return true;
}
