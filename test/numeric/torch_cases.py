"""The numeric test cases of every kiln op and what PyTorch says of them.

One function per op (or per family of ops, taking the op's name as its second
parameter) builds the op's function in a Case and computes the expected
results: forward ops with torch and torch.nn.functional, gradient ops with
torch.autograd.grad of the forward, optimizer ops with one torch.optim step
from the same state. CASES and F32_CASES, at the end, list every case.
"""
import math
import warnings

import torch
import torch.nn.functional as F

from kiln_case import Raw, format_float, grad, leaf, tensor_type

# ----------------------------------------------------------------------------
# Elementwise math, reductions, matmul
# ----------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------
# Data movement
# ----------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------
# Layers and losses
# ----------------------------------------------------------------------------

def conv2d(c, input, out, kernel, stride=(1, 1), padding=(0, 0),
           dilation=(1, 1), bias=True):
    x, w = c.randn(*input), c.randn(out, input[1], *kernel, scale=0.5)
    operands = [("x", x), ("w", w)]
    b = c.randn(out) if bias else None
    if bias:
        operands.append(("b", b))
    c.single("conv2d", operands,
             [("y", F.conv2d(x, w, b, stride, padding, dilation))],
             {"stride": stride, "padding": padding, "dilation": dilation})


def conv2d_backward(c, op, input, out, kernel, stride=(1, 1), padding=(0, 0),
                    dilation=(1, 1)):
    x, w = leaf(c.randn(*input)), leaf(c.randn(out, input[1], *kernel))
    y = F.conv2d(x, w, None, stride, padding, dilation)
    g = c.randn(*y.shape)
    dx, dw = grad(y, (x, w), g)
    attrs = {"stride": stride, "padding": padding, "dilation": dilation}
    if op == "conv2d_backward_input":
        c.single(op, [("grad", g), ("w", w.detach())], [("dx", dx)],
                 {"input_shape": input, **attrs})
    else:
        c.single(op, [("grad", g), ("x", x.detach())], [("dw", dw)],
                 {"kernel": kernel, **attrs})


def pool2d(c, op, input, kernel, stride=None, padding=(0, 0),
           count_include_pad=True, ties=False):
    """max_pool2d, avg_pool2d and their gradients; `ties` draws small integers
    so that windows hold several maxima."""
    x = c.ints(0, 3, *input).to(c.dtype) if ties else c.randn(*input)
    xl = leaf(x)
    attrs = {"kernel": kernel, "padding": padding}
    if stride:
        attrs["stride"] = stride
    if op.startswith("max"):
        y = F.max_pool2d(xl, kernel, stride or kernel, padding)
    else:
        y = F.avg_pool2d(xl, kernel, stride or kernel, padding,
                         count_include_pad=count_include_pad)
        attrs["count_include_pad"] = count_include_pad
    if not op.endswith("_backward"):
        c.single(op, [("x", x)], [("y", y)], attrs)
        return
    g = c.randn(*y.shape)
    dx = grad(y, xl, g)[0]
    if op.startswith("max"):
        c.single(op, [("grad", g), ("x", x)], [("dx", dx)], attrs)
    else:
        c.single(op, [("grad", g)], [("dx", dx)], {"input_shape": input, **attrs})


def linear(c, input, out, bias=True):
    x, w = c.randn(*input), c.randn(out, input[-1])
    b = c.randn(out) if bias else None
    operands = [("x", x), ("w", w)] + ([("b", b)] if bias else [])
    c.single("linear", operands, [("y", F.linear(x, w, b))])


def layer_norm(c, shape, axis, weight=True, bias=True, epsilon=1e-5):
    x = c.randn(*shape, scale=2) + 1
    normalized = shape[axis:]
    w = c.randn(*normalized) if weight else None
    b = c.randn(*normalized) if bias else None
    operands = [("x", x)] + ([("w", w)] if weight else []) + \
        ([("b", b)] if bias else [])
    c.single("layer_norm", operands,
             [("y", F.layer_norm(x, normalized, w, b, epsilon))],
             {"axis": axis, "epsilon": epsilon})


