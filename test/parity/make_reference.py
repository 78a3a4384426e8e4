#!/usr/bin/python3
"""Writes the PyTorch reference of a short training run of one of Kiln's
example models (examples/cnn.kiln, lstm.kiln, gru.kiln, transformer.kiln,
resnet.kiln), for the training parity test between Kiln and PyTorch (see
README.md):

    /usr/bin/python3 make_reference.py {cnn,gru,lstm,resnet,transformer} OUT_DIR \
        [--steps 3] [--batch-size 64] [--dtype float32]

OUT_DIR/init.safetensors     the initial parameters, by state_dict name
OUT_DIR/batches.safetensors  "<input>.<k>" for each model input and step k
OUT_DIR/steps.safetensors    "loss.<k>", "correct.<k>", "grad.<param>.<k>",
                             "param.<param>.<k>" (after the update) and the
                             optimizer state after the update:
                             "<param>.momentum_buffer.<k>" (SGD) or
                             "<param>.exp_avg.<k>", "<param>.exp_avg_sq.<k>" (Adam)

Each PyTorch module below is written to compute exactly what `kilnc
-emit=kiln` makes of the example, with the same parameter names and shapes.
"""
import argparse
import collections
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools", "pylib"))
import kiln_recipes  # noqa: E402
import kiln_safetensors  # noqa: E402
from kiln_torch_models import (CNN, GRUClassifier, LSTMClassifier,  # noqa: E402
                               ResNet, TransformerClassifier)

# The examples' `seed` (0 by default) seeds the initial weights.
INIT_SEED = 0
# The synthetic batches come from a generator of their own, so that changing
# a model's initialization does not change its data.
DATA_SEED = 1
# wordlang's words: ids in [0, 100), 0 being the padding after the word.
VOCAB = 100
LENGTH = 16
CLASSES = 10

# What a model needs for the run: the module, a function that draws one batch
# {input name: tensor} from a generator, the names of the model's input and
# of the label, and the names of the optimizer's per-parameter state.
Model = collections.namedtuple(
    "Model", "module make_batch input label state_names")
# The model with its example's optimizer and learning-rate schedule
# (kiln_recipes.py), or None for a constant rate.
Setup = collections.namedtuple(
    "Setup", "module optimizer schedule make_batch input label state_names")


def image_batch(gen, batch_size):
    # Like fashion_mnist(scale: 1 / 255): grey pixels in [0, 1).
    return {"image": torch.rand(batch_size, 1, 28, 28, generator=gen),
            "label": torch.randint(0, CLASSES, (batch_size,), generator=gen)}


def word_batch(gen, batch_size):
    # Like wordlang: a word of 1 to LENGTH characters (ids 1..99), padded
    # with id 0 after its end; the label is its language.
    lengths = torch.randint(1, LENGTH + 1, (batch_size, 1), generator=gen)
    ids = torch.randint(1, VOCAB, (batch_size, LENGTH), generator=gen)
    ids = ids.masked_fill(torch.arange(LENGTH) >= lengths, 0)
    return {"chars": ids,
            "language": torch.randint(0, CLASSES, (batch_size,), generator=gen)}


def cnn():
    module = CNN(classes=CLASSES)
    return Model(module, image_batch, "image", "label", ["momentum_buffer"])


def lstm():
    module = LSTMClassifier(features=VOCAB, classes=CLASSES)
    return Model(module, word_batch, "chars", "language",
                 ["exp_avg", "exp_avg_sq"])


def gru():
    module = GRUClassifier(features=VOCAB, classes=CLASSES)
    return Model(module, word_batch, "chars", "language",
                 ["exp_avg", "exp_avg_sq"])


def transformer():
    module = TransformerClassifier(vocab=VOCAB, length=LENGTH, classes=CLASSES)
    return Model(module, word_batch, "chars", "language",
                 ["exp_avg", "exp_avg_sq"])


def resnet():
    module = ResNet(classes=CLASSES)
    return Model(module, image_batch, "image", "label", ["momentum_buffer"])


