#!/usr/bin/python3
"""Compares the tensors of two safetensors files (Kiln checkpoints, or
PyTorch state_dicts written by tools/pylib/kiln_safetensors.py), by name:

    compare_checkpoints.py A.st B.st [--rtol 1e-5]

For each tensor of B, the difference is max|a - b| / max|b|: relative to the
tensor's largest value, since an element near zero has no useful relative
error of its own. Prints the largest over all tensors and where it is; exits
with status 1 when a tensor of B is missing from A or has another shape, or
the difference exceeds --rtol. Needs only NumPy.
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read(path):
    """{name: array} of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], DTYPES[entry["dtype"]]) \
            .reshape(entry["shape"]).astype(np.float64)
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rtol", type=float, default=1e-5)
    args = parser.parse_args()

    ours, theirs = read(args.a), read(args.b)
    worst, worst_name = 0.0, None
    for name, b in sorted(theirs.items()):
        a = ours.get(name)
        if a is None or a.shape != b.shape:
            sys.exit(f"error: {args.a}: no tensor '{name}' of shape "
                     f"{list(b.shape)}")
        scale = np.abs(b).max() if b.size else 0.0
        difference = np.abs(a - b).max() / scale if scale else \
            float(np.abs(a).max() if a.size else 0.0)
        if difference > worst or worst_name is None:
            worst, worst_name = difference, name
    print(f"max relative tensor difference over {len(theirs)} tensors: "
          f"{worst:.2e} ({worst_name})")
    if not worst <= args.rtol:
        sys.exit(f"error: above the tolerance {args.rtol:g}")


if __name__ == "__main__":
    main()
