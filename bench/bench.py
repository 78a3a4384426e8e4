"""Kiln's training step against PyTorch's, on this machine, in one run.

usage: /usr/bin/python3 bench/bench.py [--build DIR] [--models a,b] [--steps N]
                                       [--rounds N] [--threads N] [--json FILE]
                                       [--precision f32|bf16]

For each model, compiles its .kiln file with the built kilnc, then, in each
round, times the Kiln trainer's step (trainer --benchmark N) and PyTorch's
(bench/torch_step.py), both on --threads threads, one synthetic batch, after
3 untimed steps. Rounds alternate which side goes first, so that a drift of
the machine's speed falls on both. It prints, per model, the median over the
rounds of each side's median ms/step, the median of the rounds' ratios
(PyTorch / Kiln: above 1, Kiln is faster), and the GFLOP/s each side
achieves (FLOPs per step from kilnc --stats) against the machine's measured
matmul peak (kiln-matmul-peak: oneDNN sgemm on the same threads, the best of
three sizes). PyTorch gets the faster of two thread settings per model
(TORCH_SETTINGS) and its best OpenBLAS kernels (bench/openblas.py:
OPENBLAS_CORETYPE=SKYLAKEX where Debian's OpenBLAS falls back to generic
ones on an AVX-512 CPU); the header says which core it ran on.

With --precision bf16, each round times three steps: Kiln's compiled with
precision = bf16, Kiln's in float32, and PyTorch's under torch.autocast with
bfloat16; it prints Kiln's bf16 step against both.

Shared machines are noisy: the load average is printed before and after.
When allowed (root), every timed process runs in its own session with the
scheduler's autogroup niceness at -20, so that other sessions' work (builds,
tests) disturbs both sides less; the header says whether it was.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openblas import PYTHON, torch_environment  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (kiln file, timed steps per round). The name is also
# torch_step.py's model.
MODELS = {
    "cnn": ("examples/cnn.kiln", 30),
    "cnn_cifar": ("examples/cnn_cifar.kiln", 30),
    "resnet": ("examples/resnet.kiln", 20),
    "lstm": ("bench/models/lstm.kiln", 10),
    "transformer": ("bench/models/transformer.kiln", 10),
}
PEAK_SIZES = (512, 1024, 2048)


def raise_priority():
    """Runs in each timed child: a new session (so a new autogroup) at
    niceness -20. Without the right to, the child runs as it is."""
    try:
        with open("/proc/self/autogroup", "w") as autogroup:
            autogroup.write("-20")
    except OSError:
        pass


def priority_raised():
    result = subprocess.run(["cat", "/proc/self/autogroup"], capture_output=True,
                            text=True, start_new_session=True,
                            preexec_fn=raise_priority)
    return result.returncode == 0 and result.stdout.strip().endswith("nice -20")


def conditions(load_before, load_after, raised):
    """The line that says how busy the machine was during a benchmark."""
    return (f"load average {load_before:.1f} before, {load_after:.1f} after "
            f"({os.cpu_count()} cores); priority "
            f"{'raised (autogroup nice -20)' if raised else 'normal'}")


def timed(command, pattern, env=None):
    """Runs `command` (in `env`, or this environment) at the raised priority
    and returns the number that `pattern` captures in its stdout."""
    result = subprocess.run(command, capture_output=True, text=True, env=env,
                            start_new_session=True, preexec_fn=raise_priority)
    match = re.search(pattern, result.stdout)
    if result.returncode != 0 or not match:
        sys.exit(f"bench.py: error: {' '.join(command)} failed "
                 f"(exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return float(match.group(1))


# PyTorch's thread settings that bench tries, per model, before timing:
# its OpenMP threads spin while OpenBLAS's own threads compute, which on 2
# cores here made its 2-thread LSTM and Transformer steps 3x and 1.7x slower
# than with OMP_WAIT_POLICY=PASSIVE, while the CNN was 8% faster spinning.
TORCH_SETTINGS = (("default", {}), ("OMP_WAIT_POLICY=PASSIVE",
                                    {"OMP_WAIT_POLICY": "PASSIVE"}))


def best_torch_setting(command, env, threads):
    """(name, environment) of the fastest of TORCH_SETTINGS for `command`, by
    a short run of each; the default alone on one thread."""
    if threads == 1:
        return TORCH_SETTINGS[0][0], env
    trial = list(command)
    trial[trial.index("--steps") + 1] = "5"
    timings = [(timed(trial, r"median ([0-9.]+) ms/step", dict(env, **extra)),
                name, dict(env, **extra)) for name, extra in TORCH_SETTINGS]
    _, name, best = min(timings, key=lambda t: t[0])
    return name, best


def step_flops(kilnc, source):
    # The statistics come with the memory plan: no need to build a trainer.
    stats = subprocess.run([kilnc, "--stats", "-emit=llvm-dialect", "-o", os.devnull,
                            source], capture_output=True, text=True, check=True).stdout
    match = re.search(r"FLOPs per step: training ([0-9.]+) GFLOP", stats)
    if not match:
        sys.exit(f"bench.py: error: kilnc --stats {source} printed no FLOPs")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"),
                        help="the build directory (default: build)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated, of: " + ", ".join(MODELS))
    parser.add_argument("--steps", type=int, default=0,
                        help="timed steps per round (default: per model)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--precision", choices=["f32", "bf16"], default="f32",
                        help="bf16: mixed precision on both sides")
    args = parser.parse_args()
    mixed = args.precision == "bf16"
    models = [m for m in args.models.split(",") if m]
    for model in models:
        if model not in MODELS:
            sys.exit(f"bench.py: error: unknown model '{model}'; the models "
                     f"are {', '.join(MODELS)}")
    kilnc = os.path.join(args.build, "bin", "kilnc")
    peak_tool = os.path.join(args.build, "bin", "kiln-matmul-peak")
    for tool in (kilnc, peak_tool):
        if not os.access(tool, os.X_OK):
            sys.exit(f"bench.py: error: {tool} is missing; build it first "
                     f"(ninja -C {args.build} kilnc kiln_runtime "
                     f"kiln-matmul-peak)")

    torch_version = subprocess.run(
        [PYTHON, "-c", "import torch; print(torch.__version__)"],
        capture_output=True, text=True, check=True).stdout.strip()
    torch_env, blas = torch_environment()
    load_before = os.getloadavg()[0]
    raised = priority_raised()
    peak = max(timed([peak_tool, "--threads", str(args.threads), "--size",
                      str(size)], r"([0-9.]+) GFLOP/s") for size in PEAK_SIZES)

    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as work:
        for model in models:
            source, default_steps = MODELS[model]
            source = os.path.join(ROOT, source)
            steps = args.steps or default_steps
            gflop = step_flops(kilnc, source)

            def trainer(precision):
                path = os.path.join(work, f"{model}-{precision}-train")
                subprocess.run([kilnc, source, f"--precision={precision}",
                                "-o", path], check=True)
                return [path, "--benchmark", str(steps), "--threads",
                        str(args.threads), "--quiet"]
            torch_command = [PYTHON, os.path.join(ROOT, "bench", "torch_step.py"),
                             model, "--steps", str(steps), "--threads",
                             str(args.threads), "--precision", args.precision]
            setting, model_env = best_torch_setting(torch_command, torch_env,
                                                    args.threads)
            # (command, environment): Kiln's step in the precision asked
            # for, PyTorch's, and with bf16 Kiln's float32 step too.
            sides = {"kiln": (trainer(args.precision), None),
                     "torch": (torch_command, model_env)}
            if mixed:
                sides["kiln_f32"] = (trainer("f32"), None)
            times = {name: [] for name in sides}
            for round_ in range(args.rounds):
                order = list(sides)[::1 if round_ % 2 == 0 else -1]
                for name in order:
                    command, env = sides[name]
                    times[name].append(timed(
                        command, r"median ([0-9.]+) ms/step", env))
            row = dict(model=model, gflop_per_step=gflop, steps=steps,
                       torch_setting=setting)
            for name, rounds in times.items():
                row[name + "_ms"] = statistics.median(rounds)
                row[name + "_rounds"] = rounds
            row["ratio"] = statistics.median(
                t / k for k, t in zip(times["kiln"], times["torch"]))
            if mixed:
                row["f32_ratio"] = statistics.median(
                    f / k for k, f in zip(times["kiln"], times["kiln_f32"]))
            rows.append(row)
    load_after = os.getloadavg()[0]

    print(f"Kiln vs PyTorch {torch_version}: training step, batch 64, "
          f"{args.threads} threads, median of {args.rounds} rounds"
          + (", mixed precision (bf16; PyTorch: torch.autocast)"
             if mixed else ""))
    print(conditions(load_before, load_after, raised))
    print(blas)
    print(f"matmul peak (oneDNN sgemm, {args.threads} threads): "
          f"{peak:.1f} GFLOP/s\n")
    own = f"{'Kiln f32 ms':>11} {'f32/bf16':>8} " if mixed else ""
    header = (f"{'model':<12} {'GFLOP/step':>10} {'Kiln ms':>9} {own}"
              f"{'PyTorch ms':>10} {'PyTorch/Kiln':>12} "
              f"{'Kiln GFLOP/s':>16} {'PyTorch GFLOP/s':>16}  PyTorch setting")
    print(header)
    print("-" * len(header))
    for row in rows:
        def rate(ms):
            gflops = row["gflop_per_step"] / (ms / 1e3)
            return f"{gflops:6.1f} ({100 * gflops / peak:3.0f}%)"
        own = (f"{row['kiln_f32_ms']:>11.2f} {row['f32_ratio']:>7.2f}x "
               if mixed else "")
        print(f"{row['model']:<12} {row['gflop_per_step']:>10.3f} "
              f"{row['kiln_ms']:>9.2f} {own}{row['torch_ms']:>10.2f} "
              f"{row['ratio']:>11.2f}x {rate(row['kiln_ms']):>16} "
              f"{rate(row['torch_ms']):>16}  {row['torch_setting']}")
    print("\n(GFLOP/s with the % of the matmul peak in parentheses. PyTorch "
          "setting: the faster of its\ndefault threads and "
          "OMP_WAIT_POLICY=PASSIVE in a short trial run, per model.)")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(torch=torch_version, openblas=blas,
                           threads=args.threads, precision=args.precision,
                           rounds=args.rounds, load_before=load_before,
                           load_after=load_after, priority_raised=raised,
                           peak_gflops=peak, models=rows), out, indent=1)


if __name__ == "__main__":
    main()
