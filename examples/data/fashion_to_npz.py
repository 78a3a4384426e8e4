#!/usr/bin/python3
"""Writes Fashion-MNIST as NumPy archives, the data of examples/cnn_npz.kiln:

    /usr/bin/python3 fashion_to_npz.py OUT_DIR [--source DIR] [--compressed]

reads the four gzip IDX files of Debian's dataset-fashion-mnist (or of
--source) and writes OUT_DIR/train.npz (60000 examples) and OUT_DIR/test.npz
(10000), each with the arrays `image` (uint8 [N, 28, 28], the pixels as the
files hold them) and `label` (int64 [N]), in the files' order. numpy.savez
writes stored members; --compressed uses numpy.savez_compressed (deflated
members) instead. Needs numpy only.
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np

FASHION_DIR = "/usr/share/datasets/fashion-mnist"
SPLITS = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def read_idx(path):
    """The array of a gzip IDX file of unsigned bytes (magic 0x0801 or 0x0803)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: byte 0: not an IDX file of unsigned bytes")
    rank = raw[3]
    dims = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} values for the shape {list(dims)}")
    return data.reshape(dims)


def load(source, split):
    """(images uint8 [N, 28, 28], labels int64 [N]) of one split."""
    images_file, labels_file = SPLITS[split]
    images = read_idx(os.path.join(source, images_file))
    labels = read_idx(os.path.join(source, labels_file)).astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{source}: {len(images)} {split} images, {len(labels)} labels")
    return images, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the directory to write train.npz and test.npz into")
    parser.add_argument("--source", default=FASHION_DIR,
                        help="the directory of the gzip IDX files (%(default)s)")
    parser.add_argument("--compressed", action="store_true",
                        help="deflated members (numpy.savez_compressed)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    save = np.savez_compressed if args.compressed else np.savez
    for split in SPLITS:
        images, labels = load(args.source, split)
        path = os.path.join(args.out, f"{split}.npz")
        save(path, image=images, label=labels)
        print(f"{path}: image uint8 {list(images.shape)}, label int64 "
              f"{list(labels.shape)}", file=sys.stderr)


if __name__ == "__main__":
    main()
