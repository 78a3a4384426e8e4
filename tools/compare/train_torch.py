#!/usr/bin/python3
"""Trains the PyTorch equivalent of one of Kiln's seed examples
(examples/cnn.kiln, lstm.kiln, gru.kiln, transformer.kiln, resnet.kiln) with
the example's recipe, so that a Kiln trainer can be compared with PyTorch step
by step and epoch by epoch:

    /usr/bin/python3 train_torch.py {cnn,gru,lstm,mlp,resnet,transformer}
        [--epochs 3] [--max-steps N] [--seed 0] [--shuffle on|off] [--threads 2]
        [--batch 64] [--accumulate 1]
        [--init FILE | --write-init FILE] [--save FILE] [--metrics FILE]
        [--precision f32|bf16|bf16-rounded] [--quiet]

The flags mean what the Kiln trainer's flags of the same names mean, and the
metrics file has the trainer's lines ({"step", "epoch", "loss", "lr"} per
update, {"epoch", "step", "accuracy", "loss"} per evaluation). What matches
the trainer exactly:

* the modules: parameter names and shapes of `kilnc -emit=kiln`, PyTorch's
  default initialization after torch.manual_seed(seed) (or --init's weights);
* the data: the same files read by the same rules (Fashion-MNIST pixels
  times 1/255 rounded once to float; the word-language task as
  ../../shared/peers/real_tasks.py defines it), every epoch's whole batches of
  64 (--batch) in the trainer's order (file order with --shuffle off,
  otherwise the trainer's SplitMix64 shuffle of (seed, epoch));
* the optimizers: torch.optim's SGD, Adam and AdamW with the examples'
  settings, and mlp.kiln's cosine schedule and gradient clipping;
* gradient accumulation (--accumulate k, the recipe's accumulate): each
  update takes k batches, backward() of loss / k on each, then one step;
  its loss is the mean of theirs;
* evaluation: the whole test set after each epoch and at the end of the run,
  accuracy and the mean cross-entropy;
* mixed precision (--precision bf16, the recipe's precision): the forward
  and the loss, in training and in evaluation, run under
  torch.autocast("cpu", dtype=torch.bfloat16). --precision bf16-rounded
  computes what Kiln's mixed precision computes instead: the inputs,
  parameters and results of the convolutions and linear layers rounded to
  bfloat16 and their gradients too, the products in float32 (autocast's
  rounding, without its bfloat16 arithmetic; the CNN, the MLP and the
  ResNet).

Needs Debian's python3-torch (run it with /usr/bin/python3) and the data of
the Debian packages dataset-fashion-mnist and w*.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "pylib"))
import kiln_recipes  # noqa: E402
import kiln_safetensors  # noqa: E402
from kiln_torch_models import (CNN, MLP, GRUClassifier,  # noqa: E402
                               LSTMClassifier, ResNet, TransformerClassifier)

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
DICT_DIR = "/usr/share/dict"
BATCH = 64
CLASSES = 10
# wordlang(train: 4000, test: 500, length: 16), as in the examples.
VOCAB, LENGTH, TRAIN_WORDS, TEST_WORDS = 100, 16, 4000, 500
LANGS = ["american-english", "ngerman", "french", "italian", "spanish",
         "portuguese", "dutch", "swedish", "danish", "polish"]


# --- Data --------------------------------------------------------------------

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    (magic,) = struct.unpack(">I", raw[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def fashion_mnist():
    def part(prefix):
        pixels = read_idx(f"{FASHION_DIR}/{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(f"{FASHION_DIR}/{prefix}-labels-idx1-ubyte.gz")
        # scale: 1 / 255 as the trainer applies it: pixel * scale in double,
        # rounded once to float.
        images = (pixels.astype(np.float64) * (1 / 255)).astype(np.float32)
        return (torch.from_numpy(images).unsqueeze(1),
                torch.from_numpy(labels.astype(np.int64)))
    return (*part("train"), *part("t10k"))


# A-Z lower-cased in the raw bytes: in UTF-8 and Latin-1 alike a byte below
# 0x80 is that ASCII character, so this is the definition's lower-casing,
# done before decoding where it is cheap.
_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                               b"abcdefghijklmnopqrstuvwxyz")
_SPACE = np.zeros(256, bool)
_SPACE[list(b" \t\r\n\f\v")] = True


class WordList:
    """One list's lines as a UTF-8 buffer and the [start, end) of each word
    (a line stripped of white space, neither empty nor with an apostrophe),
    with the words' FNV-1a hashes and their ascending order. The lists hold 6
    million lines, too many to handle one by one in Python."""

    def __init__(self, path):
        raw = open(path, "rb").read().translate(_ASCII_LOWER)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = raw.decode("latin-1").encode("utf-8")
        self.raw = raw
        data = np.frombuffer(raw + b"\n", np.uint8)
        newlines = np.flatnonzero(data == ord("\n"))
        starts = np.concatenate(([0], newlines[:-1] + 1))
        ends = newlines.copy()
        while True:
            lead = (starts < ends) & _SPACE[data[starts]]
            if not lead.any():
                break
            starts[lead] += 1
        while True:
            trail = (starts < ends) & _SPACE[data[ends - 1]]
            if not trail.any():
                break
            ends[trail] -= 1
        quoted = np.zeros(len(starts), bool)
        quoted[np.searchsorted(newlines, np.flatnonzero(data == ord("'")))] = True
        keep = (starts < ends) & ~quoted
        self.starts, self.ends = starts[keep], ends[keep]
        self.hashes = self._fnv1a64(data)
        self.order = np.argsort(self.hashes, kind="stable")
        self.sorted = self.hashes[self.order]

    def _fnv1a64(self, data):
        """Longest words first, so that the words still hashing at byte k
        are a prefix."""
        lengths = self.ends - self.starts
        longest_first = np.argsort(-lengths, kind="stable")
        starts = self.starts[longest_first]
        live = np.searchsorted(-lengths[longest_first],
                               -np.arange(int(lengths.max())), side="left")
        hashes = np.full(len(starts), 0xCBF29CE484222325, np.uint64)
        prime = np.uint64(0x100000001B3)
        for column, count in enumerate(live):
            hashes[:count] = (hashes[:count] ^ data[starts[:count] + column]) * prime
        unsorted = np.empty_like(hashes)
        unsorted[longest_first] = hashes
        return unsorted

    def word(self, index):
        return self.raw[self.starts[index]:self.ends[index]]

    def words_with_hashes(self, hashes):
        """The set of this list's words whose hash is one of `hashes`."""
        first = np.searchsorted(self.sorted, hashes, side="left")
        last = np.searchsorted(self.sorted, hashes, side="right")
        return {self.word(self.order[k])
                for a, b in zip(first, last) for k in range(a, b)}

    def unique_words(self, others, count):
        """The first `count` words in (hash, word) order that no list of
        `others` holds (UTF-8 order is code point order). Only the words of
        smallest hash are looked at, as many as it takes."""
        take = 4 * count
        while True:
            # Every word of hash below `bound` is among the first `take`.
            bound = int(self.sorted[take]) if take < len(self.order) else math.inf
            candidates = sorted({(int(self.hashes[i]), self.word(i))
                                 for i in self.order[:take]})
            hashes = self.sorted[:take]
            shared = set().union(*(o.words_with_hashes(hashes) for o in others))
            chosen = [w for h, w in candidates if h < bound and w not in shared]
            if len(chosen) >= count or take >= len(self.order):
                return [w.decode("utf-8") for w in chosen[:count]]
            take *= 2


