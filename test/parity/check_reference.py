#!/usr/bin/python3
"""Validates the reference data that make_reference.py wrote, independently
of the nn modules that made it:

    /usr/bin/python3 check_reference.py {cnn,lstm,transformer} DIR [--kilnc PATH]

1. The files hold every expected tensor with the right dtype and shape, and the
   parameter and input names and shapes are those of `kilnc -emit=kiln` on the
   example (skipped when kilnc is not built), as is the optimizer's recipe.
2. init.safetensors and batches.safetensors are regenerated bit for bit.
3. For every step k, the loss, the count of correct predictions and the
   gradients are recomputed from the parameters before the step (init or
   param.*.{k-1}) and batch k by a hand-written functional forward that follows
   the Kiln IR op by op (im2col convolution, an LSTM cell loop, attention and
   layer norm spelled out), with autograd for the gradients; they must agree
   within GATE_TOL relative to each tensor's largest magnitude.
4. The optimizer update is recomputed by hand, in float64, from the stored
   gradient, parameters and state; the stored parameters and state after the
   step must agree to within 8 roundings of their dtype.
5. Informational: whole steps of this independent implementation (its own
   gradients, then the update) are compared with the stored parameters and
   state, which is what the Kiln parity test will see. Tensors beyond the
   parity test's tolerance PARITY_TOL are listed but fail nothing (README.md
   says why some are, in float32).

Exits with status 1 when a check of 1 to 4 fails.
"""
import argparse
import math
import os
import re
import subprocess
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "pylib"))
import kiln_safetensors  # noqa: E402
import make_reference as ref  # noqa: E402

# The recomputed loss and gradients must agree within GATE_TOL, relative to
# each tensor's largest magnitude. In float32 it is loose because a ReLU
# input within rounding of zero can take either side in two implementations,
# which changes that layer's weight gradients by about 2e-3 (it happens in the
# transformer); mistakes in the model or in what is recorded are far larger.
GATE_TOL = {torch.float32: 1e-2, torch.float64: 1e-9}
# The parity test's tolerance; the report lists the tensors beyond it.
PARITY_TOL = {torch.float32: 1e-4, torch.float64: 1e-10}