MODELS = {"cnn": cnn, "gru": gru, "lstm": lstm, "resnet": resnet,
          "transformer": transformer}


def build(model, steps):
    """The model's Setup for a run of `steps` updates, with PyTorch's default
    initialization drawn from the seeded global generator, as in a fresh
    process."""
    torch.manual_seed(INIT_SEED)
    m = MODELS[model]()
    optimizer = kiln_recipes.OPTIMIZERS[model](m.module.parameters())
    return Setup(m.module, optimizer,
                 kiln_recipes.scheduler(model, optimizer, steps),
                 m.make_batch, m.input, m.label, m.state_names)


def state_buffers(module):
    """The buffers of the module's state_dict, which are the Kiln program's
    state (batch norm's statistics); a non-persistent one (the transformer's
    position table) is computed by the program instead."""
    state = module.state_dict()
    return {name: b for name, b in module.named_buffers() if name in state}


def make_batches(setup, steps, batch_size):
    """One batch per step, drawn in order, so that the first steps' batches do
    not depend on `steps`."""
    gen = torch.Generator().manual_seed(DATA_SEED)
    return [setup.make_batch(gen, batch_size) for _ in range(steps)]


def train(setup, batches):
    """Runs one training step per batch; returns the tensors of
    steps.safetensors."""
    module, optimizer = setup.module, setup.optimizer
    # Training mode: with autograd recording, TransformerEncoderLayer takes its
    # plain path (separate matmuls, softmax, layer norms), not the fused
    # inference kernel.
    module.train()
    params = dict(module.named_parameters())
    out = {}
    for k, batch in enumerate(batches):
        optimizer.zero_grad()
        logits = module(batch[setup.input])
        labels = batch[setup.label]
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        out[f"loss.{k}"] = loss.detach().clone()
        out[f"correct.{k}"] = (logits.argmax(dim=1) == labels).sum()
        for name, p in params.items():
            out[f"grad.{name}.{k}"] = p.grad.clone()

        optimizer.step()
        if setup.schedule:
            setup.schedule.step()
        for name, p in params.items():
            out[f"param.{name}.{k}"] = p.detach().clone()
            for state in setup.state_names:
                out[f"{name}.{state}.{k}"] = optimizer.state[p][state].clone()
        for name, b in state_buffers(module).items():
            out[f"buffer.{name}.{k}"] = b.detach().clone()
    return out


def main():
    parser = argparse.ArgumentParser(
        description="Writes the PyTorch reference of a short training run.")
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    # float64 makes a reference that rounding cannot flip (ReLU signs, the
    # signs of Adam's first update), for Kiln's evaluator in F64 precision.
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()

    # One thread: the same sums in the same order on every machine and run.
    torch.set_num_threads(1)
    # Parameters, images and positions all take the default dtype.
    torch.set_default_dtype(getattr(torch, args.dtype))
    setup = build(args.model, args.steps)
    init = {name: p.detach().clone() for name, p in setup.module.named_parameters()}
    buffers = {name: b.detach().clone()
               for name, b in state_buffers(setup.module).items()}
    batches = make_batches(setup, args.steps, args.batch_size)
    steps = train(setup, batches)

    metadata = {
        "model": args.model,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "optimizer": type(setup.optimizer).__name__ + " "
                     + json.dumps(setup.optimizer.defaults, sort_keys=True),
        "init_seed": INIT_SEED,
        "data_seed": DATA_SEED,
    }
    os.makedirs(args.out_dir, exist_ok=True)
    kiln_safetensors.write(os.path.join(args.out_dir, "init.safetensors"),
                           init, metadata)
    kiln_safetensors.write(os.path.join(args.out_dir, "buffers.safetensors"),
                           buffers, metadata)
    kiln_safetensors.write(os.path.join(args.out_dir, "batches.safetensors"),
                           {f"{name}.{k}": t for k, batch in enumerate(batches)
                            for name, t in batch.items()}, metadata)
    kiln_safetensors.write(os.path.join(args.out_dir, "steps.safetensors"),
                           steps, metadata)


if __name__ == "__main__":
    main()
