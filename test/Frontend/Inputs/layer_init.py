"""Checks the kiln.init of every weight of Inputs/layer-init.kiln (from
`kilnc -emit=kiln` on stdin) against torch.nn.init's definitions: the same
distribution and bounds or standard deviation, from PyTorch's own fan
computation, for each initialization a layer's `init` can name."""
import math
import re
import sys

import torch
import torch.nn.init as init

SHAPES = {"conv.weight": (4, 3, 3, 3), "fc.weight": (5, 16),
          "emb.weight": (10, 6), "rnn.weight_ih_l0": (32, 6),
          "rnn.weight_hh_l0": (32, 8), "gru.weight_ih_l0": (12, 6),
          "gru.weight_hh_l0": (12, 4), "attn.in_proj_weight": (18, 6),
          "attn.out_proj.weight": (6, 6), "zero.weight": (5, 5),
          "unit.weight": (5, 5), "plain.weight": (5, 5), "one.weight": (5, 5)}
KINDS = {"conv": "kaiming_normal", "fc": "kaiming_uniform",
         "emb": "xavier_normal", "rnn": "xavier_uniform",
         "gru": "kaiming_uniform", "attn": "xavier_uniform",
         "zero": "zeros", "one": "ones", "unit": "uniform", "plain": "normal"}


def expected(kind, shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    gain = init.calculate_gain("leaky_relu", 0)
    if kind == "kaiming_normal":
        return ("normal", 0.0, gain / math.sqrt(fan_in))
    if kind == "kaiming_uniform":
        bound = gain * math.sqrt(3.0 / fan_in)
        return ("uniform", -bound, bound)
    if kind == "xavier_normal":
        return ("normal", 0.0, math.sqrt(2.0 / (fan_in + fan_out)))
    if kind == "xavier_uniform":
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return ("uniform", -bound, bound)
    if kind == "uniform":
        return ("uniform", 0.0, 1.0)
    if kind == "normal":
        return ("normal", 0.0, 1.0)
    return (kind, None, None)


found = {}
pattern = re.compile(r'kiln\.init = \{distribution = "(\w+)"(?:, (\w+) = ([-\d.e+]+) : f64'
                     r', (\w+) = ([-\d.e+]+) : f64)?\}, kiln\.param = "([\w.]+)"')
for match in pattern.finditer(sys.stdin.read()):
    dist, k1, v1, k2, v2, name = match.groups()
    values = dict(((k1, float(v1)), (k2, float(v2)))) if k1 else {}
    if dist == "uniform":
        found[name] = (dist, values["low"], values["high"])
    elif dist == "normal":
        found[name] = (dist, values["mean"], values["std"])
    else:
        found[name] = (dist, None, None)

failures = 0
for name, shape in SHAPES.items():
    want = expected(KINDS[name.split(".")[0]], shape)
    got = found.get(name)
    ok = got is not None and got[0] == want[0] and all(
        (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12)
        for a, b in zip(got[1:], want[1:]))
    print(f"{'ok' if ok else 'MISMATCH'} {name}: kiln {got}, torch {want}")
    failures += not ok
sys.exit(1 if failures else 0)
