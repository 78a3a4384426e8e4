# The commands of the README, over CMake and Ninja.
#   make run    set up, build, and run the main job
#   make test   set up, build, and run every test
#   make bench  set up, build, and time the training step against PyTorch
#   make install PREFIX=DIR   build, and install kilnc, kiln-opt, the runtime
#               and find_package(Kiln) under DIR (default /usr/local)

BUILD ?= build
PREFIX ?= /usr/local
LLVM := /usr/lib/llvm-22
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=$(LLVM)/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$(LLVM)/bin/lit \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_USE_LINKER=lld \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: all setup build run test bench docs install clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	scripts/run-main.sh $(BUILD)

test: build
	ninja -C $(BUILD) check-kiln

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Times Kiln's training step against PyTorch's (bench/README.md).
bench: build
	/usr/bin/python3 bench/bench.py --build $(BUILD)

# Regenerates the dialect and pass reference in docs/ from ODS.
docs: build
	cp $(BUILD)/docs/Kiln/*.md docs/dialect/

clean:
	rm -rf $(BUILD)