# The examples' train sections, as written there.
OPTIMIZERS = {
    "cnn": ("sgd", {"lr": 0.01, "momentum": 0.9}),
    "lstm": ("adam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    "transformer": ("adam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
}
STATE_NAMES = {"sgd": ["momentum_buffer"], "adam": ["exp_avg", "exp_avg_sq"]}
LABELS = {"cnn": "label", "lstm": "language", "transformer": "language"}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def rel_err(actual, expected):
    """Largest difference relative to the largest magnitude of `expected`."""
    a, e = actual.double(), expected.double()
    scale = e.abs().max().item()
    diff = (a - e).abs().max().item()
    return diff / scale if scale > 0 else diff


# ---- 1. Names and shapes against kilnc --------------------------------------

def kiln_signature(kilnc, model, batch_size):
    """({param: shape}, {input: (shape, dtype)}, {optimizer attribute: value})
    of the example's function in `kilnc -emit=kiln`."""
    example = os.path.join(HERE, "..", "..", "examples", model + ".kiln")
    ir = subprocess.run([kilnc, example, "-emit=kiln", f"--batch-size={batch_size}"],
                        check=True, capture_output=True, text=True).stdout
    params, inputs = {}, {}
    signature = ir[ir.index("func.func"):ir.index("->")]
    for arg in signature.split("%arg")[1:]:
        dims, dtype = re.match(r"\d+: tensor<((?:\d+x)*)(\w+)>", arg).groups()
        shape = [int(d) for d in dims.split("x") if d]
        role, name = re.search(r'kiln\.(param|input) = "([^"]+)"', arg).groups()
        if role == "param":
            params[name] = shape
        else:
            inputs[name] = (shape, dtype)
    optimizer = re.search(r"optimizer = \{([^}]*)\}", ir).group(1)
    recipe = {key: float(value) for key, value in
              re.findall(r"(\w+) = ([-+.\deE]+) : f64", optimizer)}
    recipe["kind"] = re.search(r'kind = "(\w+)"', optimizer).group(1)
    return params, inputs, recipe


def check_against_kilnc(kilnc, model, batch_size, init, batches):
    params, inputs, recipe = kiln_signature(kilnc, model, batch_size)
    ours = {name: list(t.shape) for name, t in init.items()}
    if ours != params:
        fail(f"parameters differ from kilnc's:\n  ours  {ours}\n  kilnc {params}")
    # A float64 reference stands for the f32 inputs evaluated in F64 precision.
    dtypes = {torch.float32: "f32", torch.float64: "f32", torch.int64: "i64"}
    ours = {name[:-2]: (list(t.shape), dtypes[t.dtype])
            for name, t in batches.items() if name.endswith(".0")}
    if ours != inputs:
        fail(f"inputs differ from kilnc's:\n  ours  {ours}\n  kilnc {inputs}")
    kind, hyper = OPTIMIZERS[model]
    if recipe["kind"] != kind or any(not math.isclose(recipe[k], v)
                                     for k, v in hyper.items()):
        fail(f"optimizer {kind} {hyper} differs from the example's {recipe}")
    print(f"kilnc: {len(params)} parameters, inputs {sorted(inputs)} and the optimizer match")


# ---- 3. Independent forwards, following the Kiln IR --------------------------

def linear(x, p, name):
    return x @ p[name + ".weight"].t() + p[name + ".bias"]


def softmax(x):
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def cross_entropy(logits, labels):
    top = logits.amax(dim=1)
    logsumexp = top + torch.log(torch.exp(logits - top[:, None]).sum(dim=1))
    return (logsumexp - logits[torch.arange(len(labels)), labels]).mean()


def conv3x3(x, weight, bias):
    """Convolution with padding 1 as im2col and a matrix product."""
    n, _, h, w = x.shape
    columns = F.unfold(x, 3, padding=1)  # [N, C * 9, H * W]
    y = weight.reshape(weight.shape[0], -1) @ columns + bias[:, None]
    return y.reshape(n, -1, h, w)


def max_pool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


def forward_cnn(p, batch):
    x = max_pool2(torch.relu(conv3x3(batch["image"], p["conv1.weight"], p["conv1.bias"])))
    x = max_pool2(torch.relu(conv3x3(x, p["conv2.weight"], p["conv2.bias"])))
    x = torch.relu(linear(x.reshape(x.shape[0], -1), p, "fc1"))
    return linear(x, p, "fc2")


def forward_lstm(p, batch):
    ids = batch["chars"]
    x = (ids[..., None] == torch.arange(ref.VOCAB)).to(torch.get_default_dtype())
    for layer in range(2):
        w_ih, w_hh = p[f"lstm.weight_ih_l{layer}"], p[f"lstm.weight_hh_l{layer}"]
        bias = p[f"lstm.bias_ih_l{layer}"] + p[f"lstm.bias_hh_l{layer}"]
        h = c = torch.zeros(x.shape[0], w_hh.shape[1])
        steps = []
        for t in range(x.shape[1]):
            # Gates in PyTorch's order: input, forget, cell, output.
            i, f, g, o = (x[:, t] @ w_ih.t() + h @ w_hh.t() + bias).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            steps.append(h)
        x = torch.stack(steps, dim=1)
    return linear(x[:, -1], p, "fc")


def positions64(length, dim):
    """The sinusoidal table computed in float64 from its definition."""
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    w = torch.exp(-torch.arange(0, dim, 2, dtype=torch.float64) * math.log(10000.0) / dim)
    pe = torch.empty(length, dim, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * w), torch.cos(pos * w)
    return pe


def layer_norm(x, p, name):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5) * p[name + ".weight"] + p[name + ".bias"]


