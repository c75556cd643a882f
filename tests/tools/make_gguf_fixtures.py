#!/usr/bin/env python3
"""Writes tests/data/readers/gguf/: GGUF files of real all-MiniLM-L6-v2 weights, one per ggml
type, and expected.txt, what `gguf.quants.dequantize` (gguf-py 0.19) makes of each tensor.

    python3 -m venv .venv && .venv/bin/pip install gguf==0.19.0 numpy safetensors
    .venv/bin/python tests/tools/make_gguf_fixtures.py \
        "$(bash tests/tools/fetch_real_model.sh "" minilm)"

Three weights are cut to keep the fixtures small (about 1.4 MB for all 13 types): their rows
are whole rows of the real matrix and ne[0] a multiple of 256, so every K-quant can hold them.
gguf 0.19 cannot quantise K-quants (NotImplementedError): the small encoders below write valid
Q2_K..Q6_K blocks (a plain min/max fit, not llama.cpp's search), and the expected values are
gguf's dequantisation of exactly those blocks, read back from the written file with GGUFReader.

expected.txt, one line per tensor:
    FILE TENSOR GGML_TYPE SHAPE CHECKSUM V0 V1 V2 VLAST
SHAPE is the row-major shape (ne reversed, comma-separated); CHECKSUM is
sum(bits[i] * (2*i + 1)) mod 2**64 over the float32 bit patterns (an odd multiplier per
position, so any one changed value changes it); V* are float32 bit patterns in hex.
"""
import os
import sys

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "readers", "gguf")

# GGUF name <- (safetensors name, row slice, column slice)
LAYERS = [
    ("blk.0.attn_q.weight", "encoder.layer.0.attention.self.query.weight", 128, 256),
    ("blk.2.ffn_up.weight", "encoder.layer.2.intermediate.dense.weight", 64, 256),
    ("blk.5.ffn_down.weight", "encoder.layer.5.output.dense.weight", 32, 1536),
]
NORM = ("blk.0.attn_norm.weight", "encoder.layer.0.attention.output.LayerNorm.weight")
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
         "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]

f16, f32, u8 = np.float16, np.float32, np.uint8


def _f16_bytes(v):
    return v.astype(f16).view(u8).reshape(-1, 2)


def _div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0)


def _pack_k4_scales(sc, m):
    """8 six-bit scales and mins -> the 12 bytes that gguf's Q4_K.get_scale_min unpacks."""
    out = np.zeros((sc.shape[0], 12), u8)
    for j in range(4):
        out[:, j] = (sc[:, j] & 63) | ((sc[:, j + 4] >> 4) << 6)
        out[:, 4 + j] = (m[:, j] & 63) | ((m[:, j + 4] >> 4) << 6)
        out[:, 8 + j] = (sc[:, j + 4] & 15) | ((m[:, j + 4] & 15) << 4)
    return out


def _min_scale_fit(x, levels, scale_bits):
    """x (nb, S, n): per sub-block d_s * q - m_s with q in [0, levels], d_s = d * sc and
    m_s = dmin * mn quantised to `scale_bits` bits against f16 super-block d and dmin."""
    top = (1 << scale_bits) - 1
    mn = np.minimum(x.min(-1), 0)
    scale = (x.max(-1) - mn) / levels
    d = (scale.max(-1) / top).astype(f16)
    dmin = ((-mn).max(-1) / top).astype(f16)
    df, dminf = d.astype(f32)[:, None], dmin.astype(f32)[:, None]
    sc = np.clip(np.rint(_div(scale, df)), 0, top).astype(u8)
    m = np.clip(np.rint(_div(-mn, dminf)), 0, top).astype(u8)
    ds = (df * sc)[..., None]
    q = np.clip(np.rint(_div(x + (dminf * m)[..., None], ds)), 0, levels).astype(u8)
    return d, dmin, sc, m, q


