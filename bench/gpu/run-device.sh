#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU, from the repository root, with
# build-device/ (written by bench/gpu/prepare.sh) carried into the tree:
#   a. parity: each seed example's GPU trainer against its CPU trainer for
#      20 steps from the same initial weights (the same seed), in file order,
#      on the bundled data (test/GPU/compare_trainers.py);
#   b. training: each seed example's GPU trainer for an epoch of the bundled
#      data, and its test accuracy;
#   c. timing at batch 256 and 2048: the benchmark models' GPU trainers
#      (--benchmark) and the peers: PyTorch eager, torch.compile, JAX;
#   d. a table of ms/step per model and batch.
# In a and b, which time nothing, the three models run at once.
# The device is lent for minutes: every step has its own timeout, shortened
# so that all of them end within TOTAL_S. A step that fails or times out is
# reported and the next one runs; the exit status tells what went wrong.
#
# usage: bench/gpu/run-device.sh
# environment:
#   TOTAL_S   seconds for the whole run (default 330)
#   PEERS     directory of seed_models.py and seed_models_jax.py (default:
#             ../shared/peers beside the repository, else the bundle's copy)
#   PYTHON    the Python with PyTorch and JAX (default: python3)
#   RUN_DIR   where the bundle is unpacked, emptied first (default:
#             build-device-run/, outside build-device/ so that it never
#             travels)
#   OUT       a folder for the results (log, logs/, results.tsv, table.txt);
#             default RUN_DIR/results
#   NO_GPU_DRY_RUN=1  without a GPU, go on after the GPU check, with the CPU
#             trainers in place of the GPU ones for parity and training: a
#             test of this script, the bundle and its data
# exit status: 0 all passed; 1 a parity check failed or could not run;
#   2 another step failed, timed out or had no time left; 3 no GPU.
set -uo pipefail # not -e: a failed step is recorded, and the next one runs

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUNDLE=$ROOT/build-device
TOTAL_S=${TOTAL_S:-330}
PYTHON=${PYTHON:-python3}
RUN_DIR=${RUN_DIR:-$ROOT/build-device-run}
RESULTS=${OUT:-$RUN_DIR/results}
LOGS=$RESULTS/logs
WORK=$RUN_DIR/work
if [[ -z ${PEERS:-} ]]; then
  PEERS=$ROOT/../shared/peers
  [[ -d $PEERS ]] || PEERS=$RUN_DIR/peers
fi
LIBS=$RUN_DIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
GPU_TRAINERS=$RUN_DIR/trainers/gpu
RESERVE_S=10 # kept for the table and the summary
MODELS="cnn lstm transformer"

FAILED=()        # every step that failed, timed out or had no time left
PARITY_FAILED=() # the models whose parity failed or could not be checked

section() {
  printf '\n===== %s =====\n' "$1"
}

# step LABEL LOG CAP COMMAND...: runs COMMAND for at most CAP seconds, less
# when the deadline is nearer; its output goes to stdout and to LOG.
step() {
  local label=$1 log=$2 cap=$3
  shift 3
  local left=$((DEADLINE - SECONDS - RESERVE_S))
  local limit=$((cap < left ? cap : left))
  if ((limit < 5)); then
    echo "--- $label: SKIPPED, no time left"
    FAILED+=("$label (no time left)")
    return 125
  fi
  echo "--- $label (timeout ${limit}s)"
  local start=$SECONDS
  timeout -k 5 "$limit" "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  if ((status == 124 || status == 137)); then
    echo "--- $label: TIMED OUT after ${limit}s"
    FAILED+=("$label (timed out)")
  elif ((status != 0)); then
    echo "--- $label: FAILED with exit status $status after $((SECONDS - start))s"
    FAILED+=("$label (exit status $status)")
  else
    echo "--- $label: ok in $((SECONDS - start))s"
  fi
  return "$status"
}