def wordlang():
    lists = [WordList(os.path.join(DICT_DIR, lang)) for lang in LANGS]
    train, test = [], []
    for label, words in enumerate(lists):
        others = lists[:label] + lists[label + 1:]
        chosen = words.unique_words(others, TRAIN_WORDS + TEST_WORDS)
        train += [(w, label) for w in chosen[:TRAIN_WORDS]]
        test += [(w, label) for w in chosen[TRAIN_WORDS:]]
    freq = {}
    for w, _ in train:
        for c in w:
            freq[c] = freq.get(c, 0) + 1
    ranked = sorted(freq, key=lambda c: (-freq[c], ord(c)))[:VOCAB - 2]
    ids = {c: i + 2 for i, c in enumerate(ranked)}

    def encode(pairs):
        # The first LENGTH characters, left-padded with id 0.
        x = torch.zeros(len(pairs), LENGTH, dtype=torch.long)
        for i, (w, _) in enumerate(pairs):
            word = [ids.get(c, 1) for c in w][:LENGTH]
            x[i, LENGTH - len(word):] = torch.tensor(word)
        return x, torch.tensor([label for _, label in pairs])
    return (*encode(train), *encode(test))


# --- The trainer's epoch order -----------------------------------------------

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_EPOCH_STREAM = 0x65706F63686F7264  # "epochord"


