"""PyTorch's side of bench/: the training step of each bench model, timed.

usage: /usr/bin/python3 bench/torch_step.py MODEL [--steps N] [--threads N]
                                             [--batch B] [--ranks R]
                                             [--precision f32|bf16]
prints: torch: N steps of batch B: median M ms/step (min A, max B)

The models are those of the .kiln files that bench.py compiles (the seed's
models, as ../shared/peers/seed_models.py defines them), with the same
optimizers, on one synthetic batch drawn once, so that no data loading is
timed. Each step: zero_grad, forward, cross-entropy, backward, optimizer
step, as the Kiln trainer's --benchmark does. With --precision bf16 the
forward and the loss run under torch.autocast("cpu", dtype=torch.bfloat16).

With --ranks R > 1 (bench/scaling.py's peer), R processes train the model
wrapped in DistributedDataParallel over gloo on this machine, each on its
own batch of B and its own --threads cores, and rank 0 prints its times.
"""
import argparse
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools", "pylib"))
from kiln_recipes import OPTIMIZERS  # noqa: E402
from kiln_torch_models import (CNN, LSTMClassifier, ResNet,  # noqa: E402
                               TransformerClassifier)

WARMUP = 3  # untimed steps, as the trainer's --benchmark


def workload(name, batch, generator):
    """The model, its optimizer's maker and a synthetic batch (inputs,
    labels). The bench models train with their examples' optimizers."""
    labels = torch.randint(0, 10, (batch,), generator=generator)
    if name == "cnn":
        return CNN(1, 28), OPTIMIZERS["cnn"], torch.randn(batch, 1, 28, 28, generator=generator), labels
    if name == "cnn_cifar":
        return CNN(3, 32), OPTIMIZERS["cnn"], torch.randn(batch, 3, 32, 32, generator=generator), labels
    if name == "resnet":
        return ResNet(), OPTIMIZERS["resnet"], torch.randn(batch, 1, 28, 28, generator=generator), labels
    if name == "lstm":
        return LSTMClassifier(one_hot=False), OPTIMIZERS["lstm"], torch.randn(batch, 32, 100, generator=generator), labels
    if name == "transformer":
        return (TransformerClassifier(length=64), OPTIMIZERS["transformer"],
                torch.randint(0, 100, (batch, 64), generator=generator), labels)
    raise SystemExit(f"torch_step.py: error: unknown model '{name}'")


def train(rank, args, port):
    # --threads cores per rank, as mpirun binds Kiln's ranks: without it,
    # OpenBLAS's threads take more cores than --threads says.
    os.sched_setaffinity(0, {(rank * args.threads + i) % os.cpu_count()
                             for i in range(args.threads)})
    if args.ranks > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                                rank=rank, world_size=args.ranks)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, make_optimizer, x, y = workload(args.model, args.batch,
                                           torch.Generator().manual_seed(0))
    if args.ranks > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = make_optimizer(model.parameters())

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16,
                            enabled=args.precision == "bf16"):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    times = []
    for i in range(WARMUP + args.steps):
        begin = time.perf_counter()
        step()
        if i >= WARMUP:
            times.append(time.perf_counter() - begin)
    if rank == 0:
        print(f"torch: {len(times)} steps of batch {args.batch}: median "
              f"{statistics.median(times) * 1e3:.3f} ms/step (min "
              f"{min(times) * 1e3:.3f}, max {max(times) * 1e3:.3f})",
              flush=True)
    if args.ranks > 1:
        dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    args = parser.parse_args()
    if args.ranks == 1:
        train(0, args, None)
        return
    with socket.socket() as probe:  # a free port for the ranks to meet on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    torch.multiprocessing.spawn(train, args=(args, port), nprocs=args.ranks)

if __name__ == "__main__":
    main()