# The bundled data directory that a model's --data takes (none for the
# op-coverage models' synthetic data).
data_of() {
  case $1 in
  cnn | cnn_bf16) echo "$RUN_DIR/data/fashion-mnist" ;;
  lstm | transformer) echo "$RUN_DIR/data/dict" ;;
  esac
}

# wrapper NAME TRAINER DATA [FLAG...]: an executable that compare_trainers.py
# runs as the trainer: TRAINER with the bundled libraries and data, with the
# FLAGs. Both trainers shuffle with the same seed, hence take the same
# batches (in file order, the word task's first batches are all one
# language).
wrapper() {
  local name=$1 trainer=$2 data=$3
  shift 3
  cat >"$WORK/$name" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$LIBS' exec '$trainer' ${data:+--data '$data'} $* "\$@"
EOF
  chmod +x "$WORK/$name"
}

# What the state comparison of a model leaves out or allows. The state is
# also compared after 2 steps at 1e-4 (compare_trainers.py's --early-steps),
# before a max-pooling window or relu decided by rounding is likely to flip.
# The key projection's bias has an exact gradient of zero (softmax ignores a
# constant added to every score), so each trainer moves it by its own
# rounding noise: that slice is left out.
# - cnn: real images give max-pooling windows whose two largest values are
#   within float32 rounding: in float64, the first batch in file order has
#   13 windows (of 600,000) whose two largest are within 1e-6 relative. Two
#   correct float32 trainers that sum in different orders route those
#   windows' gradients to different taps: on the first device run
#   (2026-12-04) the convolutions' momentum was 1.6e-3 apart after 2 steps
#   (losses 2e-7 apart; fully connected layers 1e-6), 5.8e-3 after 20 (the
#   CPU trainers of oneDNN and of the GPU kernels, which sum more alike,
#   first part between steps 5 and 10, to 1.4e-3 at 20). Hence 1e-2 after
#   20 steps and no early check; the op-coverage model 'convolutions' checks
#   the same ops at 1e-4 after 2 steps on data without such near ties.
# - cnn_bf16: the CNN in mixed precision takes the CNN's tolerance; a
#   bfloat16 rounding that a different order of summation flips moves a
#   value by 2^-8, so its state may part further: no device run has measured
#   it yet.
# - transformer: relu masks of the feed-forward layers flip on values within
#   rounding of zero: the CPU trainer alone, at two thread counts, ends with
#   Adam moments of linear1 2.5e-3 apart (losses 4e-6 apart); the GPU
#   trainer ended the first device run 1.02e-2 apart; hence 2e-2.
comparison_options() {
  case $1 in
  cnn | cnn_bf16) echo --state-tolerance 1e-2 ;;
  transformer)
    echo --early-steps 2 --state-tolerance 2e-2 \
      --skip-slice encoder.layers.0.self_attn.in_proj_bias:256:512 \
      --skip-slice encoder.layers.1.self_attn.in_proj_bias:256:512 ;;
  sequences) echo --early-steps 2 --skip-slice attn.in_proj_bias:8:16 ;;
  *) echo --early-steps 2 ;;
  esac
}

# parity MODEL: step a for one model. The CPU trainer gets a third of the
# cores, as the three models' checks run at once.
parity() {
  local threads=$(($(nproc) / 3 > 0 ? $(nproc) / 3 : 1))
  wrapper "$1-cpu" "$RUN_DIR/trainers/cpu/$1" "$(data_of "$1")" --threads "$threads"
  wrapper "$1-gpu" "$GPU_TRAINERS/$1" "$(data_of "$1")"
  step "parity $1" "$LOGS/parity-$1.log" 150 \
    "$PYTHON" "$ROOT/test/GPU/compare_trainers.py" "$WORK/$1-cpu" "$WORK/$1-gpu" \
    --workdir "$WORK/parity-$1" --steps 20 $(comparison_options "$1")
}

