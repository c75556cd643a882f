"""Writes the small cross-format fixtures of the checkpoint-reader tests.

Run with the reference environment (torch, numpy, safetensors):
    /opt/ww-oracle/bin/python tests/data/readers/make_reader_fixtures.py [--only-quantized]
Deterministic: numpy default_rng(7); zip timestamps are fixed by numpy/torch themselves
only partly, so tests compare tensor bytes, never file bytes.
"""
import collections
import json
import os
import sys
import zipfile

import numpy as np
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def arr(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def write_quantized():
    """quantized.pt (zip) and quantized_legacy.pt: float tensors beside tensors htsr leaves
    out (per-tensor and per-channel qint8, complex64, packed quint4x2 and quint2x4, a
    dynamically quantised Linear's packed parameters and dtype); quantized.safetensors:
    the float tensors alone."""
    g = np.random.default_rng(11)
    sd = collections.OrderedDict()
    sd["a.weight"] = torch.from_numpy(g.standard_normal((50, 40)).astype(np.float32))
    w = torch.from_numpy(g.standard_normal((40, 30)).astype(np.float32))
    sd["q.weight"] = torch.quantize_per_tensor(w, 0.05, 0, torch.qint8)
    scales = torch.from_numpy(g.uniform(0.01, 0.1, 40))
    sd["qc.weight"] = torch.quantize_per_channel(w, scales, torch.zeros(40, dtype=torch.long),
                                                 0, torch.qint8)
    sd["c.weight"] = torch.from_numpy(
        (g.standard_normal((20, 10)) + 1j * g.standard_normal((20, 10))).astype(np.complex64))
    sd["b.weight"] = torch.from_numpy(g.standard_normal((30, 20)).astype(np.float32)).half()
    # Packed: two and four values per byte along the last dimension (odd on purpose).
    sd["q4.weight"] = torch.quantize_per_tensor(w[:7, :5].contiguous(), 0.1, 0, torch.quint4x2)
    sd["q2.weight"] = torch.quantize_per_tensor(w[:6, :5].contiguous(), 0.1, 0, torch.quint2x4)
    torch.manual_seed(0)
    dyn = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(16, 12)),
                                                 {torch.nn.Linear}, dtype=torch.qint8)
    for k, v in dyn.state_dict().items():
        sd["dyn." + k] = v
    torch.save(sd, os.path.join(HERE, "quantized.pt"))
    torch.save(sd, os.path.join(HERE, "quantized_legacy.pt"),
               _use_new_zipfile_serialization=False)
    from safetensors.torch import save_file as save_torch
    save_torch(collections.OrderedDict(
        (k, v.contiguous()) for k, v in sd.items()
        if torch.is_tensor(v) and not v.is_quantized and not v.is_complex()),
        os.path.join(HERE, "quantized.safetensors"))


if sys.argv[1:] == ["--only-quantized"]:
    write_quantized()
    sys.exit(0)


# The same logical tensors in every format, as contiguous numpy arrays (the truth).
base = collections.OrderedDict()
base["z.first.weight"] = arr(6, 5)
base["layers.10.weight"] = arr(4, 7)
base["layers.2.weight"] = arr(7, 4)
base["f64.weight"] = arr(3, 5, dtype=np.float64)
base["conv.weight"] = arr(4, 3, 3, 3)
base["scalar"] = np.array(2.5, dtype=np.float32)
base["ids"] = np.arange(5, dtype=np.int64)
big = arr(20, 9)

# PyTorch: views into shared storages (transposed, row-offset, column slice), halves.
sd = collections.OrderedDict()
for k, v in base.items():
    sd[k] = torch.from_numpy(v.copy())
sd["view.transposed.weight"] = torch.from_numpy(big.copy()).t()
sd["view.rows.weight"] = torch.from_numpy(big.copy())[5:12]
sd["view.cols.weight"] = torch.from_numpy(big.copy())[:, 2:6]
sd["half.weight"] = torch.from_numpy(arr(5, 6)).half()
sd["bhalf.weight"] = torch.from_numpy(arr(6, 5)).bfloat16()
sd["tied.weight"] = sd["z.first.weight"]
torch.save(sd, os.path.join(HERE, "views.pt"))
torch.save({"epoch": 1, "model": sd}, os.path.join(HERE, "nested_model.pt"))

