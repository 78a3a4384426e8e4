#!/usr/bin/env bash
# The main job of `make run`: compile the seed CNN into a trainer and train it
# on Fashion-MNIST for the recipe's 3 epochs.
set -euo pipefail
build=${1:-build}
out=$build/run
mkdir -p "$out"
echo "== kilnc examples/cnn.kiln -o $out/cnn-train --stats"
"$build/bin/kilnc" examples/cnn.kiln -o "$out/cnn-train" --stats
echo "== $out/cnn-train --save $out/cnn.safetensors"
"$out/cnn-train" --save "$out/cnn.safetensors"
