#!/usr/bin/env bash
# Where a GPU trainer's step time goes, on the device after run-device.sh
# has unpacked the bundle: Nsight Compute times every kernel of
# `--benchmark 1` (3 untimed steps and 1 timed one, after the parameters'
# initialization), and the times are summed by kernel. The kernels are
# named as kilnc outlines them (train_step_kernel_N); `kilnc MODEL
# --target=cuda -emit=llvm-dialect` here shows which ops each one runs.
#
# usage: bench/gpu/kernel-times.sh NAME...   (NAME: a trainer of the bundle's
#        trainers/bench, e.g. transformer-256)
# writes $OUT/kernels-NAME.csv (ncu's rows) when OUT is set; prints, per
# trainer, the kernels' count and total time per training step, and the
# kernels that take the most.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN_DIR=${RUN_DIR:-$ROOT/build-device-run}
RESULTS=${OUT:-$RUN_DIR/results}
PYTHON=${PYTHON:-python3}
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | tail -1)
[[ -x $NCU ]] || { echo "kernel-times: no ncu here" >&2; exit 2; }
mkdir -p "$RESULTS"

for name in "$@"; do
  csv=$RESULTS/kernels-$name.csv
  echo "===== kernel times: $name ====="
  # The clocks stay as they are (--clock-control none), as the benchmark
  # runs them; one metric, so each kernel is replayed once.
  LD_LIBRARY_PATH=$RUN_DIR/lib "$NCU" --clock-control none --metrics gpu__time_duration.sum \
    --csv --log-file "$csv" "$RUN_DIR/trainers/bench/$name" --benchmark 1
  echo "ncu exit status $?"
  "$PYTHON" - "$csv" <<'EOF'
import collections, csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))
        if r.get("Metric Name") == "gpu__time_duration.sum"]
if not rows:
    print(open(sys.argv[1]).read()[-3000:])
    sys.exit(1)
scale = {"nsecond": 1e-6, "ns": 1e-6, "usecond": 1e-3, "us": 1e-3, "msecond": 1.0, "ms": 1.0,
         "second": 1e3, "s": 1e3}
by_kernel = collections.defaultdict(lambda: [0, 0.0, ""])
for r in rows:
    entry = by_kernel[r["Kernel Name"]]
    entry[0] += 1
    entry[1] += float(r["Metric Value"].replace(",", "")) * scale[r["Metric Unit"]]
    entry[2] = f'grid {r.get("Grid Size", "?")} block {r.get("Block Size", "?")}'
train = {k: v for k, v in by_kernel.items() if k.startswith("train_step")}
steps = 4  # --benchmark 1: 3 untimed steps and 1 timed one
total = sum(v[1] for v in train.values())
print(f"{len(rows)} launches in all; train step: {sum(v[0] for v in train.values()) / steps:.1f} "
      f"launches, {total / steps:.3f} ms of kernel time per step")
print(f"{'kernel':32s} {'ms/step':>9s} {'share':>6s}  launch")
for name, (count, ms, shape) in sorted(train.items(), key=lambda kv: -kv[1][1])[:15]:
    print(f"{name:32s} {ms / steps:9.3f} {100 * ms / total:5.1f}%  {shape}")
EOF
done
