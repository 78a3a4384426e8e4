"""The OpenBLAS that PyTorch's CPU matrix products run on, and its best setting.

Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels by the CPU. It does
not recognize some AVX-512 CPUs and falls back to generic kernels ("Prescott"
and the like), which run PyTorch's sgemm about 7x slower than the SkylakeX
kernels that the CPU can run. A benchmark that compares with PyTorch must give
it its best configuration: torch_environment() reports the core that OpenBLAS
chose, and on an AVX-512 CPU without an AVX-512 core it sets
OPENBLAS_CORETYPE=SKYLAKEX for the PyTorch runs, after checking that the
setting took and that sgemm still computes correctly. A setting already in
the environment is kept.
"""
import json
import os
import subprocess

PYTHON = "/usr/bin/python3"  # Debian's, which has torch.

# OpenBLAS cores with AVX-512 kernels.
AVX512_CORES = {"skylakex", "cooperlake", "sapphirerapids"}

# Imports torch, finds the OpenBLAS it loaded and prints its core and an
# sgemm's largest error against float64, relative to the largest value.
PROBE = r"""
import ctypes, json, torch
path = next(line.split()[-1] for line in open("/proc/self/maps")
            if "libopenblas" in line)
library = ctypes.CDLL(path)
library.openblas_get_corename.restype = ctypes.c_char_p
generator = torch.Generator().manual_seed(0)
a = torch.randn(384, 384, generator=generator)
b = torch.randn(384, 384, generator=generator)
exact = a.double() @ b.double()
error = ((a @ b).double() - exact).abs().max() / exact.abs().max()
print(json.dumps({"core": library.openblas_get_corename().decode(),
                  "error": float(error)}))
"""


def probe(env):
    """(core, sgemm error) of PyTorch's OpenBLAS in `env`."""
    result = subprocess.run([PYTHON, "-c", PROBE], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        return "unknown (no OpenBLAS found in PyTorch's process)", 0.0
    found = json.loads(result.stdout)
    return found["core"], found["error"]


def cpu_has_avx512():
    with open("/proc/cpuinfo") as cpuinfo:
        return any(line.startswith("flags") and " avx512f" in line
                   for line in cpuinfo)


def torch_environment():
    """(environment for PyTorch's runs, a line that says what it runs on)."""
    env = dict(os.environ)
    core, error = probe(env)
    given = env.get("OPENBLAS_CORETYPE")
    if given:
        return env, (f"PyTorch's OpenBLAS: core {core}, "
                     f"OPENBLAS_CORETYPE={given} (given); sgemm error "
                     f"{error:.1e}")
    if cpu_has_avx512() and core.lower() not in AVX512_CORES:
        tuned = dict(env, OPENBLAS_CORETYPE="SKYLAKEX")
        tuned_core, tuned_error = probe(tuned)
        if tuned_core.lower() == "skylakex" and tuned_error < 1e-5:
            return tuned, (f"PyTorch's OpenBLAS: core {core} detected on an "
                           f"AVX-512 CPU, run with OPENBLAS_CORETYPE=SKYLAKEX "
                           f"(core {tuned_core}; sgemm error "
                           f"{tuned_error:.1e})")
        return env, (f"PyTorch's OpenBLAS: core {core} on an AVX-512 CPU; "
                     f"OPENBLAS_CORETYPE=SKYLAKEX gave core {tuned_core} and "
                     f"sgemm error {tuned_error:.1e}, so it is not set")
    return env, (f"PyTorch's OpenBLAS: core {core} (detected, "
                 f"OPENBLAS_CORETYPE unset); sgemm error {error:.1e}")