def forward_transformer(p, batch, heads=8):
    ids = batch["chars"]
    b, length = ids.shape
    d = p["embedding.weight"].shape[1]
    x = p["embedding.weight"][ids] + positions64(length, d).to(torch.get_default_dtype())
    for layer in range(2):
        pre = f"encoder.layers.{layer}."
        qkv = x @ p[pre + "self_attn.in_proj_weight"].t() + p[pre + "self_attn.in_proj_bias"]
        q, k, v = (t.reshape(b, length, heads, d // heads).transpose(1, 2)
                   for t in qkv.split(d, dim=-1))
        weights = softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(d // heads)))
        attended = (weights @ v).transpose(1, 2).reshape(b, length, d)
        x = layer_norm(x + linear(attended, p, pre + "self_attn.out_proj"), p, pre + "norm1")
        ff = linear(torch.relu(linear(x, p, pre + "linear1")), p, pre + "linear2")
        x = layer_norm(x + ff, p, pre + "norm2")
    return linear(x.mean(dim=1), p, "fc")


FORWARDS = {"cnn": forward_cnn, "lstm": forward_lstm, "transformer": forward_transformer}


def recompute(model, params, batch):
    """(loss, correct, {name: grad}) of one step from `params`."""
    p = {name: t.clone().requires_grad_() for name, t in params.items()}
    logits = FORWARDS[model](p, batch)
    labels = batch[LABELS[model]]
    loss = cross_entropy(logits, labels)
    grads = torch.autograd.grad(loss, list(p.values()))
    correct = (logits.argmax(dim=1) == labels).sum()
    return loss.detach(), correct, dict(zip(p, grads))


# ---- 4. The optimizers by hand, in float64 ----------------------------------

def new_state(model, k, grad, prev):
    """The optimizer state after step k (0-based) from the gradient and the
    state before it (empty at step 0), in float64."""
    kind, h = OPTIMIZERS[model]
    if kind == "sgd":
        # torch.optim.SGD starts the buffer at the first gradient itself.
        if k == 0:
            return {"momentum_buffer": grad}
        return {"momentum_buffer": h["momentum"] * prev["momentum_buffer"] + grad}
    m = (1 - h["beta1"]) * grad
    v = (1 - h["beta2"]) * grad * grad
    if k > 0:
        m = m + h["beta1"] * prev["exp_avg"]
        v = v + h["beta2"] * prev["exp_avg_sq"]
    return {"exp_avg": m, "exp_avg_sq": v}


def update(model, k, state):
    """What step k subtracts from the parameter, given the state after it."""
    kind, h = OPTIMIZERS[model]
    if kind == "sgd":
        return h["lr"] * state["momentum_buffer"]
    # torch.optim.Adam: both bias corrections, eps added after dividing by
    # sqrt(1 - beta2^t), not inside the square root.
    t = k + 1
    denom = torch.sqrt(state["exp_avg_sq"]) / math.sqrt(1 - h["beta2"] ** t) + h["eps"]
    return h["lr"] / (1 - h["beta1"] ** t) * state["exp_avg"] / denom


def check_rounding(name, actual, expected, scale, ulps):
    """|actual - expected| <= ulps roundings of `actual`'s dtype times
    `scale`, elementwise."""
    unit = torch.finfo(actual.dtype).eps / 2
    excess = (actual.double() - expected).abs() - ulps * unit * scale
    if excess.max().item() > 0:
        fail(f"{name}: off by up to {excess.max().item():.3g} beyond {ulps} roundings")


# ---- The checks -------------------------------------------------------------

def check_files(model, n_steps, dtype, init, batches, steps):
    """Every expected tensor, with its dtype and shape; plausible batches."""
    state_names = STATE_NAMES[OPTIMIZERS[model][0]]
    expected = {}
    for k in range(n_steps):
        expected[f"loss.{k}"] = (dtype, [])
        expected[f"correct.{k}"] = (torch.int64, [])
        for name, t in init.items():
            for key in [f"grad.{name}.{k}", f"param.{name}.{k}"] + \
                       [f"{name}.{s}.{k}" for s in state_names]:
                expected[key] = (dtype, list(t.shape))
    found = {key: (t.dtype, list(t.shape)) for key, t in steps.items()}
    for key in sorted(set(expected) | set(found)):
        if expected.get(key) != found.get(key):
            fail(f"steps.safetensors: {key} is {found.get(key)}, "
                 f"expected {expected.get(key)}")
    if any(t.dtype != dtype for t in init.values()):
        fail(f"init.safetensors: not all {dtype}")

    for k, batch in enumerate(batches):
        labels = batch[LABELS[model]]
        if labels.min() < 0 or labels.max() >= ref.CLASSES:
            fail(f"batch {k}: labels out of [0, {ref.CLASSES})")
        if "image" in batch and (batch["image"].dtype != dtype or batch["image"].min() < 0
                                 or batch["image"].max() >= 1):
            fail(f"batch {k}: image not {dtype} in [0, 1)")
        if "chars" in batch:
            ids = batch["chars"]
            if ids.min() < 0 or ids.max() >= ref.VOCAB or not (ids == 0).any():
                fail(f"batch {k}: chars out of [0, {ref.VOCAB}) or without padding")


def main():
    parser = argparse.ArgumentParser(description="Validates make_reference.py's output.")
    parser.add_argument("model", choices=sorted(FORWARDS))
    parser.add_argument("dir")
    parser.add_argument("--kilnc",
                        default=os.path.join(HERE, "..", "..", "build", "bin", "kilnc"))
    args = parser.parse_args()

    init, meta = kiln_safetensors.read(os.path.join(args.dir, "init.safetensors"))
    batch_file, _ = kiln_safetensors.read(os.path.join(args.dir, "batches.safetensors"))
    steps, _ = kiln_safetensors.read(os.path.join(args.dir, "steps.safetensors"))
    if meta.get("model") != args.model:
        sys.exit(f"{args.dir} holds the reference of {meta.get('model')}, not {args.model}")
    n_steps, batch_size = int(meta["steps"]), int(meta["batch_size"])
    dtype = getattr(torch, meta["dtype"])
    torch.set_default_dtype(dtype)
    print(f"{args.model}: {n_steps} steps, batch size {batch_size}, {meta['dtype']}, "
          f"torch {meta['torch']}")

    # 1. Structure, names and shapes.
    inputs = sorted({key.rsplit(".", 1)[0] for key in batch_file})
    batches = [{name: batch_file[f"{name}.{k}"] for name in inputs} for k in range(n_steps)]
    check_files(args.model, n_steps, dtype, init, batches, steps)
    if os.path.exists(args.kilnc):
        check_against_kilnc(args.kilnc, args.model, batch_size, init, batch_file)
    else:
        print(f"kilnc: skipped, {args.kilnc} is not built")

    # 2. Reproducibility.
    setup = ref.build(args.model, n_steps)
    fresh = dict(setup.module.named_parameters())
    if any(not torch.equal(fresh[name], t) for name, t in init.items()):
        fail("init.safetensors differs from a fresh module made with the same seed")
    for k, batch in enumerate(ref.make_batches(setup, n_steps, batch_size)):
        if any(not torch.equal(t, batches[k][name]) for name, t in batch.items()):
            fail(f"batch {k} differs from the regenerated one")
    print("init and batches: regenerated bit for bit")

    # 3, 4 and 5, one step at a time, each from the stored parameters and
    # state before it, so that differences do not accumulate.
    state_names = STATE_NAMES[OPTIMIZERS[args.model][0]]
    worst = {kind: {} for kind in ["loss", "grad", "param"] + state_names}
    before = init
    state = {name: {} for name in init}
    for k, batch in enumerate(batches):
        loss, correct, grads = recompute(args.model, before, batch)
        worst["loss"][f"step {k}"] = rel_err(loss, steps[f"loss.{k}"])
        if worst["loss"][f"step {k}"] > GATE_TOL[dtype]:
            fail(f"loss.{k}: {steps[f'loss.{k}'].item()} stored, {loss.item()} recomputed")
        if correct != steps[f"correct.{k}"]:
            fail(f"correct.{k}: {steps[f'correct.{k}'].item()} stored, "
                 f"{correct.item()} recomputed")
        for name in init:
            grad = steps[f"grad.{name}.{k}"]
            err = rel_err(grads[name], grad)
            worst["grad"][name] = max(worst["grad"].get(name, 0.0), err)
            if err > GATE_TOL[dtype]:
                fail(f"grad.{name}.{k}: relative difference {err:.3g}")

            # 4: the state from the stored gradient and state before, and the
            # parameter from the stored state after, which is what PyTorch used.
            stored = {s: steps[f"{name}.{s}.{k}"] for s in state_names}
            prev = {s: t.double() for s, t in state[name].items()}
            expected = new_state(args.model, k, grad.double(), prev)
            for s in state_names:
                terms = expected[s].abs() + (prev[s].abs() if k > 0 else 0)
                check_rounding(f"{name}.{s}.{k}", stored[s], expected[s], terms, 8)
            step = update(args.model, k, {s: t.double() for s, t in stored.items()})
            param = before[name].double() - step
            check_rounding(f"param.{name}.{k}", steps[f"param.{name}.{k}"], param,
                           param.abs() + step.abs(), 8)

            # 5: a whole step from the recomputed gradient.
            ours = new_state(args.model, k, grads[name].double(), prev)
            ours["param"] = before[name].double() - update(args.model, k, ours)
            stored["param"] = steps[f"param.{name}.{k}"]
            for kind in ["param"] + state_names:
                err = rel_err(ours[kind].to(dtype), stored[kind])
                worst[kind][name] = max(worst[kind].get(name, 0.0), err)
            state[name] = {s: stored[s] for s in state_names}
        before = {name: steps[f"param.{name}.{k}"] for name in init}
    print("optimizer state and parameters by hand: checked to within 8 roundings")

    print(f"independent implementation against the stored values, worst relative "
          f"difference (loss by step; gradients from the stored parameters; parameters "
          f"and state after whole steps); beyond {PARITY_TOL[dtype]}:")
    for kind, errs in worst.items():
        name = max(errs, key=errs.get)
        beyond = sorted(f"{n} ({e:.2g})" for n, e in errs.items() if e > PARITY_TOL[dtype])
        print(f"  {kind}: {errs[name]:.2g} ({name})" + "".join("\n    " + b for b in beyond))

    if args.model == "transformer":
        table = ref.sinusoidal_positions(ref.LENGTH, 256).double()
        exact = positions64(ref.LENGTH, 256)
        print(f"positions: PyTorch's {meta['dtype']} table differs from the exact one "
              f"by up to {(table - exact).abs().max().item():.2g}")

    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("OK")


if __name__ == "__main__":
    main()
