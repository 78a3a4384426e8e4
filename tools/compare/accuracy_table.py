#!/usr/bin/python3
"""Prints the table of accuracy.sh: the test accuracy after each epoch and the
wall time of each run of a model, from the runs' metrics files
(DIR/<model>-<run>.jsonl) and times in seconds (DIR/<model>-<run>.time):

    accuracy_table.py DIR MODEL... [--runs torch,kiln,kiln-torch-init]
"""
import argparse
import json
import os


def evaluations(path):
    with open(path) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return {line["epoch"]: line["accuracy"] for line in lines
            if "accuracy" in line}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--runs", default="torch,kiln,kiln-torch-init")
    args = parser.parse_args()
    runs = args.runs.split(",")

    print("| model | epoch | " + " | ".join(f"{r} acc %" for r in runs)
          + " | kiln - torch |")
    print("|---" * (len(runs) + 3) + "|")
    for model in args.models:
        accuracy = {r: evaluations(os.path.join(args.dir, f"{model}-{r}.jsonl"))
                    for r in runs}
        for epoch in sorted(accuracy[runs[0]]):
            cells = [accuracy[r].get(epoch) for r in runs]
            text = ["-" if c is None else f"{100 * c:.2f}" for c in cells]
            gap = (f"{100 * (accuracy['kiln'][epoch] - accuracy['torch'][epoch]):+.2f}"
                   if epoch in accuracy.get("kiln", {}) and "torch" in accuracy
                   else "-")
            print(f"| {model} | {epoch} | " + " | ".join(text) + f" | {gap} |")
        times = []
        for r in runs:
            with open(os.path.join(args.dir, f"{model}-{r}.time")) as f:
                times.append(f"{float(f.read().split()[-1]):.0f} s")
        print(f"| {model} | wall | " + " | ".join(times) + " | |")


if __name__ == "__main__":
    main()
