"""Reads and writes safetensors files with PyTorch alone (no `safetensors`
package): an 8-byte little-endian header length, a JSON header of
{name: {dtype, shape, data_offsets}}, then the tensors' bytes.

Kiln's checkpoints, initial weights and reference data use this format.
A module's weights go to Kiln as `write(path, module.state_dict())`
(parameters and buffers, such as a batch normalization's running
statistics), and come back with `module.load_state_dict(state_dict(tensors,
module))`.
"""
import json
import struct

import torch

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read(path):
    """Returns ({name: tensor}, metadata) for the file at `path`."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: byte 0: too short for a safetensors header")
    (length,) = struct.unpack("<Q", raw[:8])
    if 8 + length > len(raw):
        raise ValueError(f"{path}: byte 0: header length {length} runs past the end")
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin \
            else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes {name: tensor} (f32, f64 or i64), in name order."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        blob = t.numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        chunks.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in chunks:
            f.write(blob)


def state_dict(tensors, module):
    """The tensors of `module`'s state_dict (parameters and persistent
    buffers) among `tensors`, as `read` returns them from a Kiln checkpoint,
    an --init file or a saved state_dict: the rest (a checkpoint's optimizer
    state, "<param>.momentum_buffer", ...) is left out, so that
    `module.load_state_dict` takes the result with strict=True."""
    names = list(module.state_dict())
    missing = [name for name in names if name not in tensors]
    if missing:
        shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        raise KeyError(f"the file lacks {len(missing)} of the module's "
                       f"{len(names)} parameters and buffers: {shown}; give a "
                       f"checkpoint of the same model")
    return {name: tensors[name] for name in names}