def _pack_2bit(q):
    """(nb, 256) values 0..3 -> 64 bytes: value h*128 + s*32 + l in bits 2s of byte h*32 + l."""
    q = q.reshape(-1, 2, 4, 32)
    return sum(q[:, :, s, :] << (2 * s) for s in range(4)).astype(u8).reshape(-1, 64)


def encode_q2_k(blocks):
    d, dmin, sc, m, q = _min_scale_fit(blocks.reshape(-1, 16, 16), 3, 4)
    scales = (sc | (m << 4)).astype(u8)
    return np.concatenate([scales, _pack_2bit(q.reshape(-1, 256)), _f16_bytes(d),
                           _f16_bytes(dmin)], axis=1)


def encode_q3_k(blocks):
    x = blocks.reshape(-1, 16, 16)
    scale = np.abs(x).max(-1) / 4
    d = (scale.max(-1) / 31).astype(f16)
    df = d.astype(f32)[:, None]
    sc = np.clip(np.rint(_div(scale, df)), -32, 31).astype(np.int32)
    q = np.clip(np.rint(_div(x, (df * sc)[..., None])), -4, 3).astype(np.int32) + 4
    q = q.reshape(-1, 256)
    v = (sc + 32).astype(u8)
    scales = np.zeros((x.shape[0], 12), u8)
    for j in range(16):
        scales[:, j % 8] |= (v[:, j] & 15) << (4 * (j // 8))
        scales[:, 8 + j % 4] |= ((v[:, j] >> 4) & 3) << (2 * (j // 4))
    high = (q >> 2).astype(u8).reshape(-1, 8, 32)
    hmask = sum(high[:, k, :] << k for k in range(8)).astype(u8)
    return np.concatenate([hmask, _pack_2bit((q & 3).astype(u8)), scales, _f16_bytes(d)], axis=1)


def encode_q4_k(blocks):
    d, dmin, sc, m, q = _min_scale_fit(blocks.reshape(-1, 8, 32), 15, 6)
    qs = (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(-1, 128)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_k4_scales(sc, m), qs], axis=1)


def encode_q5_k(blocks):
    d, dmin, sc, m, q = _min_scale_fit(blocks.reshape(-1, 8, 32), 31, 6)
    low = q & 15
    qs = (low[:, 0::2, :] | (low[:, 1::2, :] << 4)).reshape(-1, 128)
    qh = sum(((q[:, s, :] >> 4) & 1) << s for s in range(8)).astype(u8)
    return np.concatenate([_f16_bytes(d), _f16_bytes(dmin), _pack_k4_scales(sc, m), qh, qs],
                          axis=1)


def encode_q6_k(blocks):
    x = blocks.reshape(-1, 16, 16)
    scale = np.abs(x).max(-1) / 31
    d = (scale.max(-1) / 127).astype(f16)
    df = d.astype(f32)[:, None]
    sc = np.clip(np.rint(_div(scale, df)), -128, 127).astype(np.int8)
    q = np.clip(np.rint(_div(x, (df * sc)[..., None])), -32, 31).astype(np.int32) + 32
    q = q.reshape(-1, 2, 128).astype(u8)
    ql = (q[:, :, :64] & 15) | ((q[:, :, 64:] & 15) << 4)
    hi = (q >> 4).reshape(-1, 2, 4, 32)
    qh = sum(hi[:, :, s, :] << (2 * s) for s in range(4)).astype(u8)
    return np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.view(u8),
                           _f16_bytes(d)], axis=1)


K_ENCODERS = {"Q2_K": encode_q2_k, "Q3_K": encode_q3_k, "Q4_K": encode_q4_k,
              "Q5_K": encode_q5_k, "Q6_K": encode_q6_k}


def encode(w, type_name):
    """Returns (array for GGUFWriter.add_tensor, raw_dtype)."""
    qtype = T[type_name]
    if type_name == "F32":
        return w.astype(f32), None
    if type_name == "F16":
        return w.astype(f16), None
    if type_name in K_ENCODERS:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        raw = K_ENCODERS[type_name](w.reshape(-1, block).astype(f32))
        assert raw.shape[1] == size, (type_name, raw.shape)
        return raw.reshape(w.shape[0], -1), qtype
    return gguf.quants.quantize(w.astype(f32), qtype), qtype


def checksum(values):
    bits = values.astype(f32).ravel().view(np.uint32).astype(np.uint64)
    mult = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return int(np.sum(bits * mult, dtype=np.uint64))


def hexbits(v):
    return "%08x" % int(np.array(v, f32).view(np.uint32))


SEEDS = os.path.join(HERE, "..", "fuzz", "seeds")


def write_seeds(weights):
    """Small fuzz seeds (< 8 KB): one file with a tensor of every type htsr reads plus types it
    leaves out, as v3 and (one byte changed) v2, into seeds/gguf/ and seeds/any/."""
    w = np.ascontiguousarray(weights["encoder.layer.5.output.dense.weight"][:2, :256])
    path = os.path.join(SEEDS, "gguf", "mixed_types.gguf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = gguf.GGUFWriter(path, "bert")
    writer.add_custom_alignment(16)
    writer.add_array("htsr.test.nested", [[1, 2], ["a"]])
    writer.add_tensor("norm.weight", weights[NORM[1]][:8].astype(f32))
    for type_name in TYPES:
        data, raw = encode(w[:1] if type_name in ("F32", "F16", "BF16") else w, type_name)
        writer.add_tensor(f"blk.0.{type_name.lower()}.weight", data, raw_dtype=raw)
    writer.add_tensor("blk.0.iq4_nl.weight", np.zeros((1, 18), u8), raw_dtype=T.IQ4_NL)
    writer.add_tensor("ids", np.arange(4, dtype=np.int32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with open(path, "rb") as f:
        data = bytearray(f.read())
    data[4] = 2  # version 2 has the same layout
    for out in (os.path.join(SEEDS, "gguf", "mixed_types_v2.gguf"),
                os.path.join(SEEDS, "any", "mixed_types.gguf")):
        with open(out, "wb") as f:
            f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    weights = load_file(sys.argv[1])
    write_seeds(weights)
    os.makedirs(OUT, exist_ok=True)
    lines = []
    for type_name in TYPES:
        fname = f"minilm_{type_name.lower()}.gguf"
        path = os.path.join(OUT, fname)
        writer = gguf.GGUFWriter(path, "bert")
        writer.add_name("all-MiniLM-L6-v2 (htsr test slices)")
        writer.add_file_type(0)
        if type_name == "Q4_K":
            writer.add_custom_alignment(64)  # a non-default data alignment
        if type_name == "F32":
            writer.add_array("htsr.test.nested", [[1, 2], [3]])  # arrays of arrays
            writer.add_array("htsr.test.strings", ["[PAD]", "[UNK]", "the"])
        writer.add_tensor(NORM[0], weights[NORM[1]].astype(f32))  # 1-D stays F32, as llama.cpp
        for gname, sname, rows, cols in LAYERS:
            w = np.ascontiguousarray(weights[sname][:rows, :cols])
            data, raw = encode(w, type_name)
            writer.add_tensor(gname, data, raw_dtype=raw)
        if type_name == "F32":
            # An integer tensor (left out with a note).
            writer.add_tensor("position_ids", weights["embeddings.position_ids"][:, :64]
                              .astype(np.int32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

        for t in gguf.GGUFReader(path).tensors:
            if t.tensor_type in (T.I32,):
                continue
            shape = [int(n) for n in reversed(t.shape.tolist())]
            values = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
            values = np.asarray(values, f32).reshape(shape)
            flat = values.ravel()
            lines.append(" ".join([fname, t.name, t.tensor_type.name,
                                   ",".join(map(str, shape)), str(checksum(values)),
                                   hexbits(flat[0]), hexbits(flat[1]), hexbits(flat[2]),
                                   hexbits(flat[-1])]))
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("# tests/tools/make_gguf_fixtures.py: gguf %s, numpy %s\n"
                % (getattr(gguf, "__version__", "0.19.0"), np.__version__))
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(TYPES)} GGUF files and expected.txt to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()
