#!/usr/bin/env python3
"""Write the small synthetic golden fixtures under tests/data/synthetic/ and the reference's
expected output for each (weightwatcher 0.7.7 through shared/tools/ww_oracle/run_ww.py).

Run with the reference interpreter (it needs numpy, torch, safetensors):

    /opt/ww-oracle/bin/python tests/tools/make_synthetic_fixtures.py            # fixtures + goldens
    /opt/ww-oracle/bin/python tests/tools/make_synthetic_fixtures.py --no-run   # fixtures only

Everything is deterministic: one numpy Generator (PCG64, fixed seed) draws all values in a
fixed order, so re-running rewrites byte-identical fixture files (npz is written with fixed
zip timestamps; safetensors and torch zip files carry no timestamps of their own).

Layout:
    tests/data/synthetic/fixtures/<name>.<ext>       input weights
    tests/data/synthetic/expected/<name>.csv         run_ww.py --out (per-layer table)
    tests/data/synthetic/expected/<name>_evals.npz   run_ww.py --evals-out (pooled sorted evals,
                                                     keys "layer_id:name")
    tests/data/synthetic/expected/<name>.summary.txt run_ww.py --summary stderr line
    tests/data/synthetic/expected/<name>.opt-<option>.csv   same with one reference option
"""
import argparse
import collections
import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "tests", "data", "synthetic")
DEFAULT_REF = os.path.join(os.path.dirname(REPO), "shared", "tools", "ww_oracle", "run_ww.py")

SEED = 20240601


# ----------------------------------------------------------------------------------------------
# matrix generators (all return float64; the writer decides the stored dtype)
# ----------------------------------------------------------------------------------------------
class Gen:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def gauss(self, *shape, scale=None):
        fan_in = shape[1] if len(shape) >= 2 else shape[0]
        if len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
        s = scale if scale is not None else 1.0 / np.sqrt(fan_in)
        return self.rng.standard_normal(shape) * s

    def student(self, *shape, df=3.0, scale=0.05):
        # symmetric heavy tails, P(|x|>t) ~ t^-df
        return self.rng.standard_t(df, size=shape) * scale

    def pareto(self, *shape, a=2.5, scale=0.02):
        # signed Pareto (Lomax + 1) entries, tail index a
        mag = self.rng.pareto(a, size=shape) + 1.0
        sign = self.rng.choice([-1.0, 1.0], size=shape)
        return sign * mag * scale

    def low_rank(self, n, m, r, scale=0.1):
        a = self.rng.standard_normal((n, r))
        b = self.rng.standard_normal((r, m))
        return (a @ b) * (scale / np.sqrt(r))

    def permuted_diag(self, n, m, values):
        """n x m matrix with exactly the singular values `values` (len == min(n, m)), placed on
        a permuted diagonal: every value is exact in f32, duplicates are exact duplicates."""
        k = min(n, m)
        assert len(values) == k
        w = np.zeros((n, m))
        rows = self.rng.permutation(n)[:k]
        cols = self.rng.permutation(m)[:k]
        signs = self.rng.choice([-1.0, 1.0], size=k)
        w[rows, cols] = np.asarray(values) * signs
        return w

    def kron_blocks(self, reps, block_shape):
        """block-diagonal kron(I_reps, B): every singular value of B repeated `reps` times
        (equal up to rounding, not bit-exact)."""
        b = self.rng.standard_normal(block_shape) / np.sqrt(block_shape[1])
        return np.kron(np.eye(reps), b)


def hadamard(n):
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    assert h.shape[0] == n
    return h


