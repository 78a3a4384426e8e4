#!/usr/bin/env bash
# The main job of `make run`: compile the seed CNN and print it in the kiln
# dialect (training it needs the CPU backend, which comes next).
set -euo pipefail
build=${1:-build}
echo "== kilnc examples/cnn.kiln -emit=kiln"
"$build/bin/kilnc" examples/cnn.kiln -emit=kiln
