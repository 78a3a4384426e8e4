"""PyTorch's side of bench/: the training step of each bench model, timed.

usage: /usr/bin/python3 bench/torch_step.py MODEL [--steps N] [--threads N]
prints: torch: N steps of batch B: median M ms/step (min A, max B)

The models are those of the .kiln files that bench.py compiles (the seed's
models, as ../shared/peers/seed_models.py defines them), with the same
optimizers, on one synthetic batch drawn once, so that no data loading is
timed. Each step: zero_grad, forward, cross-entropy, backward, optimizer
step, as the Kiln trainer's --benchmark does.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP = 3  # untimed steps, as the trainer's --benchmark


class CNN(nn.Module):
    """examples/cnn.kiln (channels 1, side 28) and cnn_cifar.kiln (3, 32)."""

    def __init__(self, channels, side):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * (side // 4) ** 2, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class LSTM(nn.Module):
    """bench/models/lstm.kiln."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(100, 256, 2, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class Transformer(nn.Module):
    """bench/models/transformer.kiln."""

    def __init__(self, length=64, d=256):
        super().__init__()
        self.embedding = nn.Embedding(100, d)
        position = torch.arange(length).unsqueeze(1)
        frequency = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(length, d)
        pe[:, 0::2] = torch.sin(position * frequency)
        pe[:, 1::2] = torch.cos(position * frequency)
        self.register_buffer("pe", pe)
        layer = nn.TransformerEncoderLayer(d, 8, 4 * d, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        h = self.encoder(self.embedding(x) + self.pe)
        return self.fc(h.mean(dim=1))


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3)


def workload(name, batch, generator):
    """The model, its optimizer and a synthetic batch (inputs, labels)."""
    labels = torch.randint(0, 10, (batch,), generator=generator)
    if name == "cnn":
        return CNN(1, 28), sgd, torch.randn(batch, 1, 28, 28, generator=generator), labels
    if name == "cnn_cifar":
        return CNN(3, 32), sgd, torch.randn(batch, 3, 32, 32, generator=generator), labels
    if name == "lstm":
        return LSTM(), adam, torch.randn(batch, 32, 100, generator=generator), labels
    if name == "transformer":
        return (Transformer(), adam,
                torch.randint(0, 100, (batch, 64), generator=generator), labels)
    raise SystemExit(f"torch_step.py: error: unknown model '{name}'")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, make_optimizer, x, y = workload(args.model, args.batch,
                                           torch.Generator().manual_seed(0))
    optimizer = make_optimizer(model)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    times = []
    for i in range(WARMUP + args.steps):
        begin = time.perf_counter()
        step()
        if i >= WARMUP:
            times.append(time.perf_counter() - begin)
    print(f"torch: {len(times)} steps of batch {args.batch}: median "
          f"{statistics.median(times) * 1e3:.3f} ms/step (min "
          f"{min(times) * 1e3:.3f}, max {max(times) * 1e3:.3f})", flush=True)


if __name__ == "__main__":
    main()
