"""Safetensors files and closeness checks in plain Python (no NumPy, no
PyTorch), so that the GPU backend's tests run on any machine.

Tensors are (dtype, shape, flat list of values) with dtype F32, F64 or I64.
"""
import json
import math
import struct

_FORMATS = {"F32": "f", "F64": "d", "I64": "q"}


def read(path):
    """{name: (dtype, shape, values)} of the file at `path`."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    header.pop("__metadata__", None)
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        code = _FORMATS[entry["dtype"]]
        count = (end - begin) // struct.calcsize(code)
        values = list(struct.unpack(f"<{count}{code}", data[begin:end]))
        tensors[name] = (entry["dtype"], entry["shape"], values)
    return tensors


def write(path, tensors):
    """Writes {name: (dtype, shape, values)}, in name order."""
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, values = tensors[name]
        blob = struct.pack(f"<{len(values)}{_FORMATS[dtype]}", *values)
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(blob)]}
        chunks.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def relative_error(actual, expected):
    """||actual - expected|| / ||expected|| (the absolute norm of the
    difference when `expected` is zero)."""
    difference = math.sqrt(sum((a - e) ** 2 for a, e in zip(actual, expected)))
    norm = math.sqrt(sum(e * e for e in expected))
    return difference / norm if norm else difference


def compare(actual, expected, tolerance, what):
    """Checks two {name: tensor} dicts name by name; returns the lines that
    describe each mismatch (empty when all match)."""
    problems = []
    for name in sorted(expected):
        if name not in actual:
            problems.append(f"{what}: '{name}' is missing")
            continue
        (_, shape_a, values_a), (_, shape_e, values_e) = actual[name], expected[name]
        if shape_a != shape_e:
            problems.append(f"{what}: '{name}' has shape {shape_a}, expected {shape_e}")
            continue
        error = relative_error(values_a, values_e)
        if not error <= tolerance:
            problems.append(f"{what}: '{name}' differs by {error:.3g} (norm-wise), "
                            f"more than {tolerance:g}")
    return problems
