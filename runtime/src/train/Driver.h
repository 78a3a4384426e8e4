//===- Driver.h - A whole training run, from flags to the final result ----===//

#ifndef KILN_RUNTIME_TRAIN_DRIVER_H
#define KILN_RUNTIME_TRAIN_DRIVER_H

struct kiln_program;

namespace kiln::train {

/// The trainer's main(): parses the flags, checks the program, loads the
/// data, trains and evaluates `compiled`, and prints the final result.
/// Returns the exit status: 0 on success, 1 on a data or file error, 2 on a
/// bad flag.
int runTrainer(int argc, char **argv, const kiln_program &compiled);

} // namespace kiln::train

#endif // KILN_RUNTIME_TRAIN_DRIVER_H
