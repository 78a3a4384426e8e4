"""Trains with two trainers of one model from the same initial weights and
compares them: the loss of every step, the evaluation, and every parameter
and optimizer state at the end. The reference is the CPU trainer (whose ops
are checked against the reference evaluator); the other one is a GPU
trainer or a CPU trainer of the GPU backend's kernels (--portable-kernels).

usage: compare_trainers.py REFERENCE OTHER --workdir DIR [--steps N]
       [--loss-tolerance T] [--state-tolerance T] [--skip-slice PREFIX:BEGIN:END]
       [--early-steps K --early-tolerance T]
prints one line per check and "parity: ok" or "parity: FAIL"; exit status 1
on a mismatch, 3 when OTHER cannot run here (no GPU).

Over many steps of real data, a max-pooling window or a relu whose deciding
values lie within rounding of each other can go either way in two correct
implementations, and the gradients they route then part for good: the
losses stay close, the state drifts. --early-steps checks the state after
K steps too, before such a flip is likely, at the tighter
--early-tolerance.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "Inputs"))
import tensors  # noqa: E402


def run(trainer, steps, workdir, name):
    metrics = os.path.join(workdir, name + ".jsonl")
    checkpoint = os.path.join(workdir, name + ".safetensors")
    result = subprocess.run([trainer, "--max-steps", str(steps), "--epochs", "1",
                             "--metrics", metrics, "--save", checkpoint, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        return result.returncode, None, None
    with open(metrics) as f:
        records = [json.loads(line) for line in f]
    return 0, records, tensors.read(checkpoint)


def run_both(a, steps, prefix):
    """Runs the reference and the other trainer for `steps` steps; returns
    (None, [(records, state) of each]) or (exit status, None) after saying
    why."""
    status, ref_records, ref_state = run(a.reference, steps, a.workdir, prefix + "reference")
    if status:
        print(f"parity: FAIL ({a.reference} exited with {status})")
        return 1, None
    status, records, state = run(a.other, steps, a.workdir, prefix + "other")
    if status == 3:
        print(f"parity: cannot run {a.other} here (no GPU)")
        return 3, None
    if status:
        print(f"parity: FAIL ({a.other} exited with {status})")
        return 1, None
    return None, [(ref_records, ref_state), (records, state)]


def compare_state(a, state, ref_state, tolerance, what):
    """Prints how close two states are, the --skip-slice elements left out,
    and returns the lines that describe each mismatch."""
    state, ref_state = dict(state), dict(ref_state)
    for rule in a.skip_slice:
        prefix, begin, end = rule.rsplit(":", 2)
        for dicts in (state, ref_state):
            for name, (dtype, shape, values) in dicts.items():
                if name.startswith(prefix):
                    dicts[name] = (dtype, shape, values[:int(begin)] + values[int(end):])
    problems = tensors.compare(state, ref_state, tolerance, what)
    worst = max((tensors.relative_error(state[name][2], values), name)
                for name, (_, _, values) in ref_state.items() if name in state)
    verdict = "all close" if not problems else f"{len(problems)} differ"
    print(f"{what}: {len(ref_state)} tensors, {verdict} "
          f"(worst {worst[0]:.2e} norm-wise, '{worst[1]}')")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("other")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--loss-tolerance", type=float, default=1e-3)
    parser.add_argument("--state-tolerance", type=float, default=1e-3)
    parser.add_argument("--skip-slice", action="append", default=[],
                        metavar="PREFIX:BEGIN:END",
                        help="leave elements [BEGIN, END) of every tensor whose name "
                             "starts with PREFIX out of the state comparison: for "
                             "parameters whose exact gradient is zero, which any two "
                             "implementations update by different rounding noise "
                             "(Adam scales that noise up to steps of lr)")
    parser.add_argument("--early-steps", type=int, default=0,
                        help="also compare the state after this many steps (0: not)")
    parser.add_argument("--early-tolerance", type=float, default=1e-4)
    a = parser.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    status, runs = run_both(a, a.steps, "")
    if status is not None:
        return status
    (ref_records, ref_state), (records, state) = runs
    problems = []
    steps = [r for r in records if "step" in r and "loss" in r and "accuracy" not in r]
    ref_steps = [r for r in ref_records if "step" in r and "loss" in r and "accuracy" not in r]
    if len(steps) != len(ref_steps):
        problems.append(f"{len(steps)} steps, expected {len(ref_steps)}")
    worst = 0.0
    for mine, theirs in zip(steps, ref_steps):
        error = abs(mine["loss"] - theirs["loss"]) / max(abs(theirs["loss"]), 1e-6)
        worst = max(worst, error)
        if not error <= a.loss_tolerance:
            problems.append(f"step {theirs['step']}: loss {mine['loss']:.7g}, "
                            f"expected {theirs['loss']:.7g}")
    print(f"losses of {len(ref_steps)} steps: worst relative difference {worst:.2e}")
    evals = [r for r in records if "accuracy" in r or "test_loss" in r]
    ref_evals = [r for r in ref_records if "accuracy" in r or "test_loss" in r]
    for mine, theirs in zip(evals, ref_evals):
        for key in ("loss", "test_loss", "accuracy"):
            if key in theirs and abs(mine.get(key, float("nan")) - theirs[key]) > \
                    a.loss_tolerance * max(1.0, abs(theirs[key])):
                problems.append(f"evaluation {key}: {mine.get(key)}, expected {theirs[key]}")
    problems += compare_state(a, state, ref_state, a.state_tolerance, "parameters and state")
    if a.early_steps:
        status, runs = run_both(a, a.early_steps, "early-")
        if status is not None:
            return status
        (_, ref_state), (_, state) = runs
        problems += compare_state(a, state, ref_state, a.early_tolerance,
                                  f"parameters and state after {a.early_steps} steps")
    for line in problems:
        print(line)
    print("parity: " + ("FAIL" if problems else "ok"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
