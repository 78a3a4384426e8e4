"""The numeric cases of kiln's data movement: constants, reshapes,
transposes, concatenation, slices, broadcasts, embeddings, one-hot and
sinusoidal position tables; each function fills a Case with the op's
function and the results torch computes of the same inputs."""
import math

import torch
import torch.nn.functional as F

from kiln_case import Raw, format_float, grad, leaf


def dense(tensor):
    """The elements of `tensor` as the literal of a dense attribute."""
    if tensor.dim() == 0:
        value = tensor.item()
        return str(value) if isinstance(value, int) else format_float(value)
    return "[" + ", ".join(dense(t) for t in tensor) + "]"


def constant(c, shape):
    values, ids = c.randn(*shape), c.ints(-5, 5, 3)
    splat = torch.full_like(values, 0.25)
    c.check("floats", c.constant(dense(values), values), values)
    c.check("ids", c.constant(dense(ids), ids), ids)
    c.check("splat", c.constant("0.25", splat), splat)


def reshape(c, shape, target, integers=False):
    x = c.ints(0, 9, *shape) if integers else c.randn(*shape)
    c.single("reshape", [("x", x)], [("y", x.reshape(target))],
             {"shape": target})


def flatten(c, shape, start, end):
    x = c.randn(*shape)
    c.single("flatten", [("x", x)], [("y", torch.flatten(x, start, end))],
             {"start_dim": start, "end_dim": end})


def transpose(c, shape, permutation):
    x = c.randn(*shape)
    c.single("transpose", [("x", x)], [("y", x.permute(permutation))],
             {"permutation": permutation})


def concat(c, shapes, axis, integers=False):
    xs = [c.ints(0, 9, *s) if integers else c.randn(*s) for s in shapes]
    c.single("concat", [(f"x{i}", x) for i, x in enumerate(xs)],
             [("y", torch.cat(xs, axis))], {"axis": axis})


def window(offsets, sizes, strides):
    return tuple(slice(o, o + (n - 1) * s + 1, s)
                 for o, n, s in zip(offsets, sizes, strides))


def slice_(c, shape, offsets, sizes, strides, integers=False):
    x = c.ints(0, 9, *shape) if integers else c.randn(*shape)
    c.single("slice", [("x", x)], [("y", x[window(offsets, sizes, strides)])],
             {"offsets": offsets, "sizes": sizes, "strides": strides})


def scatter_slice(c, shape, offsets, sizes, strides):
    x, g = leaf(c.randn(*shape)), c.randn(*sizes)
    expected = grad(x[window(offsets, sizes, strides)], x, g)[0]
    c.single("scatter_slice", [("source", g)], [("y", expected)],
             {"offsets": offsets, "strides": strides, "shape": shape})


def broadcast_to(c, shape, target):
    x = c.randn(*shape)
    c.single("broadcast_to", [("x", x)], [("y", torch.broadcast_to(x, target))],
             {"shape": target})


def embedding(c, ids_shape, rows, dim):
    ids, table = c.ints(0, rows, *ids_shape), c.randn(rows, dim)
    c.single("embedding", [("ids", ids), ("table", table)],
             [("y", F.embedding(ids, table))])


def embedding_backward(c, ids_shape, rows, dim):
    ids = c.ints(0, max(rows // 2, 1), *ids_shape)  # ids repeat
    table = leaf(c.randn(rows, dim))
    g = c.randn(*ids_shape, dim)
    c.single("embedding_backward", [("grad", g), ("ids", ids)],
             [("dtable", grad(F.embedding(ids, table), table, g)[0])],
             {"num": rows})


def one_hot(c, ids_shape, classes, f64):
    ids = c.ints(0, classes, *ids_shape)
    dtype = torch.float64 if f64 else torch.float32
    attrs = {"num_classes": classes}
    if f64:
        attrs["element_type"] = Raw("f64")
    c.single("one_hot", [("ids", ids)],
             [("y", F.one_hot(ids, classes).to(dtype))], attrs)


def sinusoidal_positions(c, length, dim):
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2, dtype=torch.float64)
                     * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate)
    c.single("sinusoidal_positions", [], [("table", table)],
             {"length": length, "dim": dim, "element_type": Raw("f64")},
             short=True)
