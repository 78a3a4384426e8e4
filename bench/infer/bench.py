"""The inference library of the seed CNN against PyTorch's forward, in one run.

usage: /usr/bin/python3 bench/infer/bench.py [--build DIR] [--batches 1,64]
           [--threads 1,2] [--runs N] [--rounds N] [--json FILE]

Compiles examples/cnn.kiln into an inference library per batch size (kilnc
-emit=lib --batch-size B), links bench/infer/harness.c against each, and
loads into it the initial state_dict of PyTorch's module (the same weights
on both sides). In each round it times, for every batch size and thread
count, RUNS forward passes of the library (after 10 untimed ones) and as many
of PyTorch's module under torch.no_grad() (bench/infer/torch_forward.py);
rounds alternate which side goes first. It prints, per configuration, the
median over the rounds of each side's median ms per batch, the median of the
rounds' ratios (PyTorch / Kiln: above 1, Kiln is faster) and each side's
images per second and GFLOP/s (kilnc --stats).

PyTorch runs on the BLAS core that OpenBLAS picks; where that is its generic
fallback on a CPU with AVX-512 or AVX2, it runs with OPENBLAS_CORETYPE set to
SKYLAKEX or HASWELL, its best configuration here. The header says which.
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3"
HERE = os.path.join(ROOT, "bench", "infer")
GENERIC_CORES = {"Prescott", "Core2", "Nehalem", "generic"}


def cpu_flags():
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def openblas_environment():
    """The environment that gives PyTorch's OpenBLAS its fastest kernels,
    and a line that says what was chosen."""
    environment = dict(os.environ)
    core = subprocess.run(
        [PYTHON, "-c", "import ctypes, torch; lib = ctypes.CDLL("
         "'libopenblas.so.0'); lib.openblas_get_corename.restype = "
         "ctypes.c_char_p; print(lib.openblas_get_corename().decode())"],
        capture_output=True, text=True).stdout.strip() or "unknown"
    setting = os.environ.get("OPENBLAS_CORETYPE")
    if not setting and core in GENERIC_CORES:
        flags = cpu_flags()
        setting = ("SKYLAKEX" if "avx512f" in flags
                   else "HASWELL" if "avx2" in flags else None)
    if setting:
        environment["OPENBLAS_CORETYPE"] = setting
    return environment, (f"OpenBLAS core {core}, OPENBLAS_CORETYPE="
                         f"{setting or 'unset (not needed)'}")


def timed(command, environment=None):
    result = subprocess.run(command, capture_output=True, text=True,
                            env=environment)
    match = re.search(r"median ([0-9.]+) ms/batch", result.stdout)
    if result.returncode != 0 or not match:
        sys.exit(f"bench.py: error: {' '.join(command)} failed (exit "
                 f"{result.returncode}):\n{result.stdout}{result.stderr}")
    return float(match.group(1))


def build(kilnc, work, batch):
    """The library of batch `batch` and its harness; returns the harness and
    the GFLOP of one forward."""
    prefix = f"cnn_b{batch}"
    library = os.path.join(work, f"lib{prefix}.so")
    stats = subprocess.run(
        [kilnc, os.path.join(ROOT, "examples", "cnn.kiln"), "-emit=lib",
         "--batch-size", str(batch), "--api-prefix", prefix, "-o", library,
         "--stats"], capture_output=True, text=True, check=True).stdout
    gflop = float(re.search(r"prediction ([0-9.]+) GFLOP", stats).group(1))
    harness = os.path.join(work, f"harness_b{batch}")
    upper = prefix.upper()
    subprocess.run(
        ["cc", "-O2", "-std=c11", f"-DHEADER=\"{prefix}.h\"", f"-DPREFIX={prefix}",
         f"-DIMAGE_ELEMENTS={upper}_IMAGE_ELEMENTS",
         f"-DLOGITS_ELEMENTS={upper}_LOGITS_ELEMENTS", f"-I{work}",
         os.path.join(HERE, "harness.c"), f"-L{work}", f"-l{prefix}",
         f"-Wl,-rpath,{work}", "-o", harness], check=True)
    return harness, gflop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--batches", default="1,64")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    kilnc = os.path.join(args.build, "bin", "kilnc")
    if not os.access(kilnc, os.X_OK):
        sys.exit(f"bench.py: error: {kilnc} is missing; build the project first")
    environment, blas = openblas_environment()
    torch_version = subprocess.run(
        [PYTHON, "-c", "import torch; print(torch.__version__)"],
        capture_output=True, text=True, check=True).stdout.strip()
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-infer-") as work:
        weights = os.path.join(work, "cnn.safetensors")
        subprocess.run([PYTHON, os.path.join(HERE, "torch_forward.py"),
                        "--write-weights", weights], check=True)
        for batch in batches:
            harness, gflop = build(kilnc, work, batch)
            # Large batches take longer: fewer runs keep the rounds short.
            runs = max(20, args.runs // batch) if batch > 1 else args.runs
            for count in threads:
                kiln = [harness, weights, str(runs), str(count)]
                torch_ = [PYTHON, os.path.join(HERE, "torch_forward.py"),
                          "--batch", str(batch), "--runs", str(runs),
                          "--threads", str(count)]
                kiln_ms, torch_ms = [], []
                for round_ in range(args.rounds):
                    sides = [(kiln, kiln_ms, None), (torch_, torch_ms, environment)]
                    for command, times, env in sides[::1 if round_ % 2 == 0 else -1]:
                        times.append(timed(command, env))
                rows.append(dict(
                    batch=batch, threads=count, runs=runs, gflop=gflop,
                    kiln_ms=statistics.median(kiln_ms),
                    torch_ms=statistics.median(torch_ms),
                    ratio=statistics.median(t / k for k, t in zip(kiln_ms, torch_ms)),
                    kiln_rounds=kiln_ms, torch_rounds=torch_ms))
    load_after = os.getloadavg()[0]

    print(f"Kiln inference library vs PyTorch {torch_version} "
          f"(torch.no_grad() forward): the seed CNN, median of {args.rounds} "
          f"rounds")
    print(f"{blas}; load average {load_before:.1f} before, {load_after:.1f} "
          f"after ({os.cpu_count()} cores)\n")
    header = (f"{'batch':>5} {'threads':>7} {'Kiln ms':>9} {'PyTorch ms':>10} "
              f"{'PyTorch/Kiln':>12} {'Kiln img/s':>10} {'PyTorch img/s':>13} "
              f"{'Kiln GFLOP/s':>12}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['batch']:>5} {row['threads']:>7} {row['kiln_ms']:>9.3f} "
              f"{row['torch_ms']:>10.3f} {row['ratio']:>11.2f}x "
              f"{row['batch'] / row['kiln_ms'] * 1e3:>10.0f} "
              f"{row['batch'] / row['torch_ms'] * 1e3:>13.0f} "
              f"{row['gflop'] / row['kiln_ms'] * 1e3:>12.1f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(dict(torch=torch_version, blas=blas, rounds=args.rounds,
                           load_before=load_before, load_after=load_after,
                           rows=rows), out, indent=1)


if __name__ == "__main__":
    main()
