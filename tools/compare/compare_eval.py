#!/usr/bin/python3
"""Compares the final evaluations of two metrics files (JSON lines as the
Kiln trainer's --metrics and train_torch.py / train_csv_torch.py's --metrics
write them):

    compare_eval.py KILN.jsonl TORCH.jsonl [--accuracy-points P]
        [--loss-rtol R]

Prints both test accuracies (when both files have them) and both test
losses of the last evaluation line of each file; exits with status 1 when a
file has no evaluation, when the accuracies differ by more than P
percentage points, or the losses by more than R relative to PyTorch's.
"""
import argparse
import json
import sys


def last_evaluation(path):
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    evaluations = [line for line in lines if "lr" not in line]
    if not evaluations:
        sys.exit(f"error: {path}: no evaluation line")
    return evaluations[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kiln")
    parser.add_argument("torch")
    parser.add_argument("--accuracy-points", type=float,
                        help="the largest accuracy difference, in points")
    parser.add_argument("--loss-rtol", type=float,
                        help="the largest relative test loss difference")
    args = parser.parse_args()

    ours, theirs = last_evaluation(args.kiln), last_evaluation(args.torch)
    failures = []
    if args.accuracy_points is not None:
        for path, line in ((args.kiln, ours), (args.torch, theirs)):
            if line.get("accuracy") is None:
                sys.exit(f"error: {path}: no accuracy in its last evaluation")
        points = 100 * abs(ours["accuracy"] - theirs["accuracy"])
        print(f"test accuracy: kiln {100 * ours['accuracy']:.2f}%, torch "
              f"{100 * theirs['accuracy']:.2f}% ({points:.2f} points apart)")
        if not points <= args.accuracy_points:
            failures.append(f"the accuracies differ by more than "
                            f"{args.accuracy_points:g} point"
                            f"{'' if args.accuracy_points == 1 else 's'}")
    for path, line in ((args.kiln, ours), (args.torch, theirs)):
        if line.get("loss") is None:
            sys.exit(f"error: {path}: no loss in its last evaluation "
                     "(missing, or null for a NaN)")
    difference = abs(ours["loss"] - theirs["loss"]) / abs(theirs["loss"])
    print(f"test loss: kiln {ours['loss']:.6g}, torch {theirs['loss']:.6g} "
          f"({100 * difference:.2f}% apart)")
    if args.loss_rtol is not None and not difference <= args.loss_rtol:
        failures.append(f"the test losses differ by more than "
                        f"{100 * args.loss_rtol:g}%")
    if failures:
        sys.exit("error: " + "; ".join(failures))


if __name__ == "__main__":
    main()