def layer_norm_backward(c, shape, axis, weight=True, epsilon=1e-5):
    x = leaf(c.randn(*shape, scale=2) + 1)
    normalized = shape[axis:]
    w = leaf(c.randn(*normalized)) if weight else None
    # The op returns the bias's gradient whenever there is a weight.
    b = leaf(c.randn(*normalized)) if weight else None
    g = c.randn(*shape)
    grads = grad(F.layer_norm(x, normalized, w, b, epsilon),
                 [x] + ([w, b] if weight else []), g)
    operands = [("grad", g), ("x", x.detach())] + \
        ([("w", w.detach())] if weight else [])
    names = ["dx", "dw", "db"][:len(grads)]
    c.single("layer_norm_backward", operands, list(zip(names, grads)),
             {"axis": axis, "epsilon": epsilon})


def batch_norm(c, shape, affine=True, training=True, momentum=0.1,
               epsilon=1e-5):
    channels = shape[1]
    x = c.randn(*shape, scale=2) + 1
    mean, var = c.randn(channels), c.uniform(0.5, 2, channels)
    count = torch.tensor(3)
    w = c.randn(channels) if affine else None
    b = c.randn(channels) if affine else None
    # torch updates the running statistics in place.
    new_mean, new_var = mean.clone(), var.clone()
    y = F.batch_norm(x, new_mean, new_var, w, b, training, momentum, epsilon)
    operands = [("x", x), ("mean", mean), ("var", var), ("count", count)] + \
        ([("w", w), ("b", b)] if affine else [])
    c.single("batch_norm", operands,
             [("y", y), ("running_mean", new_mean), ("running_var", new_var),
              ("num_batches_tracked", count + 1 if training else count)],
             {"epsilon": epsilon, "momentum": momentum, "training": training})


def batch_norm_backward(c, shape, weight=True, epsilon=1e-5):
    channels = shape[1]
    x = leaf(c.randn(*shape, scale=2) + 1)
    w = leaf(c.randn(channels)) if weight else None
    b = leaf(c.randn(channels)) if weight else None
    g = c.randn(*shape)
    y = F.batch_norm(x, None, None, w, b, True, 0.1, epsilon)
    grads = grad(y, [x] + ([w, b] if weight else []), g)
    operands = [("grad", g), ("x", x.detach())] + \
        ([("w", w.detach())] if weight else [])
    names = ["dx", "dw", "db"][:len(grads)]
    c.single("batch_norm_backward", operands, list(zip(names, grads)),
             {"epsilon": epsilon})


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


def dropout(c, shape, p, seed, counter):
    # PyTorch's dropout draws from its own generator; the mask is the
    # runtime's, computed here from its definition.
    x = c.randn(*shape)
    keep = torch.tensor([kiln_uniform(seed, counter, i) >= p
                         for i in range(x.numel())]).reshape(shape)
    c.single("dropout", [("x", x), ("counter", torch.tensor(counter))],
             [("y", torch.where(keep, x / (1 - p), torch.zeros_like(x)))],
             {"p": float(p), "seed": seed})


def dropout_mask(shape, p, seed, counter):
    """Where kiln.dropout keeps a tensor of `shape`: kiln_uniform of each
    element's row-major index."""
    count = math.prod(shape)
    return torch.tensor([kiln_uniform(seed, counter, i) >= p
                         for i in range(count)]).reshape(shape)


