"""Writes Fashion-MNIST as a folder of PNG files per class, the layout of
torchvision's ImageFolder, for examples/cnn_images.kiln:

    python3 examples/data/fashion_to_pngs.py ROOT [--per-class N]

reads the gzip IDX files of Debian's dataset-fashion-mnist and writes
ROOT/train/CLASS/NNNNN.png (60000 images) and ROOT/test/CLASS/NNNNN.png
(10000), 8-bit greyscale 28 x 28 PNGs written with zlib alone (no PIL).
NNNNN is the image's index in its IDX file, so the sorted names keep the
files' order. The class folders are named "0-t-shirt-top" to
"9-ankle-boot": sorted, as ImageFolder sorts them, they keep Fashion-MNIST's
label ids. --per-class N writes only the first N images of each class of
each split (in the files' order).
"""
import argparse
import gzip
import os
import struct
import zlib

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt-top", "trouser", "pullover", "dress", "coat", "sandal",
           "shirt", "sneaker", "bag", "ankle-boot"]
SPLITS = (("train", "train"), ("test", "t10k"))


def read_idx(path, magic):
    """The bytes of a gzip IDX file after its header, reshaped to its dims."""
    with gzip.open(path) as f:
        raw = f.read()
    found, = struct.unpack(">I", raw[:4])
    if found != magic:
        raise SystemExit(f"{path}: byte 0: magic {found:#x}, expected {magic:#x}")
    rank = magic & 0xff
    dims = struct.unpack(f">{rank}I", raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def png(pixels):
    """An 8-bit greyscale PNG of the uint8 array `pixels` [height, width]."""
    height, width = pixels.shape

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))

    # Each row is preceded by its filter type, 0 (none).
    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the folder to write train/ and test/ into")
    parser.add_argument("--per-class", type=int, default=0, metavar="N",
                        help="the first N images of each class (default: all)")
    parser.add_argument("--source", default=SOURCE,
                        help="the folder of the four .gz files (%(default)s)")
    args = parser.parse_args()
    for split, prefix in SPLITS:
        images = read_idx(os.path.join(args.source, prefix + "-images-idx3-ubyte.gz"),
                          0x803)
        labels = read_idx(os.path.join(args.source, prefix + "-labels-idx1-ubyte.gz"),
                          0x801)
        if len(images) != len(labels) or labels.max() >= len(CLASSES):
            raise SystemExit(f"{args.source}: {split}: {len(images)} images, "
                             f"{len(labels)} labels up to {labels.max()}")
        for label, name in enumerate(CLASSES):
            os.makedirs(os.path.join(args.root, split, f"{label}-{name}"), exist_ok=True)
        written = [0] * len(CLASSES)
        for index, (pixels, label) in enumerate(zip(images, labels)):
            if args.per_class and written[label] >= args.per_class:
                continue
            written[label] += 1
            path = os.path.join(args.root, split, f"{label}-{CLASSES[label]}",
                                f"{index:05d}.png")
            with open(path, "wb") as f:
                f.write(png(pixels))


if __name__ == "__main__":
    main()
