"""The numeric cases of kiln's neural-network layers and losses: conv2d,
pooling, linear, layer and batch norms, dropout, attention, cross_entropy and
the recurrent layers (lstm, gru), forward and gradient; each function fills a
Case with the op's function and what torch.nn.functional or torch.nn computes
of the same inputs, gradients by torch.autograd.grad."""
import math

import torch
import torch.nn.functional as F

from kiln_case import grad, leaf
from kiln_random import dropout_mask


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

def dropout(c, shape, p, seed, counter):
    # PyTorch's dropout draws from its own generator; the mask is the
    # runtime's, computed here from its definition.
    x = c.randn(*shape)
    keep = dropout_mask(shape, p, seed, counter)
    c.single("dropout", [("x", x), ("counter", torch.tensor(counter))],
             [("y", torch.where(keep, x / (1 - p), torch.zeros_like(x)))],
             {"p": float(p), "seed": seed})


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
