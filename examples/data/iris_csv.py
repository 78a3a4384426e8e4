"""Writes Fisher's Iris data as two CSV tables, for examples/iris.kiln.

Reads the 150 flowers of Debian's python3-vega-datasets (vega_datasets'
iris.json) and writes DIR/train.csv (120 rows) and DIR/test.csv (30 rows,
10 of each species), split and ordered by a seeded shuffle. The columns are
sepal_length, sepal_width, petal_length, petal_width (cm) and species, the
text label (setosa, versicolor, virginica).

    python3 examples/data/iris_csv.py DIR [--seed 0]
"""
import argparse
import csv
import json
import os

import numpy as np

SOURCE = "/usr/lib/python3/dist-packages/vega_datasets/_data/iris.json"
COLUMNS = [("sepal_length", "sepalLength"), ("sepal_width", "sepalWidth"),
           ("petal_length", "petalLength"), ("petal_width", "petalWidth"),
           ("species", "species")]
TEST_PER_SPECIES = 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with open(SOURCE) as f:
        flowers = json.load(f)
    rng = np.random.default_rng(args.seed)
    train, test = [], []
    for species in sorted({flower["species"] for flower in flowers}):
        rows = [flower for flower in flowers if flower["species"] == species]
        order = rng.permutation(len(rows))
        test += [rows[i] for i in order[:TEST_PER_SPECIES]]
        train += [rows[i] for i in order[TEST_PER_SPECIES:]]
    os.makedirs(args.dir, exist_ok=True)
    for name, rows in (("train.csv", train), ("test.csv", test)):
        with open(os.path.join(args.dir, name), "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([column for column, _ in COLUMNS])
            for i in rng.permutation(len(rows)):
                writer.writerow([rows[i][key] for _, key in COLUMNS])


if __name__ == "__main__":
    main()
