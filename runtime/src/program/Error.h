//===- Error.h - The errors of a trainer or an inference library ----------===//
//
// Every problem that stops the trainer is thrown as an Error and printed once,
// by the driver; an inference library returns its message to the caller. Its
// exit status tells a script a usage mistake (2: a bad flag or flag value)
// from a data or file problem (1).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_PROGRAM_ERROR_H
#define KILN_RUNTIME_PROGRAM_ERROR_H

#include <stdexcept>
#include <string>

namespace kiln::program {

/// kExitNoDevice: a GPU program found no driver or no GPU it can run on, so
/// that a script can tell "cannot run here" from a failure.
enum ExitStatus : int {
  kExitSuccess = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitNoDevice = 3
};

/// What went wrong (naming the flag, file, tensor or value), what to do about
/// it when the message does not say, and the exit status.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message, std::string hint = {},
                 int status = kExitFailure)
      : std::runtime_error(message), hintText(std::move(hint)),
        exitStatus(status) {}

  const std::string &hint() const { return hintText; }
  int status() const { return exitStatus; }

private:
  std::string hintText;
  int exitStatus;
};

/// A bad flag or flag value: exit status 2.
inline Error usageError(const std::string &message, std::string hint = {}) {
  return Error(message, std::move(hint), kExitUsage);
}

} // namespace kiln::program

#endif // KILN_RUNTIME_PROGRAM_ERROR_H