def attention_reference(q, k, v, causal, scale, dropout=0.0, seed=0, counter=0):
    """softmax(q k^T * scale) v, where causal masks s > l as
    scaled_dot_product_attention(is_causal=True) does; dropout drops the
    weights with kiln.dropout's mask, as scaled_dot_product_attention's
    dropout_p does with PyTorch's own."""
    scores = q @ k.transpose(-1, -2) * scale
    if causal:
        mask = torch.ones(scores.shape[-2:], dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.softmax(scores, -1)
    if dropout:
        keep = dropout_mask(weights.shape, dropout, seed, counter)
        weights = torch.where(keep, weights / (1 - dropout), torch.zeros_like(weights))
    return weights @ v


def attention(c, op, batch, length, sources, embed, value_embed, causal=False,
              scale=None, dropout=0.0, seed=0, counter=0):
    q = leaf(c.randn(*batch, length, embed))
    k = leaf(c.randn(*batch, sources, embed))
    v = leaf(c.randn(*batch, sources, value_embed))
    attrs = {"causal": causal}
    if scale is not None:
        attrs["scale"] = scale
    o = attention_reference(q, k, v, causal, scale or 1 / math.sqrt(embed),
                            dropout, seed, counter)
    qkv = [("q", q.detach()), ("k", k.detach()), ("v", v.detach())]
    if dropout:
        attrs.update(dropout=float(dropout), seed=seed)
        qkv.append(("counter", torch.tensor(counter)))
    if op == "attention":
        c.single(op, qkv, [("o", o)], attrs)
        return
    g = c.randn(*o.shape)
    dq, dk, dv = grad(o, (q, k, v), g)
    c.single(op, [("grad", g)] + qkv, [("dq", dq), ("dk", dk), ("dv", dv)],
             attrs)


def cross_entropy(c, op, rows, classes, ignored=(), ignore_index=None,
                  label_smoothing=None):
    """`ignored`: the rows whose label is set to ignore_index (PyTorch's
    default -100 when None); the attributes are written only when given."""
    logits, labels = leaf(c.randn(rows, classes, scale=3)), c.ints(0, classes, rows)
    attrs = {}
    if ignore_index is not None:
        attrs["ignore_index"] = ignore_index
    if label_smoothing is not None:
        attrs["label_smoothing"] = label_smoothing
    for row in ignored:
        labels[row] = -100 if ignore_index is None else ignore_index
    loss = F.cross_entropy(logits, labels,
                           ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing or 0.0)
    if op == "cross_entropy":
        c.single(op, [("logits", logits.detach()), ("labels", labels)],
                 [("loss", loss)], attrs)
        return
    g = c.randn()
    c.single(op, [("grad", g), ("logits", logits.detach()), ("labels", labels)],
             [("dlogits", grad(loss, logits, g)[0])], attrs)


# The recurrent layers: gates stacked in their weights, their torch.nn
# module, and the final states that follow their output sequence.
RECURRENT = {"lstm": (4, torch.nn.LSTM, ["final_hidden", "final_cell"]),
             "gru": (3, torch.nn.GRU, ["final_hidden"])}


def recurrent_weights(c, gates, input_size, hidden, layers):
    """(name, tensor) pairs in kiln.lstm's or kiln.gru's operand order, named
    as PyTorch's."""
    weights = []
    for layer in range(layers):
        inputs = input_size if layer == 0 else hidden
        weights += [(f"weight_ih_l{layer}", c.randn(gates * hidden, inputs, scale=0.5)),
                    (f"weight_hh_l{layer}", c.randn(gates * hidden, hidden, scale=0.5)),
                    (f"bias_ih_l{layer}", c.randn(gates * hidden, scale=0.5)),
                    (f"bias_hh_l{layer}", c.randn(gates * hidden, scale=0.5))]
    return weights


def recurrent(c, op, batch, steps, input_size, hidden, layers):
    gates, make, state_names = RECURRENT[op.removesuffix("_backward")]
    x = leaf(c.randn(batch, steps, input_size))
    weights = recurrent_weights(c, gates, input_size, hidden, layers)
    module = make(input_size, hidden, layers, batch_first=True, dtype=c.dtype)
    with torch.no_grad():
        for name, tensor in weights:
            getattr(module, name).copy_(tensor)
    out, states = module(x)
    results = [out] + list(states if isinstance(states, tuple) else (states,))
    names = ["output"] + state_names
    attrs = {"hidden_size": hidden, "num_layers": layers}
    if not op.endswith("_backward"):
        c.single(op, [("x", x.detach())] + weights, list(zip(names, results)),
                 attrs)
        return
    seeds = [c.randn(*t.shape) for t in results]
    grads = grad(results, [x] + [getattr(module, n) for n, _ in weights], seeds)
    forward = [("x", x.detach())] + [(n, t.detach()) for n, t in zip(names, results)]
    seeded = [(n + "_grad", seed) for n, seed in zip(names, seeds)]
    expected = [("dx", grads[0])] + [("d_" + n, g)
                                     for (n, _), g in zip(weights, grads[1:])]
    c.single(op, forward + seeded + weights, expected, attrs)


# ----------------------------------------------------------------------------
# Optimizers and schedules
# ----------------------------------------------------------------------------

def scalar(c, value):
    return torch.tensor(value, dtype=c.dtype)


def sgd(c, shape, step, lr=0.1, momentum=0.0, dampening=0.0,
        weight_decay=0.0, nesterov=False):
    p = torch.nn.Parameter(c.randn(*shape))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening,
                          weight_decay=weight_decay, nesterov=nesterov)
    for _ in range(step - 1):
        p.grad = c.randn(*shape)
        opt.step()
    param = p.detach().clone()
    buffer = opt.state[p].get("momentum_buffer")
    # Before the first step PyTorch has no buffer; the op must ignore its own.
    buffer = c.randn(*shape) if buffer is None else buffer.clone()
    g = c.randn(*shape)
    p.grad = g.clone()
    opt.step()
    operands = [("param", param), ("grad", g), ("lr", scalar(c, lr)),
                ("step", torch.tensor(step))]
    expected = [("new_param", p.detach())]
    if momentum:
        operands.append(("momentum_buffer", buffer))
        expected.append(("new_momentum_buffer", opt.state[p]["momentum_buffer"]))
    c.single("sgd", operands, expected,
             {"momentum": momentum, "dampening": dampening,
              "weight_decay": weight_decay, "nesterov": nesterov})