# ----------------------------------------------------------------------------------------------
# fixture contents
# ----------------------------------------------------------------------------------------------
def safetensors_tensors(g):
    """name -> (array float64, stored dtype code). Insertion order is the RNG order; the
    safetensors file itself lays tensors out by dtype then name, and the reference reads the
    names sorted."""
    t = collections.OrderedDict()
    # dense, several shapes, f32
    t["dense.square_gauss.weight"] = (g.gauss(256, 256), "F32")           # square, Gaussian (alpha large)
    t["dense.square_gauss.bias"] = (g.gauss(256, scale=0.1), "F32")       # 1-D bias: ignored
    t["dense.tall_t3.weight"] = (g.student(300, 100, df=3.0), "F32")       # tall, Student-t df=3
    t["dense.wide_pareto.weight"] = (g.pareto(64, 200, a=2.0), "F32")      # wide, Pareto a=2
    t["dense.wide_t4.weight"] = (g.student(96, 240, df=4.0), "F32")        # wide, Student-t df=4
    t["dense.small_m12.weight"] = (g.gauss(12, 40), "F32")                 # M=12: 8<=M<20 -> small-N fit
    t["dense.small_m8.weight"] = (g.gauss(8, 300), "F32")                  # M=8 = min_evals 8: analysed, small-N fit
    t["dense.m9.weight"] = (g.student(9, 64, df=3.0), "F32")               # M=9: analysed, small-N fit
    t["dense.m10.weight"] = (g.student(10, 64, df=3.0), "F32")             # M=10: analysed, small-N fit
    t["dense.m19.weight"] = (g.student(64, 19, df=3.0), "F32")             # 19 evals: small-N fit (< 20)
    t["dense.m20.weight"] = (g.student(64, 20, df=3.0), "F32")             # 20 evals: standard fit
    t["dense.row1.weight"] = (g.gauss(1, 64), "F32")                       # 1 x K: reference type UNKNOWN, dropped
    t["norm.weight"] = (1.0 + g.gauss(64, scale=0.01), "F32")              # 1-D '.weight' (LayerNorm): dropped
    t["special.rank30.weight"] = (g.low_rank(120, 80, 30), "F32")          # rank 30 of 80 (f32 noise floor)
    vals = np.repeat([0.25, 0.5, 1.0, 1.5, 2.0, 3.0], 8)                   # 48 values, each 8x (exact)
    t["special.dup_diag.weight"] = (g.permuted_diag(64, 48, vals), "F32")  # exact duplicate evals: KS ties
    t["special.dup_kron.weight"] = (g.kron_blocks(4, (20, 12)), "F32")     # 80x48: each sv 4x (to rounding)
    # natural vs string order of names
    t["layers.2.weight"] = (g.student(100, 80, df=3.5), "F32")
    t["layers.10.weight"] = (g.student(80, 100, df=3.5), "F32")
    # reduced / extended precision
    t["dtype.f16.weight"] = (g.student(128, 96, df=3.0), "F16")
    t["dtype.bf16.weight"] = (g.student(96, 160, df=3.0), "BF16")
    t["dtype.f64.weight"] = (g.student(100, 60, df=3.0), "F64")           # reference rounds to f32
    # conv2d (out, in, kh, kw)
    t["conv.k3_out_gt_in.weight"] = (g.student(32, 16, 3, 3, df=3.0, scale=0.1), "F32")
    t["conv.k3_out_gt_in.bias"] = (g.gauss(32, scale=0.1), "F32")
    t["conv.k3_out_lt_in.weight"] = (g.student(16, 32, 3, 3, df=3.0, scale=0.1), "F32")
    t["conv.k1.weight"] = (g.gauss(64, 32, 1, 1), "F32")                   # 1x1 conv
    t["conv.k2_out_lt_in.weight"] = (g.gauss(8, 24, 2, 2), "F32")           # even kh*kw, out<in: N/M swap quirk
    t["conv.k1x3_out_lt_in.weight"] = (g.gauss(12, 20, 1, 3), "F32")       # odd kh*kw (3), out<in
    t["conv.k3_tiny.weight"] = (g.student(2, 5, 3, 3, df=3.0), "F32")      # M=2 but M*rf=18 >= 10: analysed
    t["conv.k5_small_ch.weight"] = (g.gauss(3, 4, 5, 5), "F32")            # out+in < kh+kw: 'channels first' guess
    # integer buffer, not a '.weight': ignored
    t["buffers.position_ids"] = (np.arange(64).reshape(1, 64), "I64")
    return t


def layer_set_tensors(g):
    """Which layers are analysed at all: the size filter at min_evals 8 and the reference's
    conv2d N/M exchange (out < in with an even kh*kw), which moves its filter (docs/spec.md §1,
    docs/compatibility.md). Drawn from its own generator so the other fixtures stay
    byte-identical."""
    t = collections.OrderedDict()
    t["dense.m7.weight"] = (g.student(7, 40, df=3.0), "F32")           # 7 evals < 8: skipped by both
    t["dense.m8.weight"] = (g.student(8, 40, df=3.0), "F32")           # 8 evals: analysed, small-N fit
    t["dense.m9.weight"] = (g.student(30, 9, df=3.0), "F32")           # 9 evals: analysed, small-N fit
    t["conv.k2x2_m8.weight"] = (g.student(2, 8, 2, 2, df=3.0), "F32")  # 8 evals; reference filters on 8*4
    # out < in, even rf: the reference filters on in*rf. 2*2 = 4 evals (< 8, skipped by htsr),
    # 6*2 = 12 there: analysed by the reference only.
    t["conv.k1x2_small.weight"] = (g.student(2, 6, 1, 2, df=3.0), "F32")
    # 4*2 = 8 evals in htsr (analysed); 7501*2 = 15002 > max_evals in the reference (skipped).
    # Stored as F16 to keep the file small (widened exactly to f32 by both tools).
    t["conv.k1x2_wide.weight"] = (g.student(4, 7501, 1, 2, df=3.0, scale=0.02), "F16")
    t["conv.k3x1_odd.weight"] = (g.student(4, 16, 3, 1, df=3.0), "F32")  # odd rf 3: no exchange
    # 3-D (conv1d): the reference's state-dict path types it UNKNOWN (no row); htsr analyses it.
    t["conv1d.k3.weight"] = (g.student(16, 8, 3, df=3.0), "F32")
    return t


