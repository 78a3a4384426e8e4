#!/usr/bin/python3
"""Writes the two CSV tables of csv-torch.test, seeded, into a directory:

    make_tables.py DIR [--seed 0]

  DIR/classify-train.csv, DIR/classify-test.csv: 8 numeric features and a
    text label "color" (blue, green, red). The class is the argmax of three
    nonlinear scores of a hidden 3-d point plus Gumbel noise, so that even
    the best classifier errs on about one example in eight (88% is the
    most reachable): the tests' MLP reaches 86%, a linear model 65%, and a
    point of accuracy means something. The features are linear and
    nonlinear views of the hidden point, some noisy, each with its own scale
    and offset (from 1e-2 to 1e4), so that the model needs
    csv(standardize: true).
  DIR/regress-train.csv, DIR/regress-test.csv: 8 features of the same kind
    and a real target "y", a nonlinear function of the hidden point plus
    Gaussian noise of deviation 0.3 (a test MSE floor of 0.09; the targets'
    variance is 3.3, a linear model's MSE 2.4, the tests' MLP's 0.16).

4096 training and 1024 test rows each, multiples of the tests' batch of 64,
so that neither side pads or wraps a batch.
"""
import argparse
import os

import numpy as np

TRAIN, TEST = 4096, 1024
SCALES = np.array([1000.0, 0.01, 50.0, 1.0, 3000.0, 0.2, 7.0, 100.0])
OFFSETS = np.array([5000.0, -3.0, 200.0, 0.0, 10000.0, 1.0, -50.0, 20.0])
NAMES = ["mass", "ratio", "height", "angle", "price", "rate", "depth", "score"]


def views(u, rng):
    """Eight features of the hidden points u [N, 3], scaled and offset."""
    n = len(u)
    columns = [
        u[:, 0] + 0.5 * u[:, 1],
        u[:, 1] - 0.3 * u[:, 2],
        u[:, 2] + 0.2 * u[:, 0],
        np.tanh(u[:, 0] - u[:, 2]),
        u[:, 0] * u[:, 1] + 0.1 * rng.normal(size=n),
        u[:, 1] + 0.5 * rng.normal(size=n),
        np.sin(u[:, 2]) + 0.3 * rng.normal(size=n),
        rng.normal(size=n),  # a distractor
    ]
    return np.stack(columns, axis=1) * SCALES + OFFSETS


def write(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows:
            f.write(",".join(row) + "\n")


def classify(rng, n):
    u = rng.normal(size=(n, 3))
    scores = np.stack([
        2.0 * u[:, 0] * u[:, 1],
        1.5 * (u[:, 1] ** 2 - 1) + u[:, 2],
        2.0 * np.sin(2 * u[:, 0]) - u[:, 2],
    ], axis=1)
    classes = np.argmax(scores + 0.35 * rng.gumbel(size=scores.shape), axis=1)
    names = np.array(["red", "green", "blue"])[classes]
    x = views(u, rng)
    return [[f"{v:.8g}" for v in row] + [name] for row, name in zip(x, names)]


def regress(rng, n):
    u = rng.normal(size=(n, 3))
    y = (2.0 * np.sin(1.5 * u[:, 0]) + u[:, 1] * u[:, 2] +
         0.5 * u[:, 2] ** 2 + 0.3 * rng.normal(size=n))
    x = views(u, rng)
    return [[f"{v:.8g}" for v in row] + [f"{t:.8g}"] for row, t in zip(x, y)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for task, make, label in (("classify", classify, "color"),
                              ("regress", regress, "y")):
        for split, n in (("train", TRAIN), ("test", TEST)):
            write(os.path.join(args.dir, f"{task}-{split}.csv"),
                  NAMES + [label], make(rng, n))


if __name__ == "__main__":
    main()