def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def epoch_order(size, seed, epoch, shuffle):
    """data::epochOrder of runtime/src/data/Dataset.cpp: a Fisher-Yates
    shuffle driven by SplitMix64 keyed by (seed, "epochord", epoch), with
    Lemire's unbiased bounded draws; `epoch` counts from 0."""
    order = list(range(size))
    if not shuffle:
        return order
    state = _mix64(seed)
    for key in (_EPOCH_STREAM, epoch):
        state = _mix64(state ^ _mix64((key + _GOLDEN) & _MASK))
    for i in range(size - 1, 0, -1):
        bound = i + 1
        while True:
            state = (state + _GOLDEN) & _MASK
            product = _mix64(state) * bound
            if product & _MASK >= (-bound & _MASK) % bound:
                break
        j = product >> 64
        order[i], order[j] = order[j], order[i]
    return order


# --- Models: examples/*.kiln in PyTorch (tools/pylib/kiln_torch_models.py) ---

# name: (module, data); kiln_recipes.py has each example's optimizer,
# schedule and clipping.
MODELS = {
    "cnn": (CNN, fashion_mnist),
    "mlp": (MLP, fashion_mnist),
    "lstm": (LSTMClassifier, wordlang),
    "gru": (GRUClassifier, wordlang),
    "resnet": (ResNet, fashion_mnist),
    "transformer": (TransformerClassifier, wordlang),
}


# --- Mixed precision as Kiln computes it (--precision bf16-rounded) ----------

class _RoundToBFloat16(torch.autograd.Function):
    """x.bfloat16().float(), whose gradient is rounded too: the gradient of
    a bfloat16 tensor is one."""

    @staticmethod
    def forward(ctx, x):
        return x.bfloat16().float()

    @staticmethod
    def backward(ctx, grad):
        return grad.bfloat16().float()


def round_to_bfloat16(x):
    return _RoundToBFloat16.apply(x) if x.dtype == torch.float32 else x


class _Rounded(nn.Module):
    """A parametrization: the layer sees its parameter rounded."""

    def forward(self, parameter):
        return round_to_bfloat16(parameter)


