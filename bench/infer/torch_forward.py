"""PyTorch's side of bench/infer: the CNN's forward under torch.no_grad(),
timed, as a deployed PyTorch model runs it.

usage: /usr/bin/python3 bench/infer/torch_forward.py --batch B --runs N
           --threads T [--write-weights FILE]
prints: torch: N runs: median M ms/batch (min A, max B)

--write-weights saves the module's initial state_dict with safetensors'
layout (tools/pylib/kiln_safetensors.py), the weights the Kiln library
loads, and exits. The input is the same fixed pattern as harness.c's.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools", "pylib"))
import kiln_safetensors  # noqa: E402
from kiln_torch_models import CNN  # noqa: E402

WARMUP = 10  # untimed runs, as harness.c's


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write-weights")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = CNN(1, 28).eval()
    if args.write_weights:
        kiln_safetensors.write(args.write_weights, model.state_dict())
        return
    torch.set_num_threads(args.threads)
    count = args.batch * 28 * 28
    pattern = torch.tensor([(i * 7919) % 256 for i in range(count)],
                           dtype=torch.float32) / 255
    image = pattern.reshape(args.batch, 1, 28, 28)
    times = []
    with torch.no_grad():
        for i in range(WARMUP + args.runs):
            begin = time.perf_counter()
            model(image)
            if i >= WARMUP:
                times.append((time.perf_counter() - begin) * 1e3)
    print(f"torch: {args.runs} runs: median {statistics.median(times):.4f} "
          f"ms/batch (min {min(times):.4f}, max {max(times):.4f})")


if __name__ == "__main__":
    main()
