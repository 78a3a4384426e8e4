#!/bin/bash
# Trains each seed example for its recipe's 3 epochs three times, one run
# after the other with 2 threads each: PyTorch (train_torch.py), the Kiln
# trainer from its own initialization, and the Kiln trainer from PyTorch's
# initial weights. All three take the same batches in the same order. Prints
# the test accuracy after each epoch and the wall times (accuracy_table.py).
#
# usage: tools/compare/accuracy.sh [BUILD_DIR [OUT_DIR [MODEL...]]]
#   BUILD_DIR  the build with bin/kilnc (default: build)
#   OUT_DIR    where the trainers, metrics and logs go (default:
#              BUILD_DIR/accuracy)
#   MODEL      cnn, lstm, transformer (default: all three)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$build/accuracy}
shift $(($# < 2 ? $# : 2))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(cnn lstm transformer)
mkdir -p "$out"

# Both sides use GNU OpenMP, whose idle threads spin: on a machine shared
# with other jobs, that makes each side several times slower.
export OMP_WAIT_POLICY=PASSIVE

timed() { # NAME COMMAND...: runs COMMAND, its wall time in $out/NAME.time
  local name=$1
  shift
  echo "== $name: $*" >&2
  /usr/bin/time -f %e -o "$out/$name.time" "$@" > "$out/$name.out" \
    2> "$out/$name.log"
  tail -n 1 "$out/$name.out" >&2
}

for model in "${models[@]}"; do
  "$build/bin/kilnc" "$root/examples/$model.kiln" -o "$out/$model-train"
  timed "$model-torch" /usr/bin/python3 "$root/tools/compare/train_torch.py" \
    "$model" --threads 2 --write-init "$out/$model-init.st" \
    --metrics "$out/$model-torch.jsonl"
  timed "$model-kiln" "$out/$model-train" --threads 2 \
    --metrics "$out/$model-kiln.jsonl"
  timed "$model-kiln-torch-init" "$out/$model-train" --threads 2 \
    --init "$out/$model-init.st" --metrics "$out/$model-kiln-torch-init.jsonl"
done
/usr/bin/python3 "$root/tools/compare/accuracy_table.py" "$out" "${models[@]}"
