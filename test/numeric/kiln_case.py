"""Writes the one-function MLIR programs of the numeric tests.

A Case collects the named arguments of a function (tensors that become its
{kiln.input = "..."} arguments and the kiln-run input file), the kiln ops
applied to them, and the results to check with their expected tensors. Each
case draws its random inputs from a generator seeded by its name, so that a
case keeps its values when others are added.
"""
import json
import zlib

import torch

ELEMENT_TYPES = {torch.float32: "f32", torch.float64: "f64", torch.int64: "i64"}


class Raw(str):
    """An attribute value written as is, such as a type or an enum case."""


def format_float(value):
    """`value` as an MLIR float literal that parses back to the same double."""
    text = repr(float(value))
    if "e" in text and "." not in text:
        return text.replace("e", ".0e")
    return text if "." in text or "e" in text else text + ".0"


def format_attr(value):
    if isinstance(value, Raw):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value} : i64"
    if isinstance(value, float):
        return f"{format_float(value)} : f64"
    if isinstance(value, str):
        return json.dumps(value)
    if not value:
        return "array<i64>"
    return f"array<i64: {', '.join(str(v) for v in value)}>"


def tensor_type(tensor):
    dims = [str(d) for d in tensor.shape] + [ELEMENT_TYPES[tensor.dtype]]
    return f"tensor<{'x'.join(dims)}>"


class Case:
    """One function: its arguments, its ops and the results to check, and a
    random number generator for its inputs."""

    def __init__(self, name, dtype):
        self.dtype = dtype
        self.generator = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        self.args = []
        self.types = {}
        self.lines = []
        self.outputs = []

    # Inputs.

    def randn(self, *shape, scale=1.0):
        return torch.randn(shape, generator=self.generator, dtype=self.dtype) * scale

    def uniform(self, low, high, *shape):
        return low + (high - low) * torch.rand(shape, generator=self.generator,
                                               dtype=self.dtype)

    def ints(self, low, high, *shape):
        return torch.randint(low, high, shape, generator=self.generator)

    def size(self, low=1, high=4):
        return int(torch.randint(low, high + 1, (), generator=self.generator))

    # The function.

    def arg(self, name, tensor):
        self.args.append((name, tensor))
        self.types["%" + name] = tensor_type(tensor)
        return "%" + name

    def op(self, name, operands, results, attrs=None, short=False):
        """Appends `kiln.<name>` of `operands`, whose results have the types of
        the tensors `results`; returns the results' SSA names."""
        names = [f"%v{len(self.lines)}_{i}" for i in range(len(results))]
        for value, result in zip(names, results):
            self.types[value] = tensor_type(result)
        attr_text = ""
        if attrs:
            attr_text = " {" + ", ".join(f"{k} = {format_attr(v)}"
                                         for k, v in attrs.items()) + "}"
        if short:
            types = tensor_type(results[0])
        else:
            types = (f"({', '.join(self.types[o] for o in operands)}) -> "
                     f"({', '.join(tensor_type(r) for r in results)})")
        self.lines.append(f"{', '.join(names)} = kiln.{name} {', '.join(operands)}"
                          f"{attr_text} : {types}")
        return names

    def constant(self, literal, like):
        """Appends a kiln.constant of the dense `literal`, of the type of the
        tensor `like`; returns its SSA name."""
        value = f"%v{len(self.lines)}"
        self.types[value] = tensor_type(like)
        self.lines.append(f"{value} = kiln.constant dense<{literal}> : "
                          f"{tensor_type(like)}")
        return value

    def check(self, name, value, expected):
        self.outputs.append((value, name, expected.detach()))

    def single(self, op, operands, expected, attrs=None, short=False):
        """The common case: `op` applied to the arguments `operands`, (name,
        tensor) pairs in operand order, giving the `expected` (name, tensor)
        pairs."""
        values = self.op(op, [self.arg(n, t) for n, t in operands],
                         [t for _, t in expected], attrs, short)
        for value, (name, tensor) in zip(values, expected):
            self.check(name, value, tensor)

    def mlir(self):
        args = ", ".join(f'%{n}: {tensor_type(t)} {{kiln.input = "{n}"}}'
                         for n, t in self.args)
        results = ", ".join(f'{self.types[v]} {{kiln.output = "{n}"}}'
                            for v, n, _ in self.outputs)
        body = "".join(f"  {line}\n" for line in self.lines)
        values = ", ".join(v for v, _, _ in self.outputs)
        types = ", ".join(self.types[v] for v, _, _ in self.outputs)
        return (f"func.func @test({args}) -> ({results}) {{\n{body}"
                f"  return {values} : {types}\n}}\n")


def grad(outputs, inputs, grads):
    """torch.autograd.grad of `outputs` with respect to `inputs`."""
    return torch.autograd.grad(outputs, inputs, grads)


def leaf(tensor):
    return tensor.clone().requires_grad_(True)
