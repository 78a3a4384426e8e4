#!/usr/bin/python3
"""Measures how long the CNN's trainer waits for data, as a share of its steps.

    /usr/bin/python3 bench/data/wait.py [--build build] [--runs 3]
        [--max-steps 300] [--threads 2] [--png-dir DIR] [--keep-png]

The benchmark of issue 10's "for the CNN on Fashion-MNIST, time waiting for
data is under 5% of the step time with 2 threads" (not a timed test). For
each source below it runs the trainer `--runs` times for `--max-steps` steps
on `--threads` threads and parses the note the trainer prints on stderr at
the end of its run,

    waited X s for data in N steps of Y s (Z%)

where X is the time the training loop spent in the batch reader's next()
(waiting for the background thread to finish the batch, and copying it into
the step's inputs) and Y the sum of the steps' times, X included. It also
times `--benchmark 100` of the same trainer (the step alone on one synthetic
batch, no data read), so that the cost of reading which does not show as
waiting (the reader thread taking CPU time from the step's threads on a
machine with no core to spare) shows as training ms/step above benchmark
ms/step. Sources:

- synthetic: the baseline, examples/cnn.kiln with its data line replaced by
  synthetic(train: 60000, test: 1000) (random values made per batch, next to
  no work): the same loop and the same mean over all steps, first included;
- idx: examples/cnn.kiln as it is, Fashion-MNIST's gzip IDX files of
  Debian's dataset-fashion-mnist (decompressed once at open);
- images: examples/cnn_images.kiln, the same CNN reading a folder per class
  of PNG files, decoded on the fly, with its random crop and normalization.
  The PNGs (Fashion-MNIST's 60000 training and 10000 test images, written by
  examples/data/fashion_to_pngs.py) go to --png-dir and are reused by later
  runs; removed at the end unless --keep-png.

Rounds alternate the order of the sources. Prints, per source, the median over
the runs of the wait share, of the training ms/step and of the benchmark
ms/step, with the load average before and after (the machine is shared:
rerun when it is high). The trainer prints X to 1 ms, so the share's
resolution is 1 ms over Y (about 0.03% at 300 steps of 12 ms). Exit status 0
when the median wait shares of idx and images are under 5%, 1 otherwise.
Needs numpy (for fashion_to_pngs.py).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
IMAGES_MODEL = os.path.join(ROOT, "examples", "cnn_images.kiln")
WRITE_PNGS = os.path.join(ROOT, "examples", "data", "fashion_to_pngs.py")
WAITED = re.compile(r"waited ([0-9.]+) s for data in ([0-9]+) steps of "
                    r"([0-9.]+) s \(([0-9.]+)%\)")
BENCHMARK = re.compile(r"median ([0-9.]+) ms/step")
THRESHOLD = 5.0


def count_pngs(folder):
    if not os.path.isdir(folder):
        return 0
    return sum(len([n for n in files if n.endswith(".png")])
               for _, _, files in os.walk(folder))


def make_pngs(root, source):
    """Fashion-MNIST as PNG folders under root (examples/data/fashion_to_pngs.py);
    reused when complete."""
    if count_pngs(os.path.join(root, "train")) == 60000 and \
            count_pngs(os.path.join(root, "test")) == 10000:
        return
    shutil.rmtree(root, ignore_errors=True)
    begin = time.monotonic()
    subprocess.run([sys.executable, WRITE_PNGS, root, "--source", source],
                   check=True)
    print(f"wrote 70000 PNGs to {root} in {time.monotonic() - begin:.1f} s")


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_training(trainer, args, extra):
    command = [trainer, "--threads", str(args.threads),
               "--max-steps", str(args.max_steps)] + extra
    done = subprocess.run(command, capture_output=True, text=True)
    match = WAITED.search(done.stderr)
    if done.returncode != 0 or not match:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    waited, steps, seconds, percent = match.groups()
    return {"waited": float(waited), "steps": int(steps),
            "ms": 1000 * float(seconds) / int(steps),
            "percent": 100 * float(waited) / float(seconds)}


def run_benchmark(trainer, args):
    done = subprocess.run([trainer, "--benchmark", "100",
                           "--threads", str(args.threads)],
                          capture_output=True, text=True)
    match = BENCHMARK.search(done.stdout + done.stderr)
    if done.returncode != 0 or not match:
        raise SystemExit(f"{trainer} --benchmark failed:\n{done.stderr[-2000:]}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--source", default=FASHION_DIR)
    parser.add_argument("--png-dir", default="/tmp/kiln-fashion-png")
    parser.add_argument("--keep-png", action="store_true")
    args = parser.parse_args()

    kilnc = os.path.join(args.build, "bin", "kilnc")
    make_pngs(args.png_dir, args.source)

    work = tempfile.mkdtemp(prefix="kiln-wait-")
    try:
        cnn = os.path.join(ROOT, "examples", "cnn.kiln")
        with open(cnn) as f:
            text = f.read()
        synthetic = os.path.join(work, "cnn_synthetic.kiln")
        baseline = re.sub(r"(?m)^(\s*)data\s*=\s*fashion_mnist\(.*\)$",
                          r"\1data = synthetic(train: 60000, test: 1000)", text)
        if baseline == text:
            raise SystemExit(f"{cnn}: no data = fashion_mnist(...) line to replace")
        with open(synthetic, "w") as f:
            f.write(baseline)
        sources = {
            "synthetic": (synthetic, []),
            "idx": (cnn, []),
            "images": (IMAGES_MODEL, ["--data", args.png_dir]),
        }
        trainers = {}
        for name, (model, _) in sources.items():
            trainers[name] = os.path.join(work, f"cnn-{name}")
            subprocess.run([kilnc, model, "-o", trainers[name]], check=True)
            print(f"{name}: " + (os.path.relpath(model, ROOT) if model != synthetic
                                 else "examples/cnn.kiln with data = "
                                 "synthetic(train: 60000, test: 1000)"))
        print(f"{args.runs} runs of {args.max_steps} steps on {args.threads} "
              f"threads; load average before: {load()}")
        results = {name: [] for name in sources}
        benchmarks = {name: [] for name in sources}
        for run in range(args.runs):
            order = list(sources) if run % 2 == 0 else list(sources)[::-1]
            for name in order:
                result = run_training(trainers[name], args, sources[name][1])
                bench = run_benchmark(trainers[name], args)
                results[name].append(result)
                benchmarks[name].append(bench)
                print(f"  run {run + 1} {name:9s} waited {result['waited']:.3f} s"
                      f" in {result['steps']} steps of {result['ms']:.2f} ms "
                      f"({result['percent']:.2f}%); benchmark {bench:.2f} "
                      f"ms/step; load {load()}")
        print(f"load average after: {load()}")
        print()
        print(f"{'source':10s} {'wait %':>8s} {'wait ms/step':>13s} "
              f"{'train ms/step':>14s} {'bench ms/step':>14s}")
        ok = True
        for name in sources:
            percent = statistics.median(r["percent"] for r in results[name])
            wait_ms = statistics.median(1000 * r["waited"] / r["steps"]
                                        for r in results[name])
            ms = statistics.median(r["ms"] for r in results[name])
            bench = statistics.median(benchmarks[name])
            if name != "synthetic":
                ok = ok and percent < THRESHOLD
            print(f"{name:10s} {percent:7.2f}% {wait_ms:13.3f} {ms:14.2f} "
                  f"{bench:14.2f}")
        print()
        print(f"PASS: every median wait is under {THRESHOLD:g}% of the step "
              f"time" if ok else f"FAIL: a median wait is {THRESHOLD:g}% of "
              f"the step time or more")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep_png:
            shutil.rmtree(args.png_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
