//===- Main.cpp - The main() of every training executable -----------------===//
//
// Kept apart from the rest of the trainer, in its own library, because it
// needs the kiln_compiled_program of a generated object file, which the
// trainer's unit tests do not have.
//
//===----------------------------------------------------------------------===//

#include "train/Driver.h"

#include "kiln/kiln_runtime.h"

int main(int argc, char **argv) {
  return kiln::train::runTrainer(argc, argv, kiln_compiled_program);
}
