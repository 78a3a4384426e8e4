"""Checks a trainer's compiled forward against the reference evaluator: the
trainer trains a few steps and saves its parameters, predicts the logits of
one batch of random inputs with them (`TRAINER predict`), and `kilnc
-emit=kiln -run-reference` computes the model's function in float64 on the
same parameters and inputs. The logits must agree norm-wise within
--tolerance.

usage: predict_vs_reference.py MODEL TRAINER --kilnc PATH --workdir DIR
       --input NAME:SHAPE... --label NAME:SIZE:CLASSES [--steps N]
       [--tolerance T]
prints the relative difference and "forward: ok" or "forward: FAIL"; exit
status 1 on a mismatch or a failed command.
"""
import argparse
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
import tensors  # noqa: E402


def run(command):
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        print(f"forward: FAIL ({os.path.basename(command[0])} exited with "
              f"{result.returncode})")
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("trainer")
    parser.add_argument("--kilnc", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--input", action="append", required=True,
                        metavar="NAME:SHAPE",
                        help="an f32 input and its shape, batch first: x:8x6")
    parser.add_argument("--label", required=True, metavar="NAME:SIZE:CLASSES",
                        help="the i64 labels: label:8:3")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    a = parser.parse_args()
    os.makedirs(a.workdir, exist_ok=True)

    def path(name):
        return os.path.join(a.workdir, name)

    run([a.trainer, "--max-steps", str(a.steps), "--save", path("params.safetensors"),
         "--quiet"])
    rng = random.Random(1)
    batch = {}
    for spec in a.input:
        name, shape = spec.split(":")
        dims = [int(d) for d in shape.split("x")]
        count = 1
        for d in dims:
            count *= d
        batch[name] = ("F32", dims, [rng.uniform(-2, 2) for _ in range(count)])
    name, size, classes = a.label.split(":")
    batch[name] = ("I64", [int(size)], [rng.randrange(int(classes)) for _ in range(int(size))])
    tensors.write(path("batch.safetensors"), batch)

    run([a.trainer, "predict", "--checkpoint", path("params.safetensors"),
         "--input", path("batch.safetensors"), "--output", path("predicted.safetensors"),
         "--quiet"])
    # The evaluator takes the arguments it needs and ignores the checkpoint's
    # optimizer state.
    params = tensors.read(path("params.safetensors"))
    tensors.write(path("reference-in.safetensors"), {**params, **batch})
    run([a.kilnc, a.model, "-emit=kiln", "-run-reference",
         f"-inputs={path('reference-in.safetensors')}",
         f"-outputs={path('reference-out.safetensors')}"])

    predicted = tensors.read(path("predicted.safetensors"))["logits"]
    expected = tensors.read(path("reference-out.safetensors"))["logits"]
    if predicted[1] != expected[1]:
        print(f"forward: FAIL (logits of shape {predicted[1]}, expected {expected[1]})")
        return 1
    error = tensors.relative_error(predicted[2], expected[2])
    print(f"logits of {expected[1][0]} examples: relative difference {error:.1e}")
    if not error <= a.tolerance:
        print(f"forward: FAIL (more than {a.tolerance:g})")
        return 1
    print("forward: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
