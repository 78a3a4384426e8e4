"""kilnc's printed stages, read back: continuing from any of them gives what
kilnc gives from the .kiln source.

usage: stage_round_trip.py KILNC EXAMPLES_DIR MODEL...

For each model, prints its stages kiln, kiln-grad, train-step, linalg and
llvm-dialect from the source; then, for each printed stage S and each later
one T, checks that `kilnc S.mlir -emit=T` equals `kilnc MODEL.kiln -emit=T`
byte for byte. Prints one line per entry stage and exits 1 at the first
difference, with the first differing lines.
"""
import os
import sys
import tempfile

from stages import require_equal, run

STAGES = ["kiln", "kiln-grad", "train-step", "linalg", "llvm-dialect"]


def main():
    kilnc, examples = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as work:
        for model in sys.argv[3:]:
            source = os.path.join(examples, model + ".kiln")
            printed = {stage: run([kilnc, source, "-emit=" + stage]) for stage in STAGES}
            for i, entry in enumerate(STAGES):
                path = os.path.join(work, f"{model}-{entry}.mlir")
                with open(path, "w") as f:
                    f.write(printed[entry])
                for later in STAGES[i:]:
                    remade = run([kilnc, path, "-emit=" + later])
                    require_equal(printed[later], remade, f"{model}.kiln",
                                  f"{model}-{entry}.mlir",
                                  f"{model} from {entry} to {later}")
                print(f"{model} from {entry}: {len(STAGES) - i} stages equal")


if __name__ == "__main__":
    main()
