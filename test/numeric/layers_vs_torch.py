"""Compares layers of the Kiln language with torch.nn's modules, in value and
in gradient: each case is one layer whose output is scored by
mse_loss(output, target); the reference evaluator runs the gradient function
(`kilnc -emit=kiln-grad`, training mode) in float64 from the module's own
initial weights, and the loss and every parameter's gradient are compared
with PyTorch's. The cases marked for evaluation also compare the prediction
step (`-emit=train-step`, @predict_step) with the module in eval() mode.

Dropout draws its own random numbers in each framework. Kiln's are a pure
function of the site's seed, the step and the element (kiln/Random.h), so
for a layer with dropout PyTorch's torch.nn.functional.dropout is replaced,
while the module runs, by one that draws Kiln's mask of the layer's site
(its seed read from `kilnc -emit=kiln`) at step STEP: both then drop the same
elements, and the values and gradients must agree as they do without.

    layers_vs_torch.py --kilnc PATH --pylib DIR --workdir DIR

Exits 1 when a loss or a gradient differs by more than 1e-6 relative to its
largest magnitude (the f32 program's constants are rounded to float).
"""
import argparse
import contextlib
import copy
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import torch
import torch.nn as nn
import torch.nn.functional as F

from kiln_random import dropout_mask  # noqa: E402

