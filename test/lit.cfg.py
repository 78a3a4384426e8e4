# lit configuration of Kiln's FileCheck tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "KILN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".kiln", ".test"]
config.excludes = ["Inputs", "Unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tool_dirs = [config.kiln_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["kiln-opt", "kilnc", "kiln-run", "kiln-test-trainer", "kiln-test-mnist-trainer",
     "kiln-test-world", "kiln-test-world-single", "kiln-plot"],
    tool_dirs)
if os.path.exists(os.path.join(config.kiln_tools_dir, "kiln-fuzz-frontend")):
    config.available_features.add("kiln-fuzz")
    llvm_config.add_tool_substitutions(["kiln-fuzz-frontend"], tool_dirs)
config.substitutions.append(("%kiln_src", config.kiln_src_root))
config.substitutions.append(("%kiln_obj", config.kiln_obj_root))
config.substitutions.append(
    ("%kiln_example_plugin",
     os.path.join(config.kiln_obj_root, "lib", "libKilnExamplePlugin.so")))

# Data-parallel tests run 2 ranks under Open MPI's mpirun (as root here, and
# on 2 cores), and skip, as unsupported, where Kiln was built without it or
# mpirun is missing.
import shutil
if config.kiln_have_mpi and shutil.which("mpirun"):
    config.available_features.add("mpi")
    config.substitutions.append(
        ("%mpirun", "mpirun --oversubscribe --allow-run-as-root"))
else:
    lit_config.note("Open MPI is missing: the data-parallel tests are skipped")

# kilnc -emit=graph draws with Graphviz's dot (scripts/setup.sh installs it);
# its pictures' tests skip where it is missing.
if shutil.which("dot"):
    config.available_features.add("graphviz")
else:
    lit_config.note("Graphviz's dot is missing: the graph pictures' tests are skipped")

# Tests that compare with PyTorch run with Debian's python3-torch and skip,
# as unsupported, where it is missing.
import subprocess
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%pylib", os.path.join(config.kiln_src_root, "tools", "pylib")))
try:
    subprocess.run(["/usr/bin/python3", "-c", "import torch"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config.available_features.add("torch")
except (OSError, subprocess.CalledProcessError):
    lit_config.note("PyTorch is missing: the tests that compare with it are skipped")

# The GPU backend: 'ptxas' where kilnc finds the CUDA toolkit's assembler (so
# it emits cubins), 'cuda-driver' where libcuda.so.1 loads, 'cuda-gpu' where
# the driver also sees a GPU. GPU runs are skipped, as unsupported, without.
def _cuda_toolkit():
    for candidate in [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                      "/usr/local/cuda"]:
        if candidate and os.path.isdir(candidate):
            return candidate
    return None

_toolkit = _cuda_toolkit()
if _toolkit and os.access(os.path.join(_toolkit, "bin", "ptxas"), os.X_OK):
    config.available_features.add("ptxas")
try:
    import ctypes
    _driver = ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
    _count = ctypes.c_int(0)
    if _driver.cuInit(0) == 0 and _driver.cuDeviceGetCount(ctypes.byref(_count)) == 0 \
            and _count.value > 0:
        config.available_features.add("cuda-gpu")
except OSError:
    pass
if "cuda-gpu" not in config.available_features:
    lit_config.note("no CUDA GPU: the tests that train on one are skipped")
