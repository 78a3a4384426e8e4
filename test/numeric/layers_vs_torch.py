"""Compares layers of the Kiln language with torch.nn's modules, in value and
in gradient: each case is one layer whose output is scored by
mse_loss(output, target); the reference evaluator runs the gradient function
(`kilnc -emit=kiln-grad`, training mode) in float64 from the module's own
initial weights, and the loss and every parameter's gradient are compared
with PyTorch's.

    layers_vs_torch.py --kilnc PATH --pylib DIR --workdir DIR

Exits 1 when a loss or a gradient differs by more than 1e-6 relative to its
largest magnitude (the f32 program's constants are rounded to float).
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import torch
import torch.nn as nn

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
}

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
        out = module(x)
        # A recurrent layer's output sequence, as `out = l(x)` in Kiln.
        if isinstance(out, tuple):
            out = out[0]
        y = torch.randn(*out.shape)
        loss = nn.functional.mse_loss(out, y)
        params = dict(module.named_parameters())
        grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))\
            if params else {}

        source = os.path.join(args.workdir, f"case{index}.kiln")
        dims = ", ".join(["batch"] + [str(d) for d in shape[1:]])
        out_dims = ", ".join(["batch"] + [str(d) for d in out.shape[1:]])
        with open(source, "w") as f:
            f.write(SOURCE.format(shape=dims, out_shape=out_dims, layer=layer,
                                  batch=shape[0]))
        inputs = {f"l.{n}": p.detach() for n, p in params.items()}
        # Batch norm's running statistics as PyTorch starts them.
        for n, b in module.named_buffers():
            inputs[f"l.{n}"] = torch.zeros_like(b) if n.endswith("tracked") else \
                (torch.ones_like(b) if n.endswith("var") else torch.zeros_like(b))
        inputs.update(x=x, y=y)
        in_path = os.path.join(args.workdir, f"in{index}.safetensors")
        out_path = os.path.join(args.workdir, f"out{index}.safetensors")
        kiln_safetensors.write(in_path, inputs)
        run = subprocess.run([args.kilnc, source, "-emit=kiln-grad", "-run-reference",
                              "-function=m_grad", f"-inputs={in_path}",
                              f"-outputs={out_path}"], capture_output=True, text=True)
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
        worst = max(errors, key=errors.get)
        ok = errors[worst] <= 1e-6
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}: {name}: largest relative error "
              f"{errors[worst]:.1e} in {worst}")
    print(f"{len(CASES)} cases: {len(CASES) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
