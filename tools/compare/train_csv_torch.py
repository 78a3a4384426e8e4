#!/usr/bin/python3
"""Trains, in PyTorch, the MLP of a Kiln model that reads a CSV table with
csv(..., standardize: true), so that the Kiln trainer's test accuracy or test
loss can be compared with PyTorch's:

    /usr/bin/python3 train_csv_torch.py --train T.csv --test V.csv
        --label NAME --task classify|regress --hidden 64,64 [--epochs 20]
        [--batch 64] [--lr 1e-3] [--seed 0] [--shuffle on|off]
        [--init FILE | --write-init FILE] [--metrics FILE] [--threads 2]
        [--quiet]

What it does as Kiln's csv source and trainer do:

* the table: the header row names the columns; every column but the label is
  a feature, in file order. Class labels that are all non-negative integers
  are the class ids, other labels map to ids in sorted order (sklearn's
  LabelEncoder); regression targets are the label's numbers. Read with
  Python's csv module, independently of Kiln's parser.
* standardization: each feature minus its mean, over its population standard
  deviation (ddof 0, StandardScaler's; 0 counts as 1), both over the training
  split, computed in float64 and rounded once to float32.
* the model: linear layers fc1..fcK (the hidden sizes, then the classes or 1
  output) with ReLU between them, PyTorch's default initialization after
  torch.manual_seed(seed), or --init's weights; --write-init writes them
  (safetensors, the names of `kilnc -emit=kiln`) for the trainer's --init.
* training: torch.optim.Adam(lr), batches in the trainer's order (file order
  with --shuffle off, else its SplitMix64 shuffle of (seed, epoch), from
  train_torch.py), a last partial batch completed with the epoch's first
  examples (drop_last = false); cross-entropy, or the mean squared error of
  the single output.
* evaluation after each epoch over the whole test set: accuracy and mean
  cross-entropy, or the mean squared error; the metrics file has the
  trainer's lines ({"step","epoch","loss","lr"} per update,
  {"epoch","step","accuracy","loss"} per evaluation, accuracy only when
  classifying).

Prints the final "test accuracy A (C/N) test loss L" or "test loss L (N
examples)" as the Kiln trainer does.
"""
import argparse
import csv
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, HERE)
import kiln_safetensors  # noqa: E402
from train_torch import Metrics, epoch_order  # noqa: E402