def adam(c, op, shape, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
         weight_decay=0.0):
    p = torch.nn.Parameter(c.randn(*shape))
    optimizer = torch.optim.Adam if op == "adam" else torch.optim.AdamW
    opt = optimizer([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for _ in range(step - 1):
        p.grad = c.randn(*shape)
        opt.step()
    param = p.detach().clone()
    state = opt.state[p]
    moments = [state[k].clone() if state else torch.zeros_like(param)
               for k in ("exp_avg", "exp_avg_sq")]
    g = c.randn(*shape)
    p.grad = g.clone()
    opt.step()
    c.single(op, [("param", param), ("grad", g), ("exp_avg", moments[0]),
                  ("exp_avg_sq", moments[1]), ("lr", scalar(c, lr)),
                  ("step", torch.tensor(step))],
             [("new_param", p.detach()), ("new_exp_avg", state["exp_avg"]),
              ("new_exp_avg_sq", state["exp_avg_sq"])],
             {"beta1": betas[0], "beta2": betas[1], "epsilon": eps,
              "weight_decay": weight_decay})


def scheduled_lr(schedule, step, total, lr, warmup, every, gamma, min_lr):
    """The rate of update `step` from torch.optim.lr_scheduler. PyTorch has no
    linear warm-up that multiplies by (k + 1) / warmup, so LambdaLR states it."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)

    def warm(k):
        return (k + 1) / warmup if k < warmup else 1.0

    lr_scheduler = torch.optim.lr_scheduler
    if schedule == "constant":
        scheduler = lr_scheduler.LambdaLR(opt, warm)
    elif schedule == "step" and warmup:
        scheduler = lr_scheduler.LambdaLR(opt, lambda k: warm(k) * gamma ** (k // every))
    elif schedule == "step":
        scheduler = lr_scheduler.StepLR(opt, every, gamma)
    elif warmup:
        scheduler = lr_scheduler.SequentialLR(
            opt, [lr_scheduler.LambdaLR(opt, warm),
                  lr_scheduler.CosineAnnealingLR(opt, total - warmup, min_lr)],
            [warmup])
    else:
        scheduler = lr_scheduler.CosineAnnealingLR(opt, total, min_lr)
    with warnings.catch_warnings():
        # SequentialLR steps its schedulers with an epoch, which PyTorch
        # deprecates for callers.
        warnings.filterwarnings("ignore", "The epoch parameter")
        for _ in range(step - 1):
            opt.step()
            scheduler.step()
    return opt.param_groups[0]["lr"]


def learning_rate(c, schedule, step, total=10, lr=0.1, warmup=0, every=1,
                  gamma=0.1, min_lr=0.0):
    expected = scheduled_lr(schedule, step, total, lr, warmup, every, gamma, min_lr)
    c.single("learning_rate",
             [("step", torch.tensor(step)), ("total_steps", torch.tensor(total))],
             [("lr", torch.tensor(expected, dtype=torch.float32))],
             {"schedule": schedule, "lr": lr, "warmup": warmup, "every": every,
              "gamma": gamma, "min_lr": min_lr})


def clip_grad_norm(c, shapes, max_norm):
    params = [torch.nn.Parameter(torch.zeros(s, dtype=c.dtype)) for s in shapes]
    grads = [c.randn(*s) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    c.single("clip_grad_norm", [(f"g{i}", g) for i, g in enumerate(grads)],
             [(f"clipped{i}", p.grad) for i, p in enumerate(params)],
             {"max_norm": float(max_norm)})


def accumulate(c, shape):
    """A gradient added to .grad, as autograd's backward() adds it."""
    p = torch.nn.Parameter(torch.zeros(shape, dtype=c.dtype))
    s, t = c.randn(*shape), c.randn(*shape)
    p.grad = s.clone()
    (p * t).sum().backward()
    c.single("accumulate", [("sum", s), ("term", t)], [("result", p.grad)],
             short=True)


# ----------------------------------------------------------------------------
# The cases: (op, function, keyword arguments of each case). A function that
# serves several ops takes the op's name as its second parameter.
# ----------------------------------------------------------------------------

def binary_cases():
    return [dict(lhs=(2, 3), rhs=(3,)), dict(lhs=(4, 1, 3), rhs=(2, 1)),
            dict(lhs=(), rhs=(2, 2)), dict(lhs=(3, 1), rhs=(1, 4)),
            dict(lhs=(2, 0), rhs=(1,)), dict(), dict(), dict()]


def unary_cases(positive=False):
    return [dict(shape=s, positive=positive)
            for s in [(2, 3), (), (4, 1, 2), (0, 3)]]


ATTENTION_CASES = [
    dict(batch=(2,), length=3, sources=4, embed=5, value_embed=2),
    dict(batch=(2, 2), length=4, sources=4, embed=3, value_embed=3, causal=True),
    dict(batch=(1,), length=3, sources=5, embed=2, value_embed=4, causal=True),
    dict(batch=(), length=2, sources=3, embed=4, value_embed=2, scale=0.3),
    dict(batch=(2, 2), length=4, sources=5, embed=3, value_embed=2, causal=True,
         dropout=0.25, seed=7, counter=3),
    dict(batch=(3,), length=3, sources=3, embed=4, value_embed=3, dropout=0.5,
         seed=2, counter=11),
]
CONV_CASES = [
    dict(input=(2, 3, 5, 5), out=4, kernel=(3, 3)),
    dict(input=(1, 2, 6, 5), out=3, kernel=(2, 3), stride=(2, 1),
         padding=(1, 2), dilation=(2, 1)),
    dict(input=(2, 2, 4, 4), out=2, kernel=(1, 1), stride=(2, 2)),
]
POOL_CASES = [
    dict(input=(2, 3, 4, 4), kernel=(2, 2)),
    dict(input=(1, 2, 5, 6), kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
    dict(input=(1, 1, 4, 7), kernel=(2, 3), stride=(1, 2), padding=(1, 1)),
    dict(input=(1, 2, 4, 4), kernel=(2, 2), stride=(1, 1), ties=True),
]
LSTM_CASES = [
    dict(batch=2, steps=3, input_size=4, hidden=3, layers=1),
    dict(batch=2, steps=4, input_size=3, hidden=2, layers=2),
    dict(batch=1, steps=2, input_size=2, hidden=2, layers=3),
]
GRU_CASES = [
    dict(batch=2, steps=3, input_size=4, hidden=3, layers=1),
    dict(batch=3, steps=4, input_size=3, hidden=2, layers=2),
    dict(batch=1, steps=1, input_size=2, hidden=4, layers=3),
]
SLICE_CASES = [
    dict(shape=(5, 6), offsets=(1, 0), sizes=(2, 3), strides=(2, 2)),
    dict(shape=(3, 4, 5), offsets=(0, 1, 2), sizes=(3, 1, 2), strides=(1, 2, 2)),
]
SCHEDULES = [
    dict(schedule="constant", step=1), dict(schedule="constant", step=3, warmup=4),
    dict(schedule="constant", step=6, warmup=4),
    dict(schedule="step", step=1, every=3, gamma=0.5),
    dict(schedule="step", step=10, every=3, gamma=0.5),
    dict(schedule="step", step=2, warmup=2, every=3, gamma=0.5),
    dict(schedule="step", step=8, warmup=2, every=3, gamma=0.5),
    dict(schedule="cosine", step=1, min_lr=0.01),
    dict(schedule="cosine", step=5, min_lr=0.01),
    dict(schedule="cosine", step=10, min_lr=0.01),
    dict(schedule="cosine", step=2, warmup=3), dict(schedule="cosine", step=4, warmup=3),
    dict(schedule="cosine", step=9, total=12, lr=1.0, warmup=3, min_lr=0.1),
]

CASES = [
    *[(op, binary, binary_cases()) for op in BINARY],
    *[(op, comparison, binary_cases()) for op in COMPARISONS],
    ("where", where, [dict(cond=(2, 3), x=(2, 3), y=(2, 3)),
                      dict(cond=(3, 1), x=(4,), y=()),
                      dict(cond=(), x=(2, 1), y=(1, 3)),
                      dict(cond=(2, 1, 4), x=(3, 1), y=(4,))]),
    *[(op, unary, unary_cases()) for op in ("neg", "relu", "tanh", "sigmoid", "silu", "exp",
                                            "abs")],
    ("leaky_relu", activation, [dict(shape=(3, 4)), dict(shape=(5,), negative_slope=0.2)]),
    ("elu", activation, [dict(shape=(3, 4)), dict(shape=(2, 3), alpha=0.5)]),
    ("softplus", activation, [dict(shape=(3, 4)), dict(shape=(4, 5), beta=2, threshold=3)]),
    ("clamp", activation, [dict(shape=(3, 4), min=-1), dict(shape=(3, 4), max=0.5),
                           dict(shape=(2, 5), min=-0.5, max=1.5)]),
    *[(op, unary, unary_cases(positive=True)) for op in ("log", "sqrt")],
    ("gelu", gelu, [dict(shape=(3, 4), approximate=a) for a in ("none", "tanh")]),
    *[(op, softmax, [dict(shape=(2, 3, 4), axis=-1), dict(shape=(2, 3, 4), axis=1),
                     dict(shape=(2, 3, 4), axis=0), dict(shape=(5,), axis=0)])
      for op in ("softmax", "log_softmax")],
    *[(op, reduction, [dict(shape=(2, 3, 4), axes=[1]),
                       dict(shape=(2, 3, 4), axes=[-1, 0], keep_dims=True),
                       dict(shape=(2, 3, 4), axes=[0, 1, 2]),
                       dict(shape=(3,), axes=[0], keep_dims=True)])
      for op in ("reduce_sum", "reduce_mean", "reduce_max")],
    ("reduce_max_backward", reduce_max_backward,
     [dict(shape=(2, 3, 4), axes=[1]), dict(shape=(3, 4), axes=[-1], keep_dims=True),
      dict(shape=(4, 5), axes=[0, 1], ties=True),
      dict(shape=(2, 3, 4), axes=[2], keep_dims=True, ties=True)]),
    ("argmax", argmax, [dict(shape=(3, 4), axis=1),
                        dict(shape=(2, 3, 4), axis=-1, keep_dims=True),
                        dict(shape=(4, 5), axis=1, ties=True),
                        dict(shape=(4, 5), axis=0, ties=True)]),
    ("count_equal", count_equal, [dict(shape=(10,)), dict(shape=(3, 4))]),
    ("matmul", matmul, [dict(lhs=(2, 3), rhs=(3, 4)),
                        dict(lhs=(2, 1, 3, 4), rhs=(5, 4, 2)),
                        dict(lhs=(3, 2), rhs=(3, 4), transpose_lhs=True),
                        dict(lhs=(2, 3), rhs=(4, 3), transpose_rhs=True),
                        dict(lhs=(2, 4, 3), rhs=(2, 5, 4), transpose_lhs=True,
                             transpose_rhs=True)]),
    ("relu_backward", unary_backward, [dict(shape=(3, 4)), dict(shape=(5,))]),
    ("gelu_backward", unary_backward,
     [dict(shape=(3, 4), approximate=a) for a in ("none", "tanh")]),
    *[(op, softmax_backward, [dict(shape=(3, 4), axis=-1), dict(shape=(2, 3, 4), axis=1)])
      for op in ("softmax_backward", "log_softmax_backward")],
    ("constant", constant, [dict(shape=(2, 3)), dict(shape=(4,))]),
    ("reshape", reshape, [dict(shape=(2, 3, 4), target=[4, -1]),
                          dict(shape=(6,), target=[2, 3], integers=True),
                          dict(shape=(1,), target=[])]),
    ("flatten", flatten, [dict(shape=(2, 3, 4, 5), start=1, end=-1),
                          dict(shape=(2, 3, 4, 5), start=-3, end=-2),
                          dict(shape=(2, 3), start=0, end=0)]),
    ("transpose", transpose, [dict(shape=(2, 3, 4), permutation=[2, 0, 1]),
                              dict(shape=(2, 3), permutation=[1, 0])]),
    ("concat", concat, [dict(shapes=[(2, 3), (2, 1), (2, 2)], axis=-1),
                        dict(shapes=[(1, 3), (2, 3)], axis=0),
                        dict(shapes=[(2, 2), (2, 3)], axis=1, integers=True)]),
    ("slice", slice_, SLICE_CASES + [dict(shape=(4,), offsets=(1,), sizes=(3,),
                                          strides=(1,), integers=True)]),
    ("scatter_slice", scatter_slice, SLICE_CASES),
    ("broadcast_to", broadcast_to, [dict(shape=(3,), target=[2, 3]),
                                    dict(shape=(2, 1), target=[4, 2, 5]),
                                    dict(shape=(), target=[3])]),
    ("embedding", embedding, [dict(ids_shape=(2, 3), rows=5, dim=4),
                              dict(ids_shape=(), rows=3, dim=2),
                              dict(ids_shape=(7,), rows=2, dim=3)]),
    ("embedding_backward", embedding_backward,
     [dict(ids_shape=(2, 3), rows=5, dim=4), dict(ids_shape=(6,), rows=4, dim=2)]),
    ("one_hot", one_hot, [dict(ids_shape=(2, 3), classes=4, f64=True),
                          dict(ids_shape=(5,), classes=3, f64=False)]),
    ("sinusoidal_positions", sinusoidal_positions,
     [dict(length=5, dim=8), dict(length=3, dim=2)]),
    ("conv2d", conv2d, CONV_CASES + [dict(input=(1, 2, 5, 4), out=2, kernel=(2, 2),
                                          padding=(1, 1), bias=False)]),
    *[(op, conv2d_backward, CONV_CASES)
      for op in ("conv2d_backward_input", "conv2d_backward_weight")],
    *[(op, pool2d, POOL_CASES) for op in ("max_pool2d", "max_pool2d_backward")],
    *[(op, pool2d, POOL_CASES + [dict(POOL_CASES[1], count_include_pad=False),
                                 dict(POOL_CASES[2], count_include_pad=False)])
      for op in ("avg_pool2d", "avg_pool2d_backward")],
    ("linear", linear, [dict(input=(4, 3), out=5), dict(input=(2, 3, 4), out=2, bias=False),
                        dict(input=(3,), out=2)]),
    ("layer_norm", layer_norm, [dict(shape=(4, 6), axis=-1),
                                dict(shape=(2, 3, 4), axis=1, bias=False),
                                dict(shape=(3, 5), axis=-1, weight=False, bias=False,
                                     epsilon=1e-3),
                                dict(shape=(2, 3, 4), axis=-2)]),
    ("layer_norm_backward", layer_norm_backward,
     [dict(shape=(4, 6), axis=-1), dict(shape=(2, 3, 4), axis=1),
      dict(shape=(3, 5), axis=-1, weight=False, epsilon=1e-3)]),
    ("batch_norm", batch_norm,
     [dict(shape=(4, 3)), dict(shape=(2, 3, 5), affine=False),
      dict(shape=(2, 4, 3, 3), momentum=0.3, epsilon=1e-3),
      dict(shape=(2, 4, 3, 3), training=False),
      dict(shape=(3, 2, 4), affine=False, training=False)]),
    ("batch_norm_backward", batch_norm_backward,
     [dict(shape=(4, 3)), dict(shape=(2, 3, 5), weight=False),
      dict(shape=(2, 4, 3, 3), epsilon=1e-3)]),
    ("dropout", dropout, [dict(shape=(4, 8), p=0.1, seed=7, counter=3),
                          dict(shape=(2, 3, 4), p=0.5, seed=-5, counter=0),
                          dict(shape=(10,), p=0.0, seed=1, counter=1)]),
    *[(op, attention, ATTENTION_CASES) for op in ("attention", "attention_backward")],
    *[(op, cross_entropy, [dict(rows=4, classes=5), dict(rows=1, classes=3),
                           dict(rows=8, classes=2),
                           dict(rows=6, classes=4, ignored=(1, 4)),
                           dict(rows=6, classes=4, label_smoothing=0.2),
                           dict(rows=7, classes=5, ignored=(0, 3, 6),
                                label_smoothing=0.3),
                           dict(rows=6, classes=4, ignored=(2,), ignore_index=1,
                                label_smoothing=0.1),
                           dict(rows=5, classes=3, ignored=(0, 4), ignore_index=7),
                           dict(rows=3, classes=4, label_smoothing=1.0)])
      for op in ("cross_entropy", "cross_entropy_backward")],
    *[(op, recurrent, LSTM_CASES) for op in ("lstm", "lstm_backward")],
    *[(op, recurrent, GRU_CASES) for op in ("gru", "gru_backward")],
    ("sgd", sgd, [dict(shape=(3, 2), step=1),
                  dict(shape=(4,), step=2, weight_decay=0.01),
                  dict(shape=(4,), step=1, momentum=0.9),
                  dict(shape=(2, 3), step=3, momentum=0.9, dampening=0.1,
                       weight_decay=0.01),
                  dict(shape=(5,), step=4, lr=0.05, momentum=0.8,
                       weight_decay=0.1, nesterov=True)]),
    *[(op, adam, [dict(shape=(3, 2), step=1),
                  dict(shape=(4,), step=2, weight_decay=0.1),
                  dict(shape=(2, 3), step=5, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                       weight_decay=0.05)])
      for op in ("adam", "adamw")],
    ("learning_rate", learning_rate, SCHEDULES),
    ("clip_grad_norm", clip_grad_norm, [dict(shapes=[(3,), (2, 2)], max_norm=0.5),
                                        dict(shapes=[(3,), (2, 2)], max_norm=100),
                                        dict(shapes=[(5,)], max_norm=1)]),
    ("accumulate", accumulate, [dict(shape=(3, 2)), dict(shape=())]),
]

F32_CASES = [
    ("add", binary, [dict(lhs=(2, 3), rhs=(3,))]),
    ("softmax", softmax, [dict(shape=(3, 5), axis=-1)]),
    ("matmul", matmul, [dict(lhs=(4, 6), rhs=(6, 3))]),
    ("conv2d", conv2d, [dict(input=(2, 3, 5, 5), out=4, kernel=(3, 3), padding=(1, 1))]),
    ("layer_norm", layer_norm, [dict(shape=(4, 8), axis=-1)]),
    ("batch_norm", batch_norm, [dict(shape=(8, 4, 3, 3))]),
    ("attention", attention, [ATTENTION_CASES[1], ATTENTION_CASES[4]]),
    ("cross_entropy", cross_entropy, [dict(rows=4, classes=5),
                                      dict(rows=7, classes=5, ignored=(0, 3, 6),
                                           label_smoothing=0.3)]),
    ("lstm", recurrent, [LSTM_CASES[1]]),
    ("lstm_backward", recurrent, [LSTM_CASES[0]]),
    ("gru", recurrent, [GRU_CASES[0]]),
    ("gru_backward", recurrent, [GRU_CASES[1]]),
    ("adam", adam, [dict(shape=(2, 3), step=3, weight_decay=0.01)]),
]
