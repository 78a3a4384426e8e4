"""Writes Fashion-MNIST as NumPy archives, for examples/cnn_npz.kiln.

Reads the gzip IDX files of Debian's dataset-fashion-mnist and writes
DIR/train.npz and DIR/test.npz, each holding `image` (uint8 [N, 28, 28]) and
`label` (int64 [N]), with numpy.savez (stored members, which the trainer
reads in place) or, with --compressed, numpy.savez_compressed.

    python3 examples/data/fashion_to_npz.py DIR [--compressed]
"""
import argparse
import gzip
import os

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"


def read_idx(name, offset):
    with gzip.open(os.path.join(SOURCE, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--compressed", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    save = np.savez_compressed if args.compressed else np.savez
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(prefix + "-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        labels = read_idx(prefix + "-labels-idx1-ubyte.gz", 8).astype(np.int64)
        save(os.path.join(args.dir, split + ".npz"), image=images, label=labels)


if __name__ == "__main__":
    main()
