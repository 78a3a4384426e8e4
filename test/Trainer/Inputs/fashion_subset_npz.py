"""Writes the Fashion-MNIST examples that `fashion_to_pngs.py --per-class N`
writes as PNGs, straight from the IDX files, as DIR/train.npz and
DIR/test.npz (`image` uint8 [10 N, 28, 28], `label` int64 [10 N]), in the
order the images(...) source reads the PNG folders: by class, then by index
in the IDX file. images.test trains on both and compares the losses.

    python3 fashion_subset_npz.py DIR N
"""
import gzip
import os
import sys

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"


def read(name, offset):
    with gzip.open(os.path.join(SOURCE, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    out, per_class = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read(prefix + "-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
        labels = read(prefix + "-labels-idx1-ubyte.gz", 8).astype(np.int64)
        rows = np.concatenate([np.flatnonzero(labels == c)[:per_class]
                               for c in range(10)])
        np.savez(os.path.join(out, split + ".npz"), image=images[rows],
                 label=labels[rows])


if __name__ == "__main__":
    main()
