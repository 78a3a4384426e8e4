"""Kiln's random numbers as the runtime draws them, a pure function of a
seed, a counter and an element's index (runtime/include/kiln/Random.h), and
the dropout masks that kiln.dropout draws from them."""
import math

import torch


MASK64 = (1 << 64) - 1


def mix64(x):
    """kiln_mix64 of runtime/include/kiln/Random.h."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def kiln_uniform(seed, counter, index):
    """kiln_uniform of runtime/include/kiln/Random.h."""
    h = mix64((seed & MASK64) ^ mix64((counter & MASK64) ^ mix64(index)))
    return (h >> 11) * (1.0 / 9007199254740992.0)


def dropout_mask(shape, p, seed, counter):
    """Where kiln.dropout keeps a tensor of `shape`: kiln_uniform of each
    element's row-major index."""
    count = math.prod(shape)
    return torch.tensor([kiln_uniform(seed, counter, i) >= p
                         for i in range(count)]).reshape(shape)
