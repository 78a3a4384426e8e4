"""The numeric cases of kiln's elementwise math, reductions and matmul, and
of their gradient ops: each function fills a Case with the op's function and
the results torch computes of the same inputs."""
import torch
import torch.nn.functional as F

from kiln_case import Raw, grad, leaf


BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
          "minimum": torch.minimum, "maximum": torch.maximum, "pow": torch.pow}
UNARY = {"neg": torch.neg, "relu": torch.relu, "tanh": torch.tanh,
         "sigmoid": torch.sigmoid, "silu": F.silu, "exp": torch.exp, "log": torch.log,
         "sqrt": torch.sqrt, "abs": torch.abs}
# Functions whose attributes have torch's names.
ACTIVATIONS = {"leaky_relu": F.leaky_relu, "elu": F.elu, "softplus": F.softplus,
               "clamp": torch.clamp}
COMPARISONS = {"greater": torch.gt, "less": torch.lt, "greater_equal": torch.ge,
               "less_equal": torch.le, "equal": torch.eq, "not_equal": torch.ne}


def broadcast_pair(c):
    """Random shapes that broadcast against each other: one is a suffix of
    the other with some sizes replaced by 1."""
    shape = [c.size() for _ in range(c.size(1, 4))]
    suffix = shape[c.size(0, len(shape) - 1):]
    suffix = [1 if c.size(0, 2) == 0 else d for d in suffix]
    return (shape, suffix) if c.size(0, 1) else (suffix, shape)


def binary(c, op, lhs=None, rhs=None):
    if lhs is None:
        lhs, rhs = broadcast_pair(c)
    x, y = c.randn(*lhs), c.randn(*rhs)
    if op == "div":
        y = y.sign() * (y.abs() + 0.5)
    if op == "pow":
        x = x.abs() + 0.5
    c.single(op, [("lhs", x), ("rhs", y)], [("result", BINARY[op](x, y))])


def comparison(c, op, lhs=None, rhs=None):
    """Small integers, so that every outcome, ties included, occurs."""
    if lhs is None:
        lhs, rhs = broadcast_pair(c)
    x, y = c.ints(0, 3, *lhs).to(c.dtype), c.ints(0, 3, *rhs).to(c.dtype)
    c.single(op, [("lhs", x), ("rhs", y)],
             [("result", COMPARISONS[op](x, y).to(c.dtype))])


def where(c, cond, x, y):
    """Conditions of -1, 0 and 1: any nonzero value selects x."""
    condition = c.ints(-1, 2, *cond).to(c.dtype)
    a, b = c.randn(*x), c.randn(*y)
    c.single("where", [("cond", condition), ("x", a), ("y", b)],
             [("result", torch.where(condition != 0, a, b))])


def unary(c, op, shape, positive=False):
    x = c.randn(*shape)
    if positive:
        x = x.abs() + 0.1
    c.single(op, [("x", x)], [("y", UNARY[op](x))], short=True)


def activation(c, op, shape, **attrs):
    x = c.randn(*shape, scale=3)
    c.single(op, [("x", x)], [("y", ACTIVATIONS[op](x, **attrs))],
             {k: float(v) for k, v in attrs.items()}, short=True)


def gelu(c, shape, approximate):
    x = c.randn(*shape, scale=2)
    attrs = {"approximate": Raw(f"#kiln.gelu_approximation<{approximate}>")}
    c.single("gelu", [("x", x)], [("y", F.gelu(x, approximate=approximate))],
             attrs, short=True)


def softmax(c, op, shape, axis):
    x = c.randn(*shape, scale=3)
    fn = torch.softmax if op == "softmax" else torch.log_softmax
    c.single(op, [("x", x)], [("y", fn(x, axis))], {"axis": axis})


def reduction(c, op, shape, axes, keep_dims=False):
    x = c.randn(*shape)
    fn = {"reduce_sum": torch.sum, "reduce_mean": torch.mean,
          "reduce_max": torch.amax}[op]
    c.single(op, [("x", x)], [("y", fn(x, axes, keepdim=keep_dims))],
             {"axes": axes, "keep_dims": keep_dims})


def reduce_max_backward(c, shape, axes, keep_dims=False, ties=False):
    x = leaf(c.ints(0, 3, *shape).to(c.dtype) if ties else c.randn(*shape))
    y = torch.amax(x, axes, keepdim=keep_dims)
    g = c.randn(*y.shape)
    c.single("reduce_max_backward", [("grad", g), ("x", x.detach())],
             [("dx", grad(y, x, g)[0])], {"axes": axes, "keep_dims": keep_dims})


def argmax(c, shape, axis, keep_dims=False, ties=False):
    x = c.ints(0, 3, *shape).to(c.dtype) if ties else c.randn(*shape)
    c.single("argmax", [("x", x)],
             [("index", torch.argmax(x, axis, keepdim=keep_dims))],
             {"axis": axis, "keep_dims": keep_dims})


def count_equal(c, shape):
    a, b = c.ints(0, 3, *shape), c.ints(0, 3, *shape)
    c.single("count_equal", [("a", a), ("b", b)],
             [("count", (a == b).sum())])


def matmul(c, lhs, rhs, transpose_lhs=False, transpose_rhs=False):
    x, y = c.randn(*lhs), c.randn(*rhs)
    a = x.transpose(-1, -2) if transpose_lhs else x
    b = y.transpose(-1, -2) if transpose_rhs else y
    c.single("matmul", [("lhs", x), ("rhs", y)], [("result", a @ b)],
             {"transpose_lhs": transpose_lhs, "transpose_rhs": transpose_rhs})


def reduce_precision(c, shape):
    """Ties both ways, values just past them and random ones, of magnitudes
    where a wrong rounding (2^-8 relative) is far beyond the tolerance."""
    ties = torch.tensor([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 1 + 2**-8 + 2**-20,
                         1 - 2**-9, 3.0e38, 2.0 ** 100 * (1 + 2**-8)],
                        dtype=c.dtype)
    x = torch.cat([ties, c.randn(*shape).flatten() * 100]).reshape(-1, 1)
    c.single("reduce_precision", [("x", x)], [("y", x.bfloat16().to(c.dtype))],
             {"precision": Raw("bf16")}, short=True)


def unary_backward(c, op, shape, approximate=None):
    x, g = c.randn(*shape), c.randn(*shape)
    x = x * (c.uniform(0, 1, *shape) > 0.2)  # exact zeros: relu's kink
    xl = leaf(x)
    if op == "relu_backward":
        y, attrs = torch.relu(xl), None
    else:
        y = F.gelu(xl, approximate=approximate)
        attrs = {"approximate": Raw(f"#kiln.gelu_approximation<{approximate}>")}
    c.single(op, [("grad", g), ("x", x)], [("dx", grad(y, xl, g)[0])], attrs)


def softmax_backward(c, op, shape, axis):
    x, g = leaf(c.randn(*shape, scale=2)), c.randn(*shape)
    y = (torch.softmax if op == "softmax_backward" else torch.log_softmax)(x, axis)
    c.single(op, [("grad", g), ("y", y.detach())], [("dx", grad(y, x, g)[0])],
             {"axis": axis})