# The training step at which the gradient function draws its dropout masks.
STEP = 5


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention batch first, called on one input as Kiln's
    multihead_attention(x) is: self-attention."""

    def __init__(self, d, heads, dropout=0.0, bias=True):
        super().__init__(d, heads, dropout=dropout, bias=bias, batch_first=True)

    def forward(self, x):
        return super().forward(x, x, x, need_weights=False)[0]

# name: (the layer in Kiln, the input's shape, the module)
CASES = {
    "conv1d": ("conv1d(out: 4, kernel: 3, stride: 2, padding: 1)", (2, 3, 9),
               lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1)),
    "conv1d dilated, no bias": ("conv1d(out: 2, kernel: 2, dilation: 2, bias: false)",
                                (3, 2, 7), lambda: nn.Conv1d(2, 2, 2, dilation=2, bias=False)),
    "conv_transpose2d": ("conv_transpose2d(out: 3, kernel: 3, stride: 2, padding: 1, "
                         "output_padding: 1)", (2, 4, 3, 3),
                         lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1,
                                                    output_padding=1)),
    "conv_transpose2d no bias": ("conv_transpose2d(out: 2, kernel: [2, 3], bias: false)",
                                 (1, 3, 4, 2),
                                 lambda: nn.ConvTranspose2d(3, 2, (2, 3), bias=False)),
    "batch_norm 2d": ("batch_norm()", (4, 3, 2, 2), lambda: nn.BatchNorm2d(3)),
    "batch_norm 1d": ("batch_norm(eps: 1e-3, momentum: 0.2)", (5, 4),
                      lambda: nn.BatchNorm1d(4, eps=1e-3, momentum=0.2)),
    "batch_norm 1d sequence": ("batch_norm(affine: false)", (3, 2, 5),
                               lambda: nn.BatchNorm1d(2, affine=False)),
    "gru": ("gru(hidden: 5)", (3, 4, 2), lambda: nn.GRU(2, 5, batch_first=True)),
    "gru 2 layers": ("gru(hidden: 3, layers: 2)", (2, 5, 4),
                     lambda: nn.GRU(4, 3, 2, batch_first=True)),
    "multihead_attention": ("multihead_attention(heads: 2)", (3, 4, 8),
                            lambda: SelfAttention(8, 2)),
    # Dropout of the attention probabilities with PyTorch's MultiheadAttention
    # drawing Kiln's mask; dropout: 0 is no dropout.
    "multihead_attention dropout": ("multihead_attention(heads: 2, dropout: 0.3)",
                                    (3, 5, 8), lambda: SelfAttention(8, 2, dropout=0.3)),
    "multihead_attention dropout, 4 heads, no bias":
        ("multihead_attention(heads: 4, dropout: 0.5, bias: false)", (2, 6, 8),
         lambda: SelfAttention(8, 4, dropout=0.5, bias=False)),
    "multihead_attention dropout 0": ("multihead_attention(heads: 2, dropout: 0)",
                                      (3, 4, 8), lambda: SelfAttention(8, 2)),
}
# The cases whose prediction step is compared with the module in eval().
EVAL_CASES = {"multihead_attention dropout", "multihead_attention dropout, 4 heads, no bias"}

SOURCE = """model m {{
  input x: f32[{shape}]
  input y: f32[{out_shape}]
  layer l = {layer}
  forward {{
    out = l(x)
    return out
  }}
}}
train {{
  data = tensors(train: "train.npz", test: "test.npz")
  batch_size = {batch}
  loss = mse_loss(out, y)
  optimizer = sgd(lr: 0.1)
}}
"""


def relative(actual, expected):
    scale = expected.abs().max().item()
    diff = (actual.double() - expected).abs().max().item()
    return diff / scale if scale > 0 else diff


def dropout_seed(kilnc, source):
    """The seed of the one attention site with dropout in `source`, or None
    when it has none."""
    ir = subprocess.run([kilnc, source, "-emit=kiln"], capture_output=True,
                        text=True, check=True).stdout
    seeds = re.findall(r"kiln\.attention .*dropout = .* seed = (\d+) : i64", ir)
    assert len(seeds) <= 1, "one dropout site per case"
    return int(seeds[0]) if seeds else None


@contextlib.contextmanager
def kiln_dropout(seed):
    """torch.nn.functional.dropout drawing Kiln's mask of site `seed` at
    STEP, for the module's calls (nn.MultiheadAttention drops its [B * H, L,
    S] weights, in the row-major order of Kiln's [B, H, L, S])."""
    original = F.dropout

    def dropout(x, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return x
        keep = dropout_mask(x.shape, p, seed, STEP)
        return torch.where(keep, x / (1 - p), torch.zeros_like(x))

    F.dropout = dropout
    try:
        yield
    finally:
        F.dropout = original


def run_kilnc(args, source, stage, function, inputs, outputs):
    return subprocess.run([args.kilnc, source, f"-emit={stage}", "-run-reference",
                           f"-function={function}", f"-inputs={inputs}",
                           f"-outputs={outputs}"], capture_output=True, text=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kilnc", required=True)
    parser.add_argument("--pylib", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.pylib)
    import kiln_safetensors

    torch.set_default_dtype(torch.float64)
    os.makedirs(args.workdir, exist_ok=True)
    failures = 0
    for index, (name, (layer, shape, make)) in enumerate(CASES.items()):
        torch.manual_seed(index)
        module = make().train()
        x = torch.randn(*shape)
        # The output's shape, from a copy: the module's state stays as it is.
        with torch.no_grad():
            probe = copy.deepcopy(module)(x)
        out_shape = (probe[0] if isinstance(probe, tuple) else probe).shape

        source = os.path.join(args.workdir, f"case{index}.kiln")
        dims = ", ".join(["batch"] + [str(d) for d in shape[1:]])
        out_dims = ", ".join(["batch"] + [str(d) for d in out_shape[1:]])
        with open(source, "w") as f:
            f.write(SOURCE.format(shape=dims, out_shape=out_dims, layer=layer,
                                  batch=shape[0]))
        seed = dropout_seed(args.kilnc, source)
        with kiln_dropout(seed) if seed is not None else contextlib.nullcontext():
            out = module(x)
        # A recurrent layer's output sequence, as `out = l(x)` in Kiln.
        if isinstance(out, tuple):
            out = out[0]
        y = torch.randn(*out.shape)
        loss = nn.functional.mse_loss(out, y)
        params = dict(module.named_parameters())
        grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))\
            if params else {}

        inputs = {f"l.{n}": p.detach() for n, p in params.items()}
        # Batch norm's running statistics as PyTorch starts them.
        for n, b in module.named_buffers():
            inputs[f"l.{n}"] = torch.zeros_like(b) if n.endswith("tracked") else \
                (torch.ones_like(b) if n.endswith("var") else torch.zeros_like(b))
        inputs.update(x=x, y=y)
        if seed is not None:
            inputs["step"] = torch.tensor(STEP)
        in_path = os.path.join(args.workdir, f"in{index}.safetensors")
        out_path = os.path.join(args.workdir, f"out{index}.safetensors")
        kiln_safetensors.write(in_path, inputs)
        run = run_kilnc(args, source, "kiln-grad", "m_grad", in_path, out_path)
        if run.returncode:
            print(f"FAIL: {name}: kilnc failed:\n{run.stderr}")
            failures += 1
            continue
        got = kiln_safetensors.read(out_path)[0]
        errors = {"loss": relative(got["loss"], loss.detach())}
        for n, g in grads.items():
            errors[f"grad.l.{n}"] = relative(got[f"grad.l.{n}"], g)
        for n, b in module.named_buffers():
            if b.is_floating_point():
                errors[f"l.{n}"] = relative(got[f"l.{n}"], b)
        if name in EVAL_CASES:
            # No dropout in evaluation: the module's eval() output, with
            # PyTorch's own dropout, which it does not call then.
            module.eval()
            with torch.no_grad():
                expected = module(x)
            eval_in = os.path.join(args.workdir, f"eval-in{index}.safetensors")
            eval_out = os.path.join(args.workdir, f"eval-out{index}.safetensors")
            kiln_safetensors.write(eval_in, {k: v for k, v in inputs.items()
                                             if k not in ("y", "step")})
            run = run_kilnc(args, source, "train-step", "predict_step", eval_in,
                            eval_out)
            if run.returncode:
                print(f"FAIL: {name}: kilnc failed on the prediction step:\n{run.stderr}")
                failures += 1
                continue
            errors["eval out"] = relative(kiln_safetensors.read(eval_out)[0]["out"],
                                          expected)
        worst = max(errors, key=errors.get)
        ok = errors[worst] <= 1e-6
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}: {name}: largest relative error "
              f"{errors[worst]:.1e} in {worst}")
    print(f"{len(CASES)} cases: {len(CASES) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
