#!/usr/bin/env bash
# Installs the Debian packages that building, testing and running Kiln need.
# Quiet and idempotent: packages already present are skipped.
set -euo pipefail

packages=(
  # Compiler toolchain and MLIR.
  cmake ninja-build ccache clang-22 lld-22 libclang-rt-22-dev
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # Runtime libraries of the trainers and their tests.
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libfmt-dev zlib1g-dev
  libgtest-dev nlohmann-json3-dev
  # The data sources: libcsv parses csv(...) tables, stb decodes images(...).
  libcsv-dev libstb-dev
  # Data of the example models.
  dataset-fashion-mnist wamerican wngerman wfrench witalian wspanish
  wportuguese wdutch wswedish wdanish wpolish
  # A real text corpus (the text(...) example), NumPy to write arrays, and
  # the Iris table (the csv(...) example).
  fortunes python3-numpy python3-vega-datasets
  # Training curves (tools/kiln-plot).
  python3-matplotlib
  # Pictures of a model's graph (kilnc -emit=graph runs Graphviz's dot).
  graphviz
  # Data-parallel training: trainers run under Open MPI's mpirun.
  libopenmpi-dev openmpi-bin
  # PyTorch, for the comparisons only (fast BLAS, or PyTorch is slow).
  python3-torch libopenblas0-pthread
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq "${missing[@]}" >/tmp/kiln-setup.log 2>&1; then
  $sudo apt-get update -qq >>/tmp/kiln-setup.log 2>&1
  $sudo apt-get install -y -qq "${missing[@]}" >>/tmp/kiln-setup.log 2>&1 || {
    echo "setup: apt-get failed; see /tmp/kiln-setup.log" >&2
    exit 1
  }
fi
