"""Compares every kiln op, evaluated by kiln-run (the reference evaluator),
with PyTorch.

Each case of torch_cases.CASES is a small .mlir file with one function that
applies one op to named arguments; its inputs are written with
kiln_safetensors, kiln-run evaluates it, and every result is compared with
what PyTorch computes. The f64 cases run kiln-run in f64 precision against
PyTorch in float64 and allow a relative error of 1e-9; the F32_CASES run both
in float32 and allow 1e-5. A relative error divides by max(|expected|, floor):
near zero the floor makes it an absolute error, since sums that cancel keep
rounding errors of the size of their terms, not of their result.

Prints one line per case and a summary; exits 1 when any case mismatches.
"""
import argparse
import inspect
import math
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import torch

from kiln_case import ELEMENT_TYPES, Case
from torch_cases import CASES, F32_CASES

# (largest relative error, floor of the denominator) by precision.
TOLERANCE = {torch.float64: (1e-9, 1e-3), torch.float32: (1e-5, 1.0)}


def relative_error(actual, expected, floor):
    if not expected.dtype.is_floating_point:
        return 0.0 if torch.equal(actual, expected) else math.inf
    if expected.numel() == 0:
        return 0.0
    a, e = actual.double(), expected.double()
    return ((a - e).abs() / e.abs().clamp(min=floor)).max().item()


def build(c, op, fn, kwargs):
    """Fills `c` with the case; functions that serve several ops take the
    op's name as their second parameter."""
    if list(inspect.signature(fn).parameters)[1:2] == ["op"]:
        fn(c, op, **kwargs)
    else:
        fn(c, **kwargs)


def run_case(args, safetensors, name, dtype, op, fn, kwargs):
    """Runs one case through kiln-run. Returns the largest relative error and
    the output where it occurs, or infinity and what went wrong."""
    c = Case(name, dtype)
    build(c, op, fn, kwargs)
    base = os.path.join(args.workdir, name.replace("/", "-"))
    with open(base + ".mlir", "w") as f:
        f.write(c.mlir())
    safetensors.write(base + ".in.safetensors", dict(c.args))
    run = subprocess.run([args.kiln_run, base + ".mlir",
                          "-inputs", base + ".in.safetensors",
                          "-outputs", base + ".out.safetensors",
                          "-precision", ELEMENT_TYPES[dtype]],
                         capture_output=True, text=True)
    if run.returncode:
        return math.inf, f"kiln-run failed on {base}.mlir:\n{run.stderr}"
    outputs, _ = safetensors.read(base + ".out.safetensors")
    worst, where = 0.0, ""
    for _, output, expected in c.outputs:
        actual = outputs[output]
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            return math.inf, (f"{output} is {actual.dtype} {list(actual.shape)}, "
                              f"PyTorch's is {expected.dtype} {list(expected.shape)}")
        error = relative_error(actual, expected, TOLERANCE[dtype][1])
        if error >= worst:
            worst, where = error, output
    return worst, where


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kiln-run", required=True, help="the kiln-run binary")
    parser.add_argument("--pylib", required=True,
                        help="the directory of kiln_safetensors.py")
    parser.add_argument("--workdir", required=True,
                        help="where the cases' files are written")
    parser.add_argument("--op", help="run only the cases of this op")
    args = parser.parse_args()
    sys.path.insert(0, args.pylib)
    import kiln_safetensors
    os.makedirs(args.workdir, exist_ok=True)

    failures, count = [], 0
    for dtype, table in ((torch.float64, CASES), (torch.float32, F32_CASES)):
        for op, fn, cases in table:
            if args.op and op != args.op:
                continue
            for index, kwargs in enumerate(cases):
                name = f"{ELEMENT_TYPES[dtype]}/{op}/{index}"
                error, where = run_case(args, kiln_safetensors, name, dtype, op,
                                        fn, kwargs)
                ok = error <= TOLERANCE[dtype][0]
                count += 1
                described = ", ".join(f"{k}={v}" for k, v in kwargs.items())
                print(f"{'PASS' if ok else 'FAIL'}: {name} ({described}): "
                      f"largest relative error {error:.1e} in {where}")
                if not ok:
                    failures.append(f"{name}: {error:.1e} in {where.splitlines()[0]}")
    print(f"{count} cases: {count - len(failures)} passed, {len(failures)} failed")
    for failure in failures:
        print(f"  FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
