#!/usr/bin/python3
"""A Kiln trainer's step while another process keeps one core busy.

    bench/contention.py --build build [--model cnn] [--steps 40] [--rounds 3]

Compiles the model, then times its training step (trainer --benchmark) with
--threads 1, --threads N (N: the cores this process may use) and --threads
auto (N, moving to N - 1 while that is faster) twice: on an idle machine,
and while a busy loop runs on the last core, as another process of the
machine would. Both run at the same (normal) priority, as an
ordinary job next to another would. Prints, for each case, the median over
the rounds of the trainer's median ms/step and the slowest step seen. A
trainer that degrades gracefully is never slower with more threads than
with one, busy core or not.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import MODELS, ROOT  # noqa: E402


def busy_core(core):
    """A process that spins on `core` until killed."""
    return subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        preexec_fn=lambda: os.sched_setaffinity(0, {core}))


def step(command):
    """(median, max) ms/step that a trainer's --benchmark prints."""
    out = subprocess.run(command, capture_output=True, text=True)
    match = re.search(r"median ([0-9.]+) ms/step \(min [0-9.]+, max ([0-9.]+)\)",
                      out.stdout)
    if out.returncode != 0 or not match:
        sys.exit(f"contention.py: error: {' '.join(command)} failed "
                 f"(exit {out.returncode}):\n{out.stdout}{out.stderr}")
    return float(match.group(1)), float(match.group(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--model", default="cnn", choices=sorted(MODELS))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        sys.exit("contention.py: error: needs 2 cores or more")
    kilnc = os.path.join(args.build, "bin", "kilnc")
    with tempfile.TemporaryDirectory(prefix="kiln-contention-") as work:
        trainer = os.path.join(work, "trainer")
        subprocess.run([kilnc, os.path.join(ROOT, MODELS[args.model][0]),
                        "-o", trainer], check=True)
        threads = ("1", str(len(cores)), "auto")
        results = {}
        for busy in (False, True):
            spinner = busy_core(cores[-1]) if busy else None
            try:
                runs = {t: [] for t in threads}
                for round_ in range(args.rounds):
                    for t in threads[::1 if round_ % 2 == 0 else -1]:
                        runs[t].append(step([trainer, "--benchmark",
                                             str(args.steps), "--threads", t,
                                             "--quiet"]))
            finally:
                if spinner:
                    spinner.kill()
                    spinner.wait()
            for t in threads:
                results[busy, t] = (statistics.median(m for m, _ in runs[t]),
                                    max(x for _, x in runs[t]))

    print(f"Kiln under contention: {args.model}, {args.steps} steps, median "
          f"of {args.rounds} rounds, {len(cores)} cores, normal priority")
    print(f"{'':<22}" + "".join(f"{'--threads ' + t:>24}" for t in threads))
    for busy in (False, True):
        cells = [f"{results[busy, t][0]:8.2f} ms (max {results[busy, t][1]:6.1f})"
                 for t in threads]
        name = f"core {cores[-1]} busy" if busy else "idle"
        print(f"{name:<22}" + "".join(f"{cell:>24}" for cell in cells))
    print()
    for t in threads[1:]:
        slower = results[True, t][0] / results[True, "1"][0]
        print(f"with a busy core, --threads {t} takes {slower:.2f}x the time "
              f"of --threads 1 per step")
    idle = results[False, "auto"][0] / results[False, threads[1]][0]
    print(f"on the idle machine, --threads auto takes {idle:.2f}x the time "
          f"of --threads {threads[1]}")


if __name__ == "__main__":
    main()
