#!/usr/bin/python3
"""Compares the training losses of two metrics files (JSON lines as the Kiln
trainer's --metrics and train_torch.py's --metrics write them), step by step:

    compare_losses.py KILN.jsonl TORCH.jsonl --steps N [--first F] [--rtol 1e-4]

Prints the largest relative difference |a - b| / |b| over steps F..N (F is 1
unless a run resumed after step F - 1) and the
step where it is; exits with status 1 when either file lacks the loss of one
of the steps or the difference exceeds --rtol.
"""
import argparse
import json
import sys


def losses(path):
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return {line["step"]: line["loss"] for line in lines if "lr" in line}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kiln")
    parser.add_argument("torch")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()

    ours, theirs = losses(args.kiln), losses(args.torch)
    worst, worst_step = 0.0, 0
    for step in range(args.first, args.steps + 1):
        for path, values in ((args.kiln, ours), (args.torch, theirs)):
            if values.get(step) is None:
                sys.exit(f"error: {path}: no loss for step {step} (missing, "
                         "or null for a NaN)")
        difference = abs(ours[step] - theirs[step]) / abs(theirs[step])
        if difference > worst or not worst_step:
            worst, worst_step = difference, step
    print(f"max relative loss difference over {args.steps - args.first + 1} "
          f"steps: {worst:.2e} "
          f"(step {worst_step}: {ours[worst_step]!r} vs {theirs[worst_step]!r})")
    if not worst <= args.rtol:
        sys.exit(f"error: above the tolerance {args.rtol:g}")


if __name__ == "__main__":
    main()
