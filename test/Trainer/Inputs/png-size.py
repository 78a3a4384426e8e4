"""Prints the size of a PNG file, WIDTHxHEIGHT, from its IHDR chunk; fails
when the file does not start with the PNG signature and an IHDR chunk.

usage: png-size.py FILE.png
"""

import struct
import sys

with open(sys.argv[1], "rb") as f:
    head = f.read(24)
if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
    sys.exit(f"png-size.py: {sys.argv[1]}: not a PNG file")
width, height = struct.unpack(">II", head[16:24])
print(f"{width}x{height}")
