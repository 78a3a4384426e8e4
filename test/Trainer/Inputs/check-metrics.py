"""Checks the --metrics file of a trainer.

usage: check-metrics.py FILE [--first N] [--steps N] [--evals N] [--learns]

Every line must be a JSON object, either of an update, with exactly "step",
"epoch", "loss" and "lr" in that order, or of an evaluation, with "epoch",
"step", "accuracy" and "loss". Updates are numbered without gaps from
--first; --steps and --evals count the lines of each kind; --learns asks for
the mean loss of the last epoch to be below 80% of the first epoch's.
"""

import argparse
import json
import sys


def fail(message):
    print(f"check-metrics.py: {message}", file=sys.stderr)
    sys.exit(1)


def reject_constant(name):
    fail(f"{name} is not JSON")


parser = argparse.ArgumentParser()
parser.add_argument("file")
parser.add_argument("--first", type=int, default=1)
parser.add_argument("--steps", type=int)
parser.add_argument("--evals", type=int)
parser.add_argument("--learns", action="store_true")
args = parser.parse_args()

steps, evals = [], []
with open(args.file) as lines:
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line, parse_constant=reject_constant)
        except json.JSONDecodeError as error:
            fail(f"line {number} is not JSON: {error}")
        if not isinstance(record, dict):
            fail(f"line {number} is not an object")
        keys = list(record)
        if keys == ["step", "epoch", "loss", "lr"]:
            steps.append(record)
            numbers = [record["step"], record["epoch"]]
            reals = [record["loss"], record["lr"]]
        elif keys == ["epoch", "step", "accuracy", "loss"]:
            evals.append(record)
            numbers = [record["epoch"], record["step"]]
            reals = [record["accuracy"], record["loss"]]
            if not 0 <= record["accuracy"] <= 1:
                fail(f"line {number}: accuracy outside [0, 1]")
        else:
            fail(f"line {number} has keys {keys}")
        if not all(type(value) is int and value >= 1 for value in numbers):
            fail(f"line {number}: step and epoch must be positive integers")
        if not all(type(value) in (int, float) for value in reals):
            fail(f"line {number}: loss, lr and accuracy must be numbers")

numbers = [record["step"] for record in steps]
if numbers != list(range(args.first, args.first + len(steps))):
    fail(f"updates are not numbered {args.first}, {args.first + 1}, ...")
if args.steps is not None and len(steps) != args.steps:
    fail(f"{len(steps)} updates, expected {args.steps}")
if args.evals is not None and len(evals) != args.evals:
    fail(f"{len(evals)} evaluations, expected {args.evals}")
if args.learns:
    epochs = {}
    for record in steps:
        epochs.setdefault(record["epoch"], []).append(record["loss"])
    first, last = epochs[min(epochs)], epochs[max(epochs)]
    if sum(last) / len(last) >= 0.8 * sum(first) / len(first):
        fail("the loss of the last epoch is not below 80% of the first's")
