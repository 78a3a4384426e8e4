#!/usr/bin/python3
"""Data-parallel scaling of Kiln's trainers over Open MPI ranks.

    bench/scaling.py --build build                          # N = 1, 2 here
    bench/scaling.py --build build --ranks 1,2,4,8          # a 16-core machine
    bench/scaling.py --build build --models cnn --batch strong
    bench/scaling.py --build build --models resnet --sync-batch-norm

For each model and each N, compiles the model with `kilnc --ranks N` and times
its training step with the trainer's `--benchmark` under
`mpirun -np N` (N = 1 runs alone), each rank on --threads threads (1 by
default). Prints the throughput in examples per second, the scaling
efficiency, throughput(N) / (N * throughput(1)), the share of the step that
the ranks spent in the gradients' all-reduce (moving data and waiting for the
slowest rank), and, beside it, the efficiency of N independent one-process
runs at once: what the machine itself allows, with no communication. The
peer, in the same run, is PyTorch's DistributedDataParallel over gloo on
the same models and batches (bench/torch_step.py --ranks N), one core per
rank; --no-torch leaves it out.

--batch weak (the default, as DDP benchmarks report): every rank keeps the
model's batch of 64, so the global batch is 64 N. --batch strong: the global
batch stays 64 and each rank takes 64 / N.

--sync-batch-norm compiles the models with `sync_batch_norm = true`: batch
norms then add their statistics over the ranks in every layer, forward and
backward, and that time counts in the all-reduce share. PyTorch's
SyncBatchNorm runs only on GPUs, so the peer is left out.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openblas import torch_environment  # noqa: E402
from bench import (MODELS, PYTHON, ROOT, conditions,  # noqa: E402
                   priority_raised, raise_priority)

SCALED = ("cnn", "lstm", "transformer")
BATCH = 64


def run(command, env=None):
    """The median ms/step and all-reduce ms/step that a benchmark prints, run
    in `env` (or this environment)."""
    result = subprocess.run(command, capture_output=True, text=True, env=env,
                            start_new_session=True, preexec_fn=raise_priority)
    step = re.search(r"median ([0-9.]+) ms/step", result.stdout)
    if result.returncode != 0 or not step:
        sys.exit(f"scaling.py: error: {' '.join(command)} failed "
                 f"(exit {result.returncode}):\n{result.stdout}{result.stderr}")
    reduction = re.search(r"all-reduce median ([0-9.]+) ms/step",
                          result.stdout)
    return float(step.group(1)), float(reduction.group(1)) if reduction else 0.0


def run_together(command, copies):
    """The mean median ms/step of `copies` runs of `command` at once."""
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                 start_new_session=True,
                                 preexec_fn=raise_priority)
                for _ in range(copies)]
    medians = []
    for child in children:
        out, _ = child.communicate()
        match = re.search(r"median ([0-9.]+) ms/step", out)
        if child.returncode != 0 or not match:
            sys.exit(f"scaling.py: error: {' '.join(command)} failed "
                     f"(exit {child.returncode}):\n{out}")
        medians.append(float(match.group(1)))
    return statistics.mean(medians)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--models", default=",".join(SCALED),
                        help="comma-separated, of: " + ", ".join(MODELS))
    parser.add_argument("--ranks", default="1,2",
                        help="comma-separated numbers of ranks (default 1,2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per rank (default 1)")
    parser.add_argument("--batch", choices=("weak", "strong"), default="weak")
    parser.add_argument("--steps", type=int, default=0,
                        help="timed steps per run (default: per model)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--torch", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="also time PyTorch's DistributedDataParallel "
                             "(gloo) on the same models (default: on)")
    parser.add_argument("--sync-batch-norm", action="store_true",
                        help="synchronize batch norms over the ranks "
                             "(sync_batch_norm = true)")
    parser.add_argument("--bucket-mb", type=int,
                        help="kilnc's gradient bucket size (default: its own)")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    if args.sync_batch_norm:
        args.torch = False
    ranks = [int(n) for n in args.ranks.split(",") if n]
    for model in models:
        if model not in MODELS:
            sys.exit(f"scaling.py: error: unknown model '{model}'; the models "
                     f"are {', '.join(MODELS)}")
    if 1 not in ranks:
        sys.exit("scaling.py: error: --ranks must include 1, the baseline")
    kilnc = os.path.join(args.build, "bin", "kilnc")
    if not os.access(kilnc, os.X_OK):
        sys.exit(f"scaling.py: error: {kilnc} is missing; build it first")
    mpirun = shutil.which("mpirun")
    if not mpirun and max(ranks) > 1:
        sys.exit("scaling.py: error: mpirun is missing; install openmpi-bin "
                 "(scripts/setup.sh does)")
    launcher = [mpirun, "--oversubscribe"] + \
        (["--allow-run-as-root"] if os.geteuid() == 0 else [])

    torch_env, blas = torch_environment() if args.torch else (None, "")
    load_before = os.getloadavg()[0]
    raised = priority_raised()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-scaling-") as work:
        for model in models:
            source, default_steps = MODELS[model]
            source = os.path.join(ROOT, source)
            if args.sync_batch_norm:
                with open(source) as f:
                    text = f.read().replace(
                        "train {", "train {\n  sync_batch_norm = true", 1)
                source = os.path.join(work, f"{model}-sync.kiln")
                with open(source, "w") as f:
                    f.write(text)
            steps = args.steps or default_steps
            commands, batches = {}, {}
            for n in ranks:
                trainer = os.path.join(work, f"{model}-{n}")
                batches[n] = BATCH * n if args.batch == "weak" else BATCH
                bucket = ["--bucket-mb", str(args.bucket_mb)] \
                    if args.bucket_mb and n > 1 else []
                subprocess.run([kilnc, source, "--ranks",
                                str(n), "--batch-size", str(batches[n]), "-o",
                                trainer] + bucket, check=True)
                command = [trainer, "--benchmark", str(steps), "--threads",
                           str(args.threads), "--quiet"]
                commands[n] = (launcher + ["-np", str(n)] if n > 1 else []) \
                    + command
            torch_commands = {
                n: [PYTHON, os.path.join(ROOT, "bench", "torch_step.py"),
                    model, "--steps", str(steps), "--threads",
                    str(args.threads), "--batch", str(batches[n] // n),
                    "--ranks", str(n)]
                for n in ranks} if args.torch else {}
            # Rounds alternate the order of the runs, so that a machine
            # that slows down or speeds up during the benchmark biases no N.
            times = {n: [] for n in ranks}
            alone = {n: [] for n in ranks}
            torch_times = {n: [] for n in ranks}
            for round_ in range(args.rounds):
                for n in ranks[::1 if round_ % 2 == 0 else -1]:
                    times[n].append(run(commands[n]))
                    if n > 1 and args.batch == "weak":
                        alone[n].append(run_together(commands[1], n))
                    if args.torch:
                        torch_times[n].append(
                            run(torch_commands[n], torch_env)[0])
            base_ms = statistics.median(t for t, _ in times[1])
            for n in ranks:
                step_ms = statistics.median(t for t, _ in times[n])
                reduce_ms = statistics.median(r for _, r in times[n])
                scale = batches[n] / (n * BATCH)
                machine = base_ms / statistics.median(alone[n]) \
                    if alone[n] else None
                torch_ms = statistics.median(torch_times[n]) \
                    if args.torch else None
                torch_efficiency = (statistics.median(torch_times[1]) /
                                    torch_ms * scale) if args.torch else None
                rows.append((model, n, batches[n], step_ms,
                             batches[n] / (step_ms / 1e3),
                             base_ms / step_ms * scale, machine, reduce_ms,
                             torch_ms, torch_efficiency))
    load_after = os.getloadavg()[0]

    print(f"Kiln data-parallel scaling: {args.batch} (each rank "
          f"{'64 examples' if args.batch == 'weak' else '64 / N'}), "
          f"{args.threads} thread(s) per rank, median of {args.rounds} rounds"
          + (f", buckets of {args.bucket_mb} MiB" if args.bucket_mb else "")
          + (", batch norms synchronized" if args.sync_batch_norm else ""))
    print(conditions(load_before, load_after, raised))
    print(blas + "\n" if blas else "")
    header = (f"{'model':<12} {'ranks':>5} {'batch':>6} {'Kiln ms':>9} "
              f"{'examples/s':>11} {'efficiency':>10} {'N alone':>8} "
              f"{'all-reduce':>16} {'PyTorch ms':>10} {'efficiency':>10} "
              f"{'PyTorch/Kiln':>12}")
    print(header)
    print("-" * len(header))
    for (model, n, batch, step_ms, throughput, efficiency, machine,
         reduce_ms, torch_ms, torch_efficiency) in rows:
        share = f"{reduce_ms:.2f} ms ({100 * reduce_ms / step_ms:.0f}%)"
        peer = (f"{torch_ms:>10.2f} {100 * torch_efficiency:>9.1f}% "
                f"{torch_ms / step_ms:>11.2f}x") if torch_ms else ""
        print(f"{model:<12} {n:>5} {batch:>6} {step_ms:>9.2f} "
              f"{throughput:>11.0f} {100 * efficiency:>9.1f}% "
              f"{f'{100 * machine:.1f}%' if machine else '-':>8} "
              f"{share if n > 1 else '-':>16} {peer}")
    if args.batch == "weak":
        print("\n(N alone: the efficiency of N independent one-process runs "
              "at once, with no\ncommunication: what the machine's shared "
              "cores, caches and memory allow.)")

if __name__ == "__main__":
    main()
