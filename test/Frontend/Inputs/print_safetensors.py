"""Prints each tensor of a safetensors file on a line, in name order: name,
dtype, shape and values. It needs the standard library alone, so that tests
that read results need no PyTorch."""
import json
import struct
import sys

FORMATS = {"F32": "f", "F64": "d", "I64": "q"}

with open(sys.argv[1], "rb") as f:
    raw = f.read()
(length,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + length])
header.pop("__metadata__", None)
data = raw[8 + length:]
for name in sorted(header):
    entry = header[name]
    begin, end = entry["data_offsets"]
    fmt = FORMATS[entry["dtype"]]
    count = (end - begin) // struct.calcsize(fmt)
    values = struct.unpack(f"<{count}{fmt}", data[begin:end])
    print(name, entry["dtype"], entry["shape"], *values)
