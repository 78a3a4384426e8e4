#!/usr/bin/python3
"""Writes the PyTorch reference of a short training run of one of Kiln's
example models (examples/cnn.kiln, lstm.kiln, transformer.kiln), for the
training parity test between Kiln and PyTorch (see README.md):

    /usr/bin/python3 make_reference.py {cnn,lstm,transformer} OUT_DIR \
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
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools", "pylib"))
import kiln_safetensors  # noqa: E402

# The examples' `seed` (0 by default) seeds the initial weights.
INIT_SEED = 0
# The synthetic batches come from a generator of their own, so that changing
# a model's initialization does not change its data.
DATA_SEED = 1
# wordlang's words: ids in [0, 100), 0 being the padding after the word.
VOCAB = 100
LENGTH = 16
CLASSES = 10

# What a model needs for the run: the module, its optimizer, a function that
# draws one batch {input name: tensor} from a generator, the name of the
# label input, and the names of the optimizer's per-parameter state.
Setup = collections.namedtuple(
    "Setup", "module optimizer make_batch label state_names")


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


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, CLASSES)

    def forward(self, batch):
        x = F.max_pool2d(F.relu(self.conv1(batch["image"])), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


def cnn():
    module = CNN()
    return Setup(module, torch.optim.SGD(module.parameters(), lr=0.01, momentum=0.9),
                 image_batch, "label", ["momentum_buffer"])


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(VOCAB, 256, 2, batch_first=True)
        self.fc = nn.Linear(256, CLASSES)

    def forward(self, batch):
        one_hot = F.one_hot(batch["chars"], VOCAB).to(torch.get_default_dtype())
        steps, _ = self.lstm(one_hot)
        # The last time step, padding included, as `steps[:, -1, :]` in Kiln.
        return self.fc(steps[:, -1, :])


def lstm():
    module = LSTMClassifier()
    return Setup(module, torch.optim.Adam(module.parameters(), lr=1e-3),
                 word_batch, "language", ["exp_avg", "exp_avg_sq"])


def sinusoidal_positions(length, dim):
    # As the PositionalEncoding of PyTorch's tutorials computes it, in the
    # default dtype (so float32 tables are a little off the exact values):
    # pe[p, 2i] = sin(p * w_i), pe[p, 2i + 1] = cos(p * w_i),
    # w_i = exp(-2i * ln(10000) / dim).
    position = torch.arange(length).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


class TransformerClassifier(nn.Module):
    def __init__(self, d_model=256):
        super().__init__()
        # No padding_idx: Kiln's embedding has none, so row 0 is trained too.
        self.embedding = nn.Embedding(VOCAB, d_model)
        # Not persistent: the table is no parameter, and Kiln computes it.
        self.register_buffer("pe", sinusoidal_positions(LENGTH, d_model),
                             persistent=False)
        # Kiln's EncoderLayer is post-norm with ReLU and no dropout; its
        # attention has no padding mask, so neither has this one.
        layer = nn.TransformerEncoderLayer(d_model, 8, 4 * d_model, dropout=0.0,
                                           batch_first=True)
        # TransformerEncoder deep-copies `layer`: both layers start equal.
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.fc = nn.Linear(d_model, CLASSES)

    def forward(self, batch):
        # No sqrt(d_model) scaling of the embedding, as in the Kiln example.
        x = self.embedding(batch["chars"]) + self.pe
        x = self.encoder(x)
        return self.fc(x.mean(dim=1))


def transformer():
    module = TransformerClassifier()
    return Setup(module, torch.optim.Adam(module.parameters(), lr=1e-3),
                 word_batch, "language", ["exp_avg", "exp_avg_sq"])


MODELS = {"cnn": cnn, "lstm": lstm, "transformer": transformer}


def build(model):
    """The model's Setup, with PyTorch's default initialization drawn from
    the seeded global generator, as in a fresh process."""
    torch.manual_seed(INIT_SEED)
    return MODELS[model]()


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
        logits = module(batch)
        labels = batch[setup.label]
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        out[f"loss.{k}"] = loss.detach().clone()
        out[f"correct.{k}"] = (logits.argmax(dim=1) == labels).sum()
        for name, p in params.items():
            out[f"grad.{name}.{k}"] = p.grad.clone()

        optimizer.step()
        for name, p in params.items():
            out[f"param.{name}.{k}"] = p.detach().clone()
            for state in setup.state_names:
                out[f"{name}.{state}.{k}"] = optimizer.state[p][state].clone()
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
    setup = build(args.model)
    init = {name: p.detach().clone() for name, p in setup.module.named_parameters()}
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
    kiln_safetensors.write(os.path.join(args.out_dir, "batches.safetensors"),
                           {f"{name}.{k}": t for k, batch in enumerate(batches)
                            for name, t in batch.items()}, metadata)
    kiln_safetensors.write(os.path.join(args.out_dir, "steps.safetensors"),
                           steps, metadata)


if __name__ == "__main__":
    main()
