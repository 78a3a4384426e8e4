#!/usr/bin/python3
"""The training parity test between Kiln and PyTorch (README.md):

    /usr/bin/python3 run_parity.py {cnn,gru,lstm,resnet,transformer} WORKDIR --kilnc PATH \
        [--steps 3] [--batch-size 64] [--dtype float32]

makes the PyTorch reference of the example (make_reference.py) in WORKDIR,
then, for each step k, runs two functions of the example through Kiln's
reference evaluator with `kilnc -run-reference`, from the reference's
parameters and optimizer state before step k and batch k:

* `<model>_grad` of `-emit=kiln-grad`: the loss, the count of correct
  predictions and the gradients;
* `train_step` of `-emit=train-step`: the loss, the count and the parameters
  and optimizer state after the update.

Each result must agree with the reference within the tolerance of its dtype
(1e-4 in float32, 1e-9 in float64), relative to the reference tensor's
largest magnitude; counts must be equal. In float32, the Adam updates of
elements whose gradients are rounding noise are left out (NOISE_FLOOR says
why). Prints the largest relative difference of each kind of tensor, and
exits with status 1 when one is beyond the tolerance; WORKDIR is removed
after a pass.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "pylib"))
import kiln_safetensors  # noqa: E402

TOLERANCE = {"float32": 1e-4, "float64": 1e-9}
PRECISION = {"float32": "f32", "float64": "f64"}
STATE_NAMES = {"SGD": ["momentum_buffer"], "Adam": ["exp_avg", "exp_avg_sq"]}

# In float32, an Adam update is left out of the comparison where PyTorch's
# first moment after the step is below NOISE_FLOOR of its tensor's largest
# magnitude, unless it and Kiln's are both zero. The gradients agree within a
# few 1e-6 of their tensor's largest magnitude, the rounding noise of float32
# sums, so such a moment is mostly noise; Adam divides it by its own
# magnitude and moves the parameter by up to lr in a direction that no two
# implementations share. The typical case is the attention key bias,
# in_proj_bias[d:2d], whose gradient is zero in exact arithmetic: adding
# q . b_k to every score of a row leaves the softmax unchanged. The gradients
# and moments of these elements are still compared, and a float64 run
# compares everything.
NOISE_FLOOR = 1e-5


def rel_err(actual, expected):
    """The largest difference relative to the largest magnitude of
    `expected` (the difference itself where `expected` is all zero)."""
    a, e = actual.double(), expected.double()
    if e.numel() == 0:
        return 0.0
    scale = e.abs().max().item()
    diff = (a - e).abs().max().item()
    return diff / scale if scale > 0 else diff


def run_kilnc(args, stage, function, inputs, outputs):
    example = os.path.join(HERE, "..", "..", "examples", args.model + ".kiln")
    command = [args.kilnc, example, f"-emit={stage}", "-run-reference",
               f"-function={function}", f"--batch-size={args.batch_size}",
               f"-reference-precision={PRECISION[args.dtype]}", f"-inputs={inputs}",
               f"-outputs={outputs}"]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{run.stderr}")
    return kiln_safetensors.read(outputs)[0]


class Comparison:
    """The worst relative difference by kind of tensor, and the failures."""

    def __init__(self, tolerance):
        self.tolerance = tolerance
        self.worst = {}
        self.failures = []

    def add(self, kind, where, actual, expected):
        if actual.dtype != expected.dtype or actual.shape != expected.shape:
            self.failures.append(f"{where}: Kiln's is {actual.dtype} "
                                 f"{list(actual.shape)}, PyTorch's {expected.dtype} "
                                 f"{list(expected.shape)}")
            return
        if not expected.dtype.is_floating_point:
            err = 0.0 if torch.equal(actual, expected) else float("inf")
            if err:
                self.failures.append(f"{where}: Kiln's is {actual.tolist()}, "
                                     f"PyTorch's {expected.tolist()}")
        else:
            err = rel_err(actual, expected)
            if err > self.tolerance:
                self.failures.append(f"{where}: relative difference {err:.3g}")
        if err >= self.worst.get(kind, (-1.0, ""))[0]:
            self.worst[kind] = (err, where)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=["cnn", "gru", "lstm", "resnet", "transformer"])
    parser.add_argument("workdir")
    parser.add_argument("--kilnc", required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dtype", choices=sorted(TOLERANCE), default="float32")
    args = parser.parse_args()

    ref_dir = os.path.join(args.workdir, "reference")
    subprocess.run([sys.executable, os.path.join(HERE, "make_reference.py"),
                    args.model, ref_dir, f"--steps={args.steps}",
                    f"--batch-size={args.batch_size}", f"--dtype={args.dtype}"],
                   check=True)
    init, meta = kiln_safetensors.read(os.path.join(ref_dir, "init.safetensors"))
    batches, _ = kiln_safetensors.read(os.path.join(ref_dir, "batches.safetensors"))
    steps, _ = kiln_safetensors.read(os.path.join(ref_dir, "steps.safetensors"))
    buffers, _ = kiln_safetensors.read(os.path.join(ref_dir, "buffers.safetensors"))
    state_names = STATE_NAMES[meta["optimizer"].split()[0]]
    skip_noise = args.dtype == "float32" and "exp_avg" in state_names
    skipped = {}
    print(f"{args.model}: {args.steps} steps, batch size {args.batch_size}, "
          f"{args.dtype}, tolerance {TOLERANCE[args.dtype]:g}, torch {meta['torch']}")

    compare = Comparison(TOLERANCE[args.dtype])
    for k in range(args.steps):
        # Each step starts from PyTorch's parameters and state after the step
        # before, so that differences do not accumulate.
        inputs = {}
        for name, value in init.items():
            inputs[name] = value if k == 0 else steps[f"param.{name}.{k - 1}"]
            for s in state_names:
                inputs[f"{name}.{s}"] = (torch.zeros_like(value) if k == 0
                                         else steps[f"{name}.{s}.{k - 1}"])
        for name, value in buffers.items():
            inputs[name] = value if k == 0 else steps[f"buffer.{name}.{k - 1}"]
        for key, value in batches.items():
            field, index = key.rsplit(".", 1)
            if int(index) == k:
                inputs[field] = value
        # kiln.step counts updates from 1.
        inputs["step"] = torch.tensor(k + 1)
        inputs["total_steps"] = torch.tensor(args.steps)
        in_path = os.path.join(args.workdir, f"inputs.{k}.safetensors")
        kiln_safetensors.write(in_path, inputs)

        grad = run_kilnc(args, "kiln-grad", args.model + "_grad", in_path,
                         os.path.join(args.workdir, f"grad.{k}.safetensors"))
        step = run_kilnc(args, "train-step", "train_step", in_path,
                         os.path.join(args.workdir, f"step.{k}.safetensors"))
        for outputs, function in ((grad, "grad"), (step, "train_step")):
            for kind in ("loss", "correct"):
                compare.add(kind, f"{kind}.{k} ({function})", outputs[kind],
                            steps[f"{kind}.{k}"])
        for name in init:
            compare.add("grad", f"grad.{name}.{k}", grad[f"grad.{name}"],
                        steps[f"grad.{name}.{k}"])
            actual, expected = step[name], steps[f"param.{name}.{k}"]
            if skip_noise:
                moment = steps[f"{name}.exp_avg.{k}"].abs()
                # Elements with no gradient in either (embedding rows of ids
                # absent from the batch) stay where they are.
                still = (moment == 0) & (step[f"{name}.exp_avg"] == 0)
                noise = (moment < NOISE_FLOOR * moment.max()) & ~still
                if noise.any():
                    skipped[name] = skipped.get(name, 0) + noise.sum().item()
                    actual, expected = actual[~noise], expected[~noise]
            compare.add("param", f"param.{name}.{k}", actual, expected)
            for s in state_names:
                compare.add(s, f"{name}.{s}.{k}", step[f"{name}.{s}"],
                            steps[f"{name}.{s}.{k}"])
        # Batch norm's running statistics, updated by the step.
        for name in buffers:
            compare.add("buffer", f"buffer.{name}.{k}", step[name],
                        steps[f"buffer.{name}.{k}"])

    if skipped:
        print(f"not compared: the updates of elements whose first moment is below "
              f"{NOISE_FLOOR:g} of its tensor's largest (Adam on float32 rounding "
              f"noise; the float64 run compares them), over {args.steps} steps:")
        for name, count in skipped.items():
            print(f"  {name}: {count} of {args.steps * init[name].numel()}")
    print("largest relative difference by kind (counts: 0 when equal):")
    for kind, (err, where) in compare.worst.items():
        print(f"  {kind}: {err:.2g} ({where})")
    for failure in compare.failures:
        print("FAIL:", failure)
    if compare.failures:
        sys.exit(f"{args.model}: {len(compare.failures)} tensor(s) beyond "
                 f"{TOLERANCE[args.dtype]:g}; the files are in {args.workdir}")
    print(f"{args.model}: PASS")
    # Hundreds of megabytes for the transformer.
    shutil.rmtree(args.workdir)


if __name__ == "__main__":
    main()
