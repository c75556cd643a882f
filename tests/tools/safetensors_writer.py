"""Writes and reads safetensors files with the stdlib alone (a JSON header plus raw bytes), so
tests can build fixtures and check results independently of htsr's own readers."""
import json
import struct


def write_safetensors_raw(path, tensors):
    """tensors: list of (name, dtype, shape, raw little-endian bytes)."""
    header, blobs, off = {}, [], 0
    for name, dtype, shape, b in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_safetensors(path, tensors):
    """tensors: list of (name, shape, flat list of floats), stored as F32."""
    write_safetensors_raw(path, [(name, "F32", shape, struct.pack(f"<{len(values)}f", *values))
                                 for name, shape, values in tensors])


def read_safetensors_raw(path):
    """name -> (dtype, shape, raw little-endian bytes), in the header's order."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = (t["dtype"], t["shape"], body[a:b])
    return out
