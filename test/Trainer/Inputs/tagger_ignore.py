"""The data, initial weights and PyTorch losses of tagger_ignore.kiln:

    tagger_ignore.py data DIR       train.npz (512 sequences, a quarter of
                                    the labels -100), test.npz (100, 60 of
                                    600 labels -100), init.safetensors, and
                                    bad/ whose one label 3 is no class
    tagger_ignore.py torch DIR N    the losses of N updates in file order,
                                    as the trainer's --metrics writes them,
                                    to DIR/torch.jsonl
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "tools", "pylib"))
import kiln_safetensors  # noqa: E402

BATCH = 32


def write_data(out):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, size=(512, 6)).astype(np.int64)
    y = x % 3
    y[rng.random(y.shape) < 0.25] = -100
    np.savez(f"{out}/train.npz", x=x, y=y)
    tx = rng.integers(0, 8, size=(100, 6)).astype(np.int64)
    ty = tx % 3
    ty.reshape(-1)[rng.choice(600, 60, replace=False)] = -100
    np.savez(f"{out}/test.npz", x=tx, y=ty)
    os.makedirs(f"{out}/bad", exist_ok=True)
    y[40, 2] = 3
    np.savez(f"{out}/bad/train.npz", x=x, y=y)
    np.savez(f"{out}/bad/test.npz", x=tx, y=ty)
    torch.manual_seed(0)
    embed, fc = torch.nn.Embedding(8, 16), torch.nn.Linear(16, 3)
    kiln_safetensors.write(f"{out}/init.safetensors",
                           {"embed.weight": embed.weight.detach(),
                            "fc.weight": fc.weight.detach(),
                            "fc.bias": fc.bias.detach()})


def train(out, steps):
    data = np.load(f"{out}/train.npz")
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    weights = kiln_safetensors.read(f"{out}/init.safetensors")[0]
    embed, fc = torch.nn.Embedding(8, 16), torch.nn.Linear(16, 3)
    with torch.no_grad():
        embed.weight.copy_(weights["embed.weight"])
        fc.weight.copy_(weights["fc.weight"])
        fc.bias.copy_(weights["fc.bias"])
    params = list(embed.parameters()) + list(fc.parameters())
    optimizer = torch.optim.Adam(params, lr=0.05)
    with open(f"{out}/torch.jsonl", "w") as f:
        for step in range(steps):
            rows = slice(step * BATCH, (step + 1) * BATCH)
            logits = fc(F.relu(embed(x[rows])))
            loss = F.cross_entropy(logits.reshape(-1, 3), y[rows].reshape(-1),
                                   label_smoothing=0.1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            f.write(json.dumps({"step": step + 1, "epoch": 1, "loss": loss.item(),
                                "lr": 0.05}) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "data":
        write_data(sys.argv[2])
    else:
        train(sys.argv[2], int(sys.argv[3]))