def degenerate_tensors(g):
    """Spectra that stress the fit: zeros, exact rank loss, exactly equal eigenvalues."""
    t = collections.OrderedDict()
    t["rank5.weight"] = (g.low_rank(200, 150, 5), "F32")           # 5 evals > 1e-5: small-N fallback
    t["rank1.weight"] = (g.low_rank(50, 30, 1), "F32")             # 1 eval > 1e-5: fit fails
    t["tiny.weight"] = (g.gauss(40, 30, scale=1e-5), "F32")        # all evals < 1e-5: fit fails
    t["zeros.weight"] = (np.zeros((40, 30)), "F32")                # all zero: failed, -inf/NaN norms
    rows = g.gauss(10, 40)
    t["repeated_rows.weight"] = (np.repeat(rows, 6, axis=0), "F32")  # 60x40, exact rank 10: rank_loss 30
    svs = np.abs(g.pareto(25, a=1.5, scale=1.0))                    # 25 heavy-tailed svs, 15 exact zeros
    t["diag_zeros.weight"] = (g.permuted_diag(50, 40, np.concatenate([svs, np.zeros(15)])), "F32")
    t["perm64.weight"] = (g.permuted_diag(64, 64, np.full(64, 0.5)), "F32")   # all 64 evals exactly 0.25
    t["perm16.weight"] = (g.permuted_diag(16, 16, np.full(16, 0.5)), "F32")   # all 16 equal: small-N path
    t["hadamard64.weight"] = (hadamard(64) / 8.0, "F32")   # evals 1 up to rounding: alpha solver-dependent
    return t


def npz_arrays(g):
    a = collections.OrderedDict()
    a["fc1"] = g.student(150, 90, df=3.0).astype(np.float32)     # key gets '.weight' appended
    a["fc2"] = g.gauss(90, 40).astype(np.float32)
    a["conv"] = g.student(24, 12, 3, 3, df=3.0, scale=0.1).astype(np.float32)
    a["f64"] = g.student(120, 70, df=3.5)                         # float64 kept in the file
    a["fc1.bias"] = g.gauss(90, scale=0.1).astype(np.float32)     # ends in .bias: kept as is, ignored
    return a


def npy_array(g):
    return g.pareto(200, 120, a=3.0).astype(np.float32)