# train MODEL: step b for one model.
train() {
  step "train $1" "$LOGS/train-$1.log" 60 \
    env LD_LIBRARY_PATH="$LIBS" "$GPU_TRAINERS/$1" --data "$(data_of "$1")" --epochs 1
}

# concurrently FUNCTION: runs "FUNCTION MODEL" for every model at once, then
# prints their outputs in order, and sets FAILED_MODELS. Only for steps that
# time nothing: the parity checks' CPU reference runs take long, and the
# device's minutes are better spent on the timings.
concurrently() {
  local model pids=() status i=0
  for model in $MODELS; do
    "$1" "$model" >"$WORK/$1-$model.out" 2>&1 &
    pids+=($!)
  done
  FAILED_MODELS=()
  for model in $MODELS; do
    wait "${pids[i]}"
    status=$?
    i=$((i + 1))
    cat "$WORK/$1-$model.out"
    if ((status != 0)); then
      FAILED_MODELS+=("$model")
      FAILED+=("$1 $model (exit status $status)")
    fi
  done
}

# record SIDE MODEL BATCH MS: one timing for the table.
record() {
  printf '%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS/results.tsv"
}

# peer SIDE SCALE CAP COMMAND...: one run of a peer script, whose line per
# model ("cnn  batch=  256  1.234 ms/step ...") is recorded; a run cut by its
# timeout still gives the models it finished.
peer() {
  local side=$1 scale=$2 cap=$3
  shift 3
  local log=$LOGS/$side-$scale.log
  step "$side, batch $((64 * scale))" "$log" "$cap" "$@"
  [[ -f $log ]] || return
  sed -n 's/^\([a-z]*\) *batch= *\([0-9]*\) *\([0-9.]*\) ms\/step.*/\1 \2 \3/p' "$log" |
    while read -r model batch ms; do record "$side" "$model" "$batch" "$ms"; done
}

