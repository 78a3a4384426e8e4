#!/usr/bin/env bash
# The main job of `make run`: compile the example model and print its IR.
set -euo pipefail
build=${1:-build}
example=examples/cnn-forward.mlir
echo "== $example, after kiln-shape-inference and canonicalization =="
"$build/bin/kiln-opt" "$example" \
  --pass-pipeline='builtin.module(func.func(kiln-shape-inference{require-static=true}),canonicalize)'
