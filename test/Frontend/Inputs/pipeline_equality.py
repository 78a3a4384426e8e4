"""kilnc's stages, made again by kiln-opt from kilnc's printed pipelines.

usage: pipeline_equality.py KILNC KILN_OPT EXAMPLES_DIR MODEL...

For each model and each stage that one MLIR pipeline makes (kiln-grad,
train-step and linalg from -emit=kiln's output, llvm-dialect from
-emit=linalg's), runs `kiln-opt --pass-pipeline="$(kilnc --dump-pipeline
-emit=STAGE)"` on the source stage and checks that its output equals
`kilnc -emit=STAGE`, byte for byte. Prints one line per check and exits 1 on
the first difference, with the first differing lines.
"""
import os
import sys

from stages import require_equal, run

STAGES = [("kiln-grad", "kiln"), ("train-step", "kiln"), ("linalg", "kiln"),
          ("llvm-dialect", "linalg")]


def main():
    kilnc, kiln_opt, examples = sys.argv[1:4]
    for model in sys.argv[4:]:
        source = os.path.join(examples, model + ".kiln")
        printed = {}
        for stage in ["kiln", "linalg"] + [s for s, _ in STAGES]:
            if stage not in printed:
                printed[stage] = run([kilnc, source, "-emit=" + stage])
        for stage, start in STAGES:
            pipeline = run([kilnc, "--dump-pipeline", "-emit=" + stage]).strip()
            remade = run([kiln_opt, "--pass-pipeline=" + pipeline, "-"],
                         stdin=printed[start])
            require_equal(printed[stage], remade, "kilnc -emit=" + stage,
                          "kiln-opt", f"{model} {stage}")
            print(f"{model} {stage}: equal")


if __name__ == "__main__":
    main()