def pt_state_dict(g, torch):
    """OrderedDict in module order (not sorted), with views, shared storage, f16/bf16."""
    f = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    sd = collections.OrderedDict()
    emb = f(g.student(400, 32, df=3.0))
    sd["embed.weight"] = emb                                            # N=400, M=32
    sd["layers.2.attn.weight"] = f(g.student(96, 32, df=3.0))
    sd["layers.2.attn.bias"] = f(g.gauss(96, scale=0.1))
    sd["layers.2.norm.weight"] = f(1.0 + g.gauss(32, scale=0.01))       # 1-D '.weight': ignored
    sd["layers.10.mlp.weight"] = f(g.student(128, 32, df=4.0))          # after layers.2 in module order
    big_t = f(g.student(50, 80, df=3.0))
    sd["view.transposed.weight"] = big_t.t()                            # 80x50, strides (1, 80)
    big_rows = f(g.student(100, 40, df=3.0))
    sd["view.row_slice.weight"] = big_rows[10:70]                       # 60x40, storage offset 400
    big_cols = f(g.student(64, 64, df=3.0))
    sd["view.col_slice.weight"] = big_cols[:, 8:40]                     # 64x32, offset 8, strides (64, 1)
    sd["conv.weight"] = f(g.student(16, 8, 3, 3, df=3.0, scale=0.1))
    sd["conv.bias"] = f(g.gauss(16, scale=0.1))
    sd["half.weight"] = f(g.student(64, 48, df=3.0)).to(torch.float16)
    sd["bhalf.weight"] = f(g.student(48, 64, df=3.0)).to(torch.bfloat16)
    sd["lm_head.weight"] = emb                                          # tied: same storage as embed
    sd["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)      # 0-d int buffer: ignored
    return sd


def pt_small_state_dict(g, torch):
    f = lambda x: torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    sd = collections.OrderedDict()
    sd["fc.weight"] = f(g.student(120, 60, df=3.0))
    sd["fc.bias"] = f(g.gauss(120, scale=0.1))
    sd["conv.weight"] = f(g.student(12, 24, 3, 3, df=3.0, scale=0.1))
    sd["out.weight"] = f(g.gauss(10, 120))
    return sd


# ----------------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------------
def write_safetensors(path, tensors, torch):
    from safetensors.torch import save_file
    dt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "F64": torch.float64, "I64": torch.int64}
    out = {}
    for name, (arr, code) in tensors.items():
        if code == "F64":
            out[name] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float64))
        elif code == "I64":
            out[name] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))
        else:  # round to f32 first, then to the narrower type (round-to-nearest-even)
            out[name] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).to(dt[code])
    # one metadata key only: the writer keeps metadata in a hash map, so two keys come out in
    # random order and the file would not be byte-reproducible
    save_file(out, path, metadata={"format": "pt"})


def write_npz(path, arrays):
    """np.savez equivalent with fixed zip timestamps (byte-reproducible)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(v), allow_pickle=False)
            info = zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue())


def save_legacy(sd, path, torch):
    """Legacy torch.save names storages by memory address, so the bytes differ run to run:
    keep an existing file whose tensors are identical."""
    if os.path.exists(path):
        try:
            old = torch.load(path, map_location="cpu")
            if list(old) == list(sd) and all(old[k].dtype == v.dtype and torch.equal(old[k], v)
                                             for k, v in sd.items()):
                return
        except Exception:
            pass
    torch.save(sd, path, _use_new_zipfile_serialization=False)


class _TensorRecorder(pickle.Unpickler):
    """Reads a torch zip checkpoint's data.pkl without torch, recording each tensor's
    (storage key, dtype, storage offset, size, stride) as _rebuild_tensor_v2 receives it."""

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return lambda storage, offset, size, stride, *rest: {
                "storage": storage, "offset": offset, "size": tuple(size), "stride": tuple(stride)}
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch" and name.endswith("Storage"):
            return name
        return super().find_class(module, name)

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel)
        return {"type": pid[1], "key": pid[2], "numel": pid[4]}


def describe_pt_pickle(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl")][0]
        obj = _TensorRecorder(io.BytesIO(z.read(pkl))).load()
    return names, obj


def verify_pt_views(path, torch):
    """Check that torch.save kept the views' whole storages, offsets and strides."""
    names, sd = describe_pt_pickle(path)
    lines = [f"zip entries: {names}"]
    for k, v in sd.items():
        st = v["storage"]
        lines.append(f"{k}: storage key={st['key']} type={st['type']} numel={st['numel']} "
                     f"offset={v['offset']} size={v['size']} stride={v['stride']}")
    t, r, c = sd["view.transposed.weight"], sd["view.row_slice.weight"], sd["view.col_slice.weight"]
    assert t["stride"] == (1, 80) and t["size"] == (80, 50) and t["storage"]["numel"] == 4000, t
    assert r["offset"] == 400 and r["storage"]["numel"] == 4000 and r["size"] == (60, 40), r
    assert c["offset"] == 8 and c["stride"] == (64, 1) and c["storage"]["numel"] == 4096, c
    assert sd["lm_head.weight"]["storage"]["key"] == sd["embed.weight"]["storage"]["key"]
    loaded = torch.load(path, map_location="cpu")
    assert loaded["view.row_slice.weight"].storage_offset() == 400
    assert not loaded["view.transposed.weight"].is_contiguous()
    return lines