# The same values, contiguous, for numpy formats (numpy has no bf16).
st = collections.OrderedDict()
for k, v in sd.items():
    t = v.contiguous()
    if t.dtype == torch.bfloat16:
        continue
    st[k] = t.numpy().copy()
# safetensors.torch keeps bf16; clones because it refuses tensors sharing storage.
from safetensors.torch import save_file as save_torch_file
save_torch_file(collections.OrderedDict((k, v.contiguous().clone()) for k, v in sd.items()),
                os.path.join(HERE, "views.safetensors"))

# npz (stored and deflated) and npy variants.
np.savez(os.path.join(HERE, "views.npz"), **st)
np.savez_compressed(os.path.join(HERE, "views_compressed.npz"), **st)
f = np.asfortranarray(base["conv.weight"])
np.save(os.path.join(HERE, "fortran.npy"), f)
np.save(os.path.join(HERE, "bigendian.npy"), base["f64.weight"].astype(">f8"))
np.save(os.path.join(HERE, "reference_f64.npy"), base["f64.weight"])
np.save(os.path.join(HERE, "reference_conv.npy"), base["conv.weight"])

# Hugging Face sharded directories.
for kind in ("safetensors", "pytorch"):
    d = os.path.join(HERE, "sharded_" + kind)
    os.makedirs(d, exist_ok=True)
    names = list(st.keys())
    shards = {"a": names[: len(names) // 2], "b": names[len(names) // 2:]}
    weight_map = collections.OrderedDict()
    for tag, keys in shards.items():
        if kind == "safetensors":
            fname = f"model-0000{1 if tag == 'a' else 2}-of-00002.safetensors"
            save_file({k: st[k] for k in keys}, os.path.join(d, fname))
        else:
            fname = f"pytorch_model-0000{1 if tag == 'a' else 2}-of-00002.bin"
            torch.save(collections.OrderedDict((k, torch.from_numpy(st[k])) for k in keys),
                       os.path.join(d, fname))
        for k in keys:
            weight_map[k] = fname
    index = "model.safetensors.index.json" if kind == "safetensors" else "pytorch_model.bin.index.json"
    with open(os.path.join(d, index), "w") as fh:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, fh, indent=2)

# Expected order of views.pt / the sharded safetensors dir, one name per line.
with open(os.path.join(HERE, "views.pt.order.txt"), "w") as fh:
    fh.write("\n".join(sd.keys()) + "\n")
with open(os.path.join(HERE, "views.safetensors.order.txt"), "w") as fh:
    from safetensors import safe_open
    with safe_open(os.path.join(HERE, "views.safetensors"), framework="np") as g:
        fh.write("\n".join(g.keys()) + "\n")
# A tiny legacy (non-zip) checkpoint with a view, for fuzz seeds and tests.
small = collections.OrderedDict()
small["a.weight"] = torch.from_numpy(arr(3, 4))
small["t.weight"] = torch.from_numpy(arr(4, 2)).t()
small["h.weight"] = torch.from_numpy(arr(2, 2)).half()
torch.save(small, os.path.join(HERE, "legacy_small.pt"), _use_new_zipfile_serialization=False)
save_torch_file(collections.OrderedDict((k, v.contiguous().clone()) for k, v in small.items()),
                os.path.join(HERE, "legacy_small.safetensors"))

# Contiguous copies of the shared synthetic state_dict.pt (views, offsets, tied weights),
# for a byte-for-byte comparison of our strided reads against torch's.
sdp = os.path.join(HERE, "..", "synthetic", "fixtures", "state_dict.pt")
if os.path.exists(sdp):
    loaded = torch.load(sdp)
    save_torch_file(collections.OrderedDict((k, v.contiguous().clone()) for k, v in loaded.items()),
                    os.path.join(HERE, "state_dict_contiguous.safetensors"))
print("ok")

write_quantized()
