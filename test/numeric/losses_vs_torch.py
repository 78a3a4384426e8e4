"""Compares the loss functions of the Kiln language with PyTorch's, in value
and in gradient: each case is a linear layer followed by one loss, whose
gradient function (`kilnc -emit=kiln-grad`) the reference evaluator runs in
float64 from the same weights and batch as torch.nn.functional's loss.

    losses_vs_torch.py --kilnc PATH --pylib DIR --workdir DIR

Prints one line per case and exits 1 when a loss or a gradient differs by
more than 1e-6 relative to its largest magnitude: the program is f32, so its
constants (a mean's 1 / n in the gradient) are rounded to float, a relative
error of up to 6e-8, while the arithmetic is double.
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import torch
import torch.nn.functional as F

BATCH, FEATURES, CLASSES = 6, 5, 4

# name: (the loss in Kiln, the target's type, the target, the loss in torch)
CASES = {
    "mse_loss": ("mse_loss(out, y)", "f32[batch, 4]",
                 lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                 lambda out, y: F.mse_loss(out, y)),
    "mse_loss sum": ("mse_loss(out, y, reduction: \"sum\")", "f32[batch, 4]",
                     lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                     lambda out, y: F.mse_loss(out, y, reduction="sum")),
    "mse_loss none": ("mean(mse_loss(out, y, reduction: \"none\") * out, axis: [0, 1])",
                      "f32[batch, 4]",
                      lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                      lambda out, y: (F.mse_loss(out, y, reduction="none") * out).mean()),
    "l1_loss": ("l1_loss(out, y)", "f32[batch, 4]",
                lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                lambda out, y: F.l1_loss(out, y)),
    "l1_loss sum": ("l1_loss(out, y, reduction: \"sum\")", "f32[batch, 4]",
                    lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                    lambda out, y: F.l1_loss(out, y, reduction="sum")),
    "l1_loss none": ("mean(l1_loss(out, y, reduction: \"none\") * out, axis: [0, 1])",
                     "f32[batch, 4]",
                     lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
                     lambda out, y: (F.l1_loss(out, y, reduction="none") * out).mean()),
    "binary_cross_entropy_with_logits": (
        "binary_cross_entropy_with_logits(out, y)", "f32[batch, 4]",
        lambda g: torch.rand(BATCH, CLASSES, generator=g, dtype=torch.float64),
        lambda out, y: F.binary_cross_entropy_with_logits(out, y)),
    "binary_cross_entropy_with_logits sum": (
        "binary_cross_entropy_with_logits(out * 10, y, reduction: \"sum\")", "f32[batch, 4]",
        lambda g: torch.rand(BATCH, CLASSES, generator=g, dtype=torch.float64),
        lambda out, y: F.binary_cross_entropy_with_logits(out * 10, y, reduction="sum")),
    "binary_cross_entropy_with_logits none": (
        "mean(binary_cross_entropy_with_logits(out, y, reduction: \"none\") * out, axis: [0, 1])",
        "f32[batch, 4]",
        lambda g: (torch.rand(BATCH, CLASSES, generator=g) > 0.5).double(),
        lambda out, y: (F.binary_cross_entropy_with_logits(out, y, reduction="none")
                        * out).mean()),
    # The elementwise built-ins, end to end: ties of maximum(out, out) too.
    "activations": (
        "mse_loss(leaky_relu(out, negative_slope: 0.2) + elu(out, alpha: 0.5)"
        " + softplus(out, beta: 2, threshold: 3) + clamp(out, min: -0.5, max: 1)"
        " + abs(out) + maximum(out, out), y)", "f32[batch, 4]",
        lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
        lambda out, y: F.mse_loss(F.leaky_relu(out, 0.2) + F.elu(out, 0.5)
                                  + F.softplus(out, 2, 3) + out.clamp(-0.5, 1)
                                  + out.abs() + torch.maximum(out, out), y)),
    "selections": (
        "mean(where(greater(out, y), pow(abs(out) + 0.5, y), minimum(out, 0.5))"
        " * less_equal(out, 1) + not_equal(out, y) - equal(out, out)"
        " + greater_equal(out, y) - less(out, y) + (out > 0.5) * (y <= out)"
        " - (out == y) + (out != 0) - (y >= 1) + (y < 0), axis: [0, 1])", "f32[batch, 4]",
        lambda g: torch.randn(BATCH, CLASSES, generator=g, dtype=torch.float64),
        lambda out, y: (torch.where(out > y, torch.pow(out.abs() + 0.5, y),
                                    torch.minimum(out, torch.tensor(0.5, dtype=out.dtype)))
                        * (out <= 1) + (out != y).double() - (out == out).double()
                        + (out >= y).double() - (out < y).double()
                        + (out > 0.5).double() * (y <= out) - (out == y).double()
                        + (out != 0).double() - (y >= 1).double()
                        + (y < 0).double()).mean()),
    "cross_entropy": ("cross_entropy(out, y)", "i64[batch]",
                      lambda g: torch.randint(0, CLASSES, (BATCH,), generator=g),
                      lambda out, y: F.cross_entropy(out, y)),
    "cross_entropy label_smoothing": (
        "cross_entropy(out, y, label_smoothing: 0.2)", "i64[batch]",
        lambda g: torch.randint(0, CLASSES, (BATCH,), generator=g),
        lambda out, y: F.cross_entropy(out, y, label_smoothing=0.2)),
    # PyTorch's default ignore_index, -100: rows 1 and 4 add nothing, and
    # the mean is over the other four.
    "cross_entropy ignore_index": (
        "cross_entropy(out, y)", "i64[batch]",
        lambda g: ignoring(torch.randint(0, CLASSES, (BATCH,), generator=g), [1, 4], -100),
        lambda out, y: F.cross_entropy(out, y)),
    "cross_entropy ignore_index label_smoothing": (
        "cross_entropy(out, y, label_smoothing: 0.2, ignore_index: -1)", "i64[batch]",
        lambda g: ignoring(torch.randint(0, CLASSES, (BATCH,), generator=g), [0, 2, 3], -1),
        lambda out, y: F.cross_entropy(out, y, ignore_index=-1, label_smoothing=0.2)),
    # An ignored class: every label 2 is left out.
    "cross_entropy ignore_index class": (
        "cross_entropy(out, y, ignore_index: 2, label_smoothing: 0.1)", "i64[batch]",
        lambda g: ignoring(torch.randint(0, CLASSES, (BATCH,), generator=g), [5], 2),
        lambda out, y: F.cross_entropy(out, y, ignore_index=2, label_smoothing=0.1)),
    # A sequence model's tokens: each row's 4 outputs as 2 positions of 2
    # classes, flattened as Kiln's sequence models do, against PyTorch's
    # [batch, classes, positions] layout; 5 of the 12 positions ignored.
    "cross_entropy ignore_index sequence": (
        "cross_entropy(reshape(out, [-1, 2]), reshape(y, [-1]), label_smoothing: 0.3)",
        "i64[batch, 2]",
        lambda g: ignoring(torch.randint(0, 2, (BATCH, 2), generator=g),
                           [(0, 1), (1, 0), (1, 1), (3, 0), (5, 1)], -100),
        lambda out, y: F.cross_entropy(out.reshape(BATCH, 2, 2).permute(0, 2, 1), y,
                                       label_smoothing=0.3)),
}


def ignoring(labels, positions, value):
    """`labels` with the ignored label `value` at `positions`."""
    for position in positions:
        labels[position] = value
    return labels

SOURCE = """model m {{
  input x: f32[batch, {features}]
  input y: {target}
  layer fc = linear(out: {classes})
  forward {{
    out = fc(x)
    return out
  }}
}}
train {{
  data = tensors(train: "train.npz", test: "test.npz")
  batch_size = {batch}
  loss = {loss}
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

    os.makedirs(args.workdir, exist_ok=True)
    failures = 0
    for index, (name, (loss, target_type, make_target, torch_loss)) in enumerate(CASES.items()):
        g = torch.Generator().manual_seed(index)
        x = torch.randn(BATCH, FEATURES, generator=g, dtype=torch.float64)
        y = make_target(g)
        w = torch.randn(CLASSES, FEATURES, generator=g, dtype=torch.float64).requires_grad_()
        b = torch.randn(CLASSES, generator=g, dtype=torch.float64).requires_grad_()
        expected = torch_loss(F.linear(x, w, b), y)
        dw, db = torch.autograd.grad(expected, [w, b])

        source = os.path.join(args.workdir, f"case{index}.kiln")
        with open(source, "w") as f:
            f.write(SOURCE.format(features=FEATURES, target=target_type,
                                  classes=CLASSES, batch=BATCH, loss=loss))
        inputs = os.path.join(args.workdir, f"in{index}.safetensors")
        outputs = os.path.join(args.workdir, f"out{index}.safetensors")
        kiln_safetensors.write(inputs, {"fc.weight": w.detach(), "fc.bias": b.detach(),
                                        "x": x, "y": y})
        run = subprocess.run([args.kilnc, source, "-emit=kiln-grad", "-run-reference",
                              "-function=m_grad", f"-inputs={inputs}",
                              f"-outputs={outputs}"], capture_output=True, text=True)
        if run.returncode:
            print(f"FAIL: {name}: kilnc failed:\n{run.stderr}")
            failures += 1
            continue
        got = kiln_safetensors.read(outputs)[0]
        errors = {"loss": relative(got["loss"], expected.detach()),
                  "grad.fc.weight": relative(got["grad.fc.weight"], dw),
                  "grad.fc.bias": relative(got["grad.fc.bias"], db)}
        worst = max(errors, key=errors.get)
        ok = errors[worst] <= 1e-6
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}: {name}: largest relative error "
              f"{errors[worst]:.1e} in {worst}")
    print(f"{len(CASES)} cases: {len(CASES) - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