main() {
  DEADLINE=$((SECONDS + TOTAL_S))
  echo "run-device: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), $TOTAL_S s in all"

  section "bundle"
  if [[ ! -f $BUNDLE/bundle.tar.xz ]]; then
    echo "no $BUNDLE/bundle.tar.xz: run bench/gpu/prepare.sh, and carry build-device"
    return 2
  fi
  sed -n '1,7p' "$BUNDLE/MANIFEST.txt"
  cp "$BUNDLE/MANIFEST.txt" "$RESULTS/"
  step "unpack" "$LOGS/unpack.log" 60 tar -C "$RUN_DIR" -xJf "$BUNDLE/bundle.tar.xz" || return 2
  step "checksums" "$LOGS/checksums.log" 30 sh -c "cd '$RUN_DIR' && sha256sum --quiet -c SHA256SUMS" || return 2
  echo "glibc here: $(ldd --version | head -1)"
  local missing
  missing=$(for trainer in "$RUN_DIR"/trainers/*/*; do LD_LIBRARY_PATH=$LIBS ldd "$trainer"; done |
    grep 'not found' | sort -u)
  if [[ -n $missing ]]; then
    echo "LIBRARIES MISSING (the trainers will fail):"
    echo "$missing"
    FAILED+=("libraries missing")
  else
    echo "libraries: the trainers find all of theirs"
  fi

  section "GPU"
  local gpu
  if gpu=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1); then
    echo "$gpu"
  else
    echo "NO GPU: nvidia-smi: $gpu"
    if [[ ${NO_GPU_DRY_RUN:-} != 1 ]]; then
      return 3
    fi
    echo "NO_GPU_DRY_RUN=1: the CPU trainers stand in for the GPU ones in a and b"
    GPU_TRAINERS=$RUN_DIR/trainers/cpu
  fi

  section "a. parity: GPU trainer against CPU trainer, 20 steps, same initial weights and batches"
  mkdir -p "$WORK"
  concurrently parity
  PARITY_FAILED=("${FAILED_MODELS[@]}")
  # Every op of the dialect, through the op-coverage models of the tests,
  # and the CNN in mixed precision.
  local saved_models=$MODELS
  MODELS="convolutions recurrent sequences elementwise cnn_bf16"
  concurrently parity
  PARITY_FAILED+=("${FAILED_MODELS[@]}")
  MODELS=$saved_models

  section "b. training: GPU trainers, 1 epoch of the bundled data (run at once: ms/step not comparable)"
  concurrently train

  section "c. timing: ms per training step at batch 256 and 2048"
  # Kiln's cnn is examples/cnn_cifar.kiln: the peers' CNN, on 3x32x32 images.
  local batch log ms model
  for batch in 256 2048; do
    for model in $MODELS; do
      log=$LOGS/kiln-$model-$batch.log
      step "kiln $model, batch $batch" "$log" 40 \
        env LD_LIBRARY_PATH="$LIBS" "$RUN_DIR/trainers/bench/$model-$batch" --benchmark 20 || continue
      ms=$(sed -n 's/^benchmark: .* median \([0-9.]*\) ms\/step.*/\1/p' "$log")
      [[ -n $ms ]] && record kiln "$model" "$batch" "$ms"
    done
  done
  if [[ -f $PEERS/seed_models.py && -f $PEERS/seed_models_jax.py ]]; then
    echo "peers: $PEERS"
    # torch.compile last: its compilation takes the longest, so that a lack
    # of time costs it rather than the others.
    local scale
    for scale in 4 32; do
      peer eager "$scale" 60 "$PYTHON" "$PEERS/seed_models.py" --device cuda --scale "$scale" --steps 20
    done
    for scale in 4 32; do
      peer jax "$scale" 150 env JAX_DEFAULT_MATMUL_PRECISION=highest \
        "$PYTHON" "$PEERS/seed_models_jax.py" --scale "$scale" --steps 20
    done
    for scale in 4 32; do
      peer compile "$scale" 150 "$PYTHON" "$PEERS/seed_models.py" --device cuda --compile \
        --mode reduce-overhead --fused-opt --scale "$scale" --steps 20
    done
  else
    echo "PEERS SKIPPED: no seed_models.py and seed_models_jax.py in $PEERS (set PEERS=DIR)"
  fi

  section "d. ms/step: Kiln against the peers (best peer / Kiln above 1: Kiln is faster)"
  "$PYTHON" - "$RESULTS/results.tsv" "$MODELS" <<'EOF' | tee "$RESULTS/table.txt"
import os, sys
times = {}
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        side, model, batch, ms = line.split()
        times[side, model, int(batch)] = float(ms)
peers = ["eager", "compile", "jax"]
cell = lambda v: f"{v:10.3f}" if v is not None else f"{'-':>10}"
print(f"{'model':12s} {'batch':>5s} {'Kiln':>10s} {'eager':>10s} {'compile':>10s} {'JAX':>10s}  best peer / Kiln")
for batch in (256, 2048):
    for model in sys.argv[2].split():
        kiln = times.get(("kiln", model, batch))
        row = {p: times.get((p, model, batch)) for p in peers}
        ratio = "-"
        known = [(v, p) for p, v in row.items() if v is not None]
        if kiln and known:
            best, name = min(known)
            ratio = f"{best / kiln:.2f}x ({name})"
        print(f"{model:12s} {batch:5d} {cell(kiln)} " + " ".join(cell(row[p]) for p in peers) + "  " + ratio)
EOF

  section "summary"
  local failure
  for failure in "${FAILED[@]}"; do
    echo "failed: $failure"
  done
  if ((${#PARITY_FAILED[@]})); then
    echo "PARITY FAILED: ${PARITY_FAILED[*]}"
    return 1
  fi
  if ((${#FAILED[@]})); then
    echo "${#FAILED[@]} steps failed; parity passed"
    return 2
  fi
  echo "all passed"
}

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR" "$LOGS"
main 2>&1 | tee "$RESULTS/run-device.log"
exit "${PIPESTATUS[0]}"