def round_as_kiln(module):
    """Rounds the inputs, parameters and results of `module`'s convolutions
    and linear layers, as kiln-autocast does; returns a function that undoes
    it, leaving the parameters as trained."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    others = [type(m).__name__ for m in module.modules()
              if isinstance(m, (nn.RNNBase, nn.MultiheadAttention))]
    if others:
        sys.exit(f"train_torch.py: --precision bf16-rounded has no "
                 f"{others[0]}; it rounds convolutions and linear layers")
    hooks = []
    for layer in layers:
        for name in ("weight", "bias"):
            if getattr(layer, name) is not None:
                parametrize.register_parametrization(layer, name, _Rounded())
        hooks.append(layer.register_forward_pre_hook(
            lambda _, inputs: tuple(round_to_bfloat16(x) for x in inputs)))
        hooks.append(layer.register_forward_hook(
            lambda _, inputs, output: round_to_bfloat16(output)))

    def undo():
        for hook in hooks:
            hook.remove()
        for layer in layers:
            for name in list(layer.parametrizations):
                parametrize.remove_parametrizations(layer, name,
                                                    leave_parametrized=False)
    return undo


# --- Training ------------------------------------------------------------------

class Metrics:
    def __init__(self, path):
        self.file = open(path, "w") if path else None

    def write(self, **fields):
        if self.file:
            self.file.write(json.dumps(fields, separators=(",", ":")) + "\n")
            self.file.flush()


def evaluate(module, xs, ys, autocast):
    """(accuracy, mean loss) over the whole set."""
    module.eval()
    correct, loss = 0, 0.0
    with torch.no_grad(), autocast():
        for begin in range(0, len(xs), 500):
            logits = module(xs[begin:begin + 500])
            labels = ys[begin:begin + 500]
            correct += int((logits.argmax(1) == labels).sum())
            loss += float(F.cross_entropy(logits, labels, reduction="sum"))
    module.train()
    return correct / len(xs), loss / len(xs)


def main():
    parser = argparse.ArgumentParser(
        description="Trains the PyTorch equivalent of a Kiln example.")
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shuffle", choices=["on", "off"], default="on")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="examples per batch (the recipe's batch_size)")
    parser.add_argument("--accumulate", type=int, default=1,
                        help="batches per update (the recipe's accumulate)")
    weights = parser.add_mutually_exclusive_group()
    weights.add_argument("--init", help="initial weights (safetensors)")
    weights.add_argument("--write-init",
                         help="writes the initial weights (safetensors)")
    parser.add_argument("--save", help="writes the trained parameters and "
                        "buffers at the end (safetensors)")
    parser.add_argument("--metrics", help="JSON lines as the Kiln trainer's")
    parser.add_argument("--no-eval", action="store_true",
                        help="no evaluations, for comparisons of the losses")
    parser.add_argument("--dtype", choices=["float32", "float64"],
                        default="float32",
                        help="float64 gives the exact answer that float32 "
                        "runs are measured against")
    parser.add_argument("--precision", choices=["f32", "bf16", "bf16-rounded"],
                        default="f32",
                        help="bf16: torch.autocast with bfloat16; "
                        "bf16-rounded: Kiln's mixed precision")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16,
                              enabled=args.precision == "bf16")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    make_module, load = MODELS[args.model]
    module = make_module()
    dtype = getattr(torch, args.dtype)
    if args.init:
        tensors, _ = kiln_safetensors.read(args.init)
        module.load_state_dict(kiln_safetensors.state_dict(tensors, module))
    if args.write_init:
        # Parameters and buffers, for the trainer's --init.
        kiln_safetensors.write(args.write_init, module.state_dict(),
                               {"model": args.model, "seed": args.seed,
                                "torch": torch.__version__})
    # After the initial weights are drawn and written, so that they are the
    # float32 run's.
    module.to(dtype)
    unround = (round_as_kiln(module) if args.precision == "bf16-rounded"
               else lambda: None)
    optimizer = kiln_recipes.OPTIMIZERS[args.model](module.parameters())
    xs, ys, xt, yt = load()
    if xs.is_floating_point():
        xs, xt = xs.to(dtype), xt.to(dtype)
    metrics = Metrics(args.metrics)

    def log(text):
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    micro, k = args.batch, args.accumulate
    update = micro * k
    per_epoch = len(xs) // update
    total = per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)
    schedule = kiln_recipes.scheduler(args.model, optimizer, total)
    clip = kiln_recipes.CLIP_GRAD_NORM.get(args.model)
    log(f"{args.model}: {len(xs)} training and {len(xt)} test examples, "
        f"{per_epoch} steps of {update} ({k} of {micro}) per epoch, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    start = time.perf_counter()
    step = 0
    module.train()
    while step < total:
        epoch = step // per_epoch + 1
        order = torch.tensor(epoch_order(len(xs), args.seed, epoch - 1,
                                         args.shuffle == "on"))
        losses, seconds = [], 0.0
        for batch in range(per_epoch):
            begin = time.perf_counter()
            rows = order[batch * update:(batch + 1) * update]
            optimizer.zero_grad()
            loss = 0.0
            for part in rows.split(micro):
                with autocast():
                    micro_loss = F.cross_entropy(module(xs[part]), ys[part])
                (micro_loss / k).backward()
                loss += float(micro_loss) / k
            if clip:
                torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
            lr = optimizer.param_groups[0]["lr"]
            optimizer.step()
            if schedule:
                schedule.step()
            seconds += time.perf_counter() - begin
            step += 1
            losses.append(loss)
            metrics.write(step=step, epoch=epoch, loss=losses[-1], lr=lr)
            if step == total:
                break
        result = ""
        if not args.no_eval:
            accuracy, test_loss = evaluate(module, xt, yt, autocast)
            metrics.write(epoch=epoch, step=step, accuracy=accuracy,
                          loss=test_loss)
            result = f"test acc {accuracy:.4f} test loss {test_loss:.4f} "
        stopped = "" if step % per_epoch == 0 else f" (stopped at step {step})"
        log(f"epoch {epoch}{stopped}: train loss {sum(losses) / len(losses):.4f} "
            f"{result}elapsed {time.perf_counter() - start:.0f}s "
            f"({1000 * seconds / len(losses):.3g} ms/step)")
    unround()
    if args.save:
        kiln_safetensors.write(args.save, dict(module.state_dict()),
                               {"model": args.model, "step": str(step)})
    if not args.no_eval:
        print(f"test accuracy {accuracy:.4f} "
              f"({round(accuracy * len(xt))}/{len(xt)}) test loss {test_loss:.4f}")


if __name__ == "__main__":
    main()