# ----------------------------------------------------------------------------------------------
def run_ref(ref, py, fixture, outdir, stem, extra=(), tag=None, evals=True, summary=True):
    os.makedirs(outdir, exist_ok=True)
    base = stem if tag is None else f"{stem}.opt-{tag}"
    cmd = [py, ref, fixture, "--out", os.path.join(outdir, base + ".csv")]
    if evals:
        cmd += ["--evals-out", os.path.join(outdir, base + "_evals.npz")]
    if summary:
        cmd += ["--summary"]
    cmd += list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True)
    rel = lambda s: os.path.relpath(s, REPO) if os.path.isabs(s) and s.startswith(REPO) else s
    shown = " ".join(rel(c) for c in cmd[1:])
    info = [l for l in p.stderr.splitlines() if l.startswith("# ")]
    print(f"[{p.returncode}] {shown}\n   " + "\n   ".join(info), file=sys.stderr)
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-6:])
        with open(os.path.join(outdir, base + ".FAILED.txt"), "w") as fh:
            fh.write(f"command: {shown}\nexit code: {p.returncode}\n--- stderr tail ---\n{tail}\n")
        print("   FAILED:\n" + tail, file=sys.stderr)
        return False
    if summary:
        with open(os.path.join(outdir, base + ".summary.txt"), "w") as fh:
            fh.write("\n".join(l for l in info if l.startswith("# summary")) + "\n")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--ref", default=DEFAULT_REF, help="path to run_ww.py")
    ap.add_argument("--python", default=sys.executable, help="interpreter for run_ww.py")
    ap.add_argument("--no-run", action="store_true", help="write fixtures only")
    a = ap.parse_args()

    import torch

    fx = os.path.join(a.out, "fixtures")
    ex = os.path.join(a.out, "expected")
    os.makedirs(fx, exist_ok=True)
    g = Gen(SEED)

    p_st = os.path.join(fx, "mixed.safetensors")
    write_safetensors(p_st, safetensors_tensors(g), torch)
    p_set = os.path.join(fx, "layer_set.safetensors")
    write_safetensors(p_set, layer_set_tensors(Gen(SEED + 1)), torch)
    p_deg = os.path.join(fx, "degenerate.safetensors")
    write_safetensors(p_deg, degenerate_tensors(g), torch)

    p_npz = os.path.join(fx, "named_arrays.npz")
    write_npz(p_npz, npz_arrays(g))

    p_npy = os.path.join(fx, "single.npy")
    arr = npy_array(g)
    with open(p_npy, "wb") as fh:
        np.lib.format.write_array(fh, arr, allow_pickle=False)
    # run_ww.py does not read .npy: the golden comes from an npz holding the same array under
    # the file stem 'single' (run_ww.py appends '.weight' -> layer name 'single').
    p_npy_wrap = os.path.join(fx, "single_npy_as.npz")
    write_npz(p_npy_wrap, {"single": arr})

    p_pt = os.path.join(fx, "state_dict.pt")
    torch.save(pt_state_dict(g, torch), p_pt)
    small = pt_small_state_dict(g, torch)
    p_nested = os.path.join(fx, "nested_state_dict.pt")
    torch.save({"epoch": 3, "state_dict": small, "note": "nested"}, p_nested)
    p_legacy = os.path.join(fx, "legacy_state_dict.pt")   # pre-1.6 non-zip pickle format
    save_legacy(small, p_legacy, torch)

    lines = verify_pt_views(p_pt, torch)
    with open(os.path.join(fx, "state_dict.pt.layout.txt"), "w") as fh:
        fh.write("# tensors in state_dict.pt as recorded in its data.pkl "
                 "(torch._utils._rebuild_tensor_v2 arguments)\n" + "\n".join(lines) + "\n")

    if a.no_run:
        return
    py, ref = a.python, a.ref
    for path, stem in [(p_st, "mixed"), (p_set, "layer_set"), (p_deg, "degenerate"), (p_npz, "named_arrays"), (p_npy_wrap, "single_npy"),
                       (p_pt, "state_dict"), (p_nested, "nested_state_dict"),
                       (p_legacy, "legacy_state_dict")]:
        run_ref(ref, py, path, ex, stem)

    # reference options, on the safetensors fixture (CSV + evals only where evals change)
    opts = [("clip_xmax", ["--fix-fingers", "clip_xmax"]),
            ("xmin_peak", ["--fix-fingers", "xmin_peak"]),
            ("xmax-3", ["--xmax", "-3"]),
            ("mp_fit", ["--mp-fit"]),
            ("detX", ["--detX"]),
            ("randomize_seed0", ["--randomize", "--seed", "0"]),
            ("no_pool", ["--no-pool"])]
    for tag, extra in opts:
        run_ref(ref, py, p_st, ex, "mixed", extra, tag=tag, evals=False)
    # f64 kept as f64 (no rounding to f32): only differs on the f64 layer
    run_ref(ref, py, p_npz, ex, "named_arrays", ["--keep-dtype"], tag="keep_dtype", evals=True)


if __name__ == "__main__":
    main()
