"""Writes train.npz (512 sequences) and test.npz (100) for tagger.kiln: six
token ids in [0, 8) per example, each tagged with its id mod 3."""
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(0)
for count, name in ((512, "train"), (100, "test")):
    x = rng.integers(0, 8, size=(count, 6)).astype(np.int64)
    np.savez(f"{out}/{name}.npz", x=x, y=x % 3)