def read_table(path, label):
    """(header of the features, features float64 [N, F], labels as text)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [name.strip() for name in rows[0]]
    if label not in header:
        sys.exit(f"error: {path}: no column '{label}' in {header}")
    at = header.index(label)
    features = [name for i, name in enumerate(header) if i != at]
    x = np.array([[float(v) for i, v in enumerate(row) if i != at]
                  for row in rows[1:]], dtype=np.float64)
    y = [row[at].strip() for row in rows[1:]]
    return features, x, y


def class_ids(train, test):
    """The ids of the labels of both splits, and the class names."""
    if all(v.isdigit() for v in train):
        names = [str(i) for i in range(max(int(v) for v in train) + 1)]
        ids = {name: i for i, name in enumerate(names)}
    else:
        names = sorted(set(train))
        ids = {name: i for i, name in enumerate(names)}
    return ([torch.tensor([ids[v] for v in split]) for split in (train, test)],
            names)


class MLP(torch.nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        sizes = [inputs] + hidden + [outputs]
        self.names = [f"fc{i + 1}" for i in range(len(sizes) - 1)]
        for name, (a, b) in zip(self.names, zip(sizes, sizes[1:])):
            setattr(self, name, torch.nn.Linear(a, b))

    def forward(self, x):
        for i, name in enumerate(self.names):
            x = getattr(self, name)(x)
            if i + 1 < len(self.names):
                x = F.relu(x)
        return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--task", choices=["classify", "regress"],
                        required=True)
    parser.add_argument("--hidden", default="64,64",
                        help="the hidden layers' sizes, comma-separated")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shuffle", choices=["on", "off"], default="on")
    parser.add_argument("--threads", type=int, default=2)
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--init", help="initial weights (safetensors)")
    weights.add_argument("--write-init",
                         help="writes the initial weights (safetensors)")
    parser.add_argument("--metrics", help="JSON lines as the Kiln trainer's")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    names, xs, ys = read_table(args.train, args.label)
    test_names, xt, yt = read_table(args.test, args.label)
    if test_names != names:
        sys.exit(f"error: {args.test}: its columns differ from {args.train}'s")
    mean, std = xs.mean(axis=0), xs.std(axis=0)
    std[std == 0] = 1
    xs = torch.from_numpy(((xs - mean) / std).astype(np.float32))
    xt = torch.from_numpy(((xt - mean) / std).astype(np.float32))
    classify = args.task == "classify"
    if classify:
        (ys, yt), classes = class_ids(ys, yt)
        outputs = len(classes)
    else:
        ys = torch.tensor([float(v) for v in ys], dtype=torch.float32)
        yt = torch.tensor([float(v) for v in yt], dtype=torch.float32)
        outputs = 1

    torch.manual_seed(args.seed)
    hidden = [int(size) for size in args.hidden.split(",") if size]
    module = MLP(len(names), hidden, outputs)
    if args.init:
        tensors, _ = kiln_safetensors.read(args.init)
        module.load_state_dict(kiln_safetensors.state_dict(tensors, module))
    if args.write_init:
        # Parameters and buffers, for the trainer's --init.
        kiln_safetensors.write(args.write_init, module.state_dict(),
                               {"seed": args.seed, "torch": torch.__version__})
    optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
    metrics = Metrics(args.metrics)

    def loss_of(x, y, reduction="mean"):
        out = module(x)
        if classify:
            return F.cross_entropy(out, y, reduction=reduction), out
        squares = (out[:, 0] - y) ** 2
        return (squares.mean() if reduction == "mean" else squares.sum()), out

    def evaluate():
        module.eval()
        with torch.no_grad():
            loss, out = loss_of(xt, yt, reduction="sum")
        module.train()
        correct = int((out.argmax(1) == yt).sum()) if classify else None
        return correct, float(loss) / len(xt)

    def log(text):
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    size, batch = len(xs), args.batch
    per_epoch = (size + batch - 1) // batch
    log(f"{len(xs)} training and {len(xt)} test examples, {len(names)} "
        f"features, {outputs} outputs, {per_epoch} steps of {batch} per epoch")
    start, step = time.perf_counter(), 0
    for epoch in range(1, args.epochs + 1):
        order = torch.tensor(epoch_order(size, args.seed, epoch - 1,
                                         args.shuffle == "on"))
        losses = []
        for index in range(per_epoch):
            rows = order[(index * batch + torch.arange(batch)) % size]
            optimizer.zero_grad()
            loss, _ = loss_of(xs[rows], ys[rows])
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(float(loss))
            metrics.write(step=step, epoch=epoch, loss=losses[-1],
                          lr=optimizer.param_groups[0]["lr"])
        correct, test_loss = evaluate()
        fields = {"epoch": epoch, "step": step}
        if classify:
            fields["accuracy"] = correct / len(xt)
        fields["loss"] = test_loss
        metrics.write(**fields)
        result = (f"test acc {correct / len(xt):.4f} " if classify else "") + \
            f"test loss {test_loss:.4f}"
        log(f"epoch {epoch}: train loss {sum(losses) / len(losses):.4f} "
            f"{result} elapsed {time.perf_counter() - start:.1f}s")
    if classify:
        print(f"test accuracy {correct / len(xt):.4f} ({correct}/{len(xt)}) "
              f"test loss {test_loss:.4f}")
    else:
        print(f"test loss {test_loss:.4f} ({len(xt)} examples)")


if __name__ == "__main__":
    main()
