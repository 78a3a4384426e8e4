"""The inputs and the check of bf16-rounding.test, whose model computes
rounded = x * 1 + 0 through a linear layer in mixed precision:

    bf16-rounding.py write DIR
        writes DIR/one.st (the layer's weight 1 and bias 0) and DIR/x.npz:
        ties to even both ways, values just past a tie, denormals, the
        largest float (which rounds to infinity), infinities, zeros, NaN and
        random values;
    bf16-rounding.py check DIR OUT.npz bf16|f32
        fails unless OUT's `rounded` is, bit for bit, PyTorch's
        (x * 1 + 0).bfloat16().float() (bf16) or x * 1 + 0 (f32). NaN only
        has to be NaN.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "tools", "pylib"))
import kiln_safetensors  # noqa: E402

SPECIAL = [1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, 1 - 2**-9,
           -(1 + 2**-8), 3.14159, -2.71828, 1e-39, -3e-40, 1.17e-38, 1e-45,
           3.3895314e38, 3.4e38, -3.4e38, np.inf, -np.inf, 0.0, -0.0, np.nan,
           65504.0]


def write(directory):
    kiln_safetensors.write(os.path.join(directory, "one.st"),
                           {"fc.weight": torch.ones(1, 1),
                            "fc.bias": torch.zeros(1)})
    random = np.random.default_rng(0).standard_normal(64 - len(SPECIAL)) * 100
    x = np.concatenate([np.array(SPECIAL), random]).astype(np.float32)
    np.savez(os.path.join(directory, "x.npz"), x=x.reshape(-1, 1),
             y=np.zeros(len(x), dtype=np.float32))


def check(directory, output, precision):
    x = np.load(os.path.join(directory, "x.npz"))["x"][:, 0]
    # The layer's own arithmetic: -0 * 1 + 0 is +0.
    linear = x * np.float32(1) + np.float32(0)
    expected = (torch.from_numpy(linear).bfloat16().float().numpy()
                if precision == "bf16" else linear)
    actual = np.load(output)["rounded"]
    same = (actual.view(np.uint32) == expected.view(np.uint32)) | (
        np.isnan(actual) & np.isnan(expected))
    if not same.all():
        sys.exit("bf16-rounding.py: error: " + ", ".join(
            f"{a!r} gave {b!r}, not {c!r}" for a, b, c in
            zip(x[~same], actual[~same], expected[~same])))
    print(f"{len(x)} values rounded as PyTorch rounds them ({precision})")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        check(*sys.argv[2:5])
