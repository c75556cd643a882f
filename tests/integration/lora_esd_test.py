#!/usr/bin/env python3
"""LoRA adapters, --save-esd and --plot, end to end through the htsr binary.

    lora_esd_test.py HTSR_BIN

1. tests/data/lora/minilm_r8 (tests/tools/make_lora_fixtures.py) against weightwatcher
   0.7.7's analyze(peft=True) golden, layer by name (golden_compare.compare); its spectra
   (--save-esd) against numpy's eigvalsh of the formed update.
2. tests/data/lora/closed_form: 8 nonzero eigenvalues, exactly 2 k^2.
3. Adapters that lie (config r, target_modules), factors that do not chain, a missing B,
   a config that is not JSON: a failed row naming the layer, or a clear error.
4. --save-esd on a plain checkpoint: .npy (float64, ascending) = the CSV's lambda_max and
   num_evals = numpy's eigvalsh of the fixture's weights; the JSON index.
5. --plot: one well-formed SVG per analysed layer naming it; linear ones with --mp-fit.
Needs numpy (exit 77 = skip without it).
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

try:
    import numpy as np
except ImportError:
    print("numpy not installed: skipped")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import golden_compare  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from safetensors_writer import read_safetensors_raw, write_safetensors_raw  # noqa: E402

DATA = os.path.join(HERE, "..", "data")
LORA = os.path.join(DATA, "lora")
MIXED = os.path.join(DATA, "synthetic", "fixtures", "mixed.safetensors")
ERRORS = []


def check(cond, msg):
    if not cond:
        ERRORS.append(msg)


def run(htsr, *args):
    p = subprocess.run([htsr, "analyze", *args, "--format", "csv", "--quiet"],
                       capture_output=True, text=True)
    return p, list(csv.DictReader(io.StringIO(p.stdout)))


def read_safetensors(path):
    """name -> array of every F32/F64/F16 tensor (read with the stdlib reader, not htsr's)."""
    kinds = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}
    return {k: np.frombuffer(raw, dtype=kinds[dtype]).reshape(shape)
            for k, (dtype, shape, raw) in read_safetensors_raw(path).items() if dtype in kinds}


def write_safetensors(path, tensors):
    write_safetensors_raw(path, [(k, "F32", list(v.shape),
                                  np.ascontiguousarray(v, dtype="<f4").tobytes())
                                 for k, v in tensors.items()])


def adapter(dirname, tensors, config_text):
    os.makedirs(dirname, exist_ok=True)
    write_safetensors(os.path.join(dirname, "adapter_model.safetensors"), tensors)
    with open(os.path.join(dirname, "adapter_config.json"), "w") as f:
        f.write(config_text)
    return dirname


def golden(htsr, tmp):
    esd = os.path.join(tmp, "esd_lora")
    p, ours = run(htsr, os.path.join(LORA, "minilm_r8"), "--save-esd", esd)
    check(p.returncode == 0, f"minilm_r8: exit {p.returncode}: {p.stderr}")
    with open(os.path.join(LORA, "expected", "minilm_r8.csv")) as f:
        ref = list(csv.DictReader(f))
    for r in ref:
        r.pop("peft", None)  # the reference's marker column for LoRA rows
    errs = golden_compare.compare(ours, ref, "minilm_r8")
    ERRORS.extend(errs)
    print(f"minilm_r8: {len(ref)} reference layers, {len(errs)} mismatches")
    for r in ours:
        ref_row = next(x for x in ref if x["name"] == r["name"])
        print(f"  {r['name']}: alpha {r['alpha']} (ref {ref_row['alpha']}), lambda_max "
              f"{r['lambda_max']} (ref {ref_row['lambda_max']})")
    # Spectra: the r nonzero eigenvalues numpy finds in the formed update (float64 eigvalsh).
    expected = np.load(os.path.join(LORA, "expected", "minilm_r8_evals.npz"))
    index = json.load(open(os.path.join(esd, "minilm_r8.esd.json")))
    by_name = {layer["name"]: layer for layer in index["layers"]}
    for name in expected.files:
        layer = by_name.get(name)
        check(layer is not None, f"--save-esd: no spectrum for {name}")
        if layer is None:
            continue
        got = np.load(os.path.join(esd, layer["file"]))
        want = expected[name][-8:]
        check(got.dtype == np.float64 and got.shape == (8,), f"{name}: npy {got.dtype} {got.shape}")
        check(np.allclose(got, want, rtol=1e-9, atol=0), f"{name}: {got} != numpy {want}")
        check(layer["N"] == max(int(layer["N"]), int(layer["M"])), f"{name}: N/M")


def closed_form(htsr, tmp):
    esd = os.path.join(tmp, "esd_cf")
    p, rows = run(htsr, os.path.join(LORA, "closed_form"), "--save-esd", esd)
    check(len(rows) == 1, f"closed_form: {len(rows)} rows: {p.stderr}")
    if not rows:
        return
    r = rows[0]
    check(r["name"] == "base_model.model.block.proj.lora_BA", f"closed_form name {r['name']}")
    check((r["N"], r["M"], r["num_evals"]) == ("64", "16", "8"), f"closed_form N/M/evals {r}")
    check(abs(float(r["lambda_max"]) - 128) < 1e-12, f"closed_form lambda_max {r['lambda_max']}")
    got = np.load(os.path.join(esd, "closed_form.layer1.base_model.model.block.proj.lora_BA.npy"))
    want = 2.0 * np.arange(1, 9) ** 2
    check(np.max(np.abs(got - want) / want) < 1e-13, f"closed_form evals {got} != {want}")


def bad_inputs(htsr, tmp):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((8, 32)).astype(np.float32)
    B = rng.standard_normal((24, 8)).astype(np.float32)
    pre = "base_model.model.enc."
    good_cfg = '{"r": 8, "lora_alpha": 16, "target_modules": ["q", "v"]}'
    cases = [
        # (name, tensors, config, expected failing layer or None for a model error, text)
        ("rank_lie", {pre + "q.lora_A.weight": A, pre + "q.lora_B.weight": B},
         '{"r": 16, "lora_alpha": 16, "target_modules": ["q"]}', "q", "r = 16"),
        ("target_lie", {pre + "k.lora_A.weight": A, pre + "k.lora_B.weight": B}, good_cfg, "k",
         "target_modules"),
        ("mismatch", {pre + "q.lora_A.weight": A, pre + "q.lora_B.weight": B[:, :6]}, good_cfg, "q",
         "inner dimensions"),
        ("missing_b", {pre + "v.lora_A.weight": A}, good_cfg, "v", "lora_B is missing"),
        ("not_json", {pre + "q.lora_A.weight": A, pre + "q.lora_B.weight": B}, "{r: 8,", None,
         "not valid JSON"),
    ]
    for name, tensors, cfg, layer, text in cases:
        d = adapter(os.path.join(tmp, name), tensors, cfg)
        p, rows = run(htsr, d)
        if layer is None:
            check(p.returncode == 2 and "adapter_config.json" in p.stderr and text in p.stderr,
                  f"{name}: exit {p.returncode}, stderr {p.stderr!r}")
            continue
        row = next((r for r in rows if r["name"] == pre + layer + ".lora_BA"), None)
        check(row is not None and row["status"] == "failed" and text in row["reason"],
              f"{name}: row {row}, stderr {p.stderr!r}")
        check(p.returncode == 1 and (pre + layer) in p.stderr, f"{name}: exit {p.returncode}")
    # The good pair next to a bad one still gets its row.
    d = adapter(os.path.join(tmp, "mixed_good_bad"),
                {pre + "q.lora_A.weight": A, pre + "q.lora_B.weight": B, pre + "v.lora_A.weight": A},
                good_cfg)
    p, rows = run(htsr, d)
    st = {r["name"]: r["status"] for r in rows}
    check(st.get(pre + "q.lora_BA") == "success" and st.get(pre + "v.lora_BA") == "failed",
          f"mixed_good_bad: {st}")


def save_esd_plain(htsr, tmp):
    esd = os.path.join(tmp, "esd_mixed")
    p, rows = run(htsr, MIXED, "--save-esd", esd)
    check(p.returncode in (0, 1), f"mixed: exit {p.returncode}: {p.stderr}")
    index = json.load(open(os.path.join(esd, "mixed.safetensors.esd.json")))
    check(index["options"]["min_evals"] == 8 and index["options"]["fit"] == "pl",
          f"options {index['options']}")
    weights = read_safetensors(MIXED)
    by_name = {r["name"]: r for r in rows}
    analysed = [r for r in rows if r["status"] != "skipped"]
    check(len(index["layers"]) == len(analysed),
          f"index has {len(index['layers'])} layers, CSV {len(analysed)} analysed")
    checked = 0
    for layer in index["layers"]:
        ev = np.load(os.path.join(esd, layer["file"]))
        row = by_name[layer["name"]]
        check(ev.dtype == np.float64 and np.all(np.diff(ev) >= 0), f"{layer['file']}: not ascending")
        check(len(ev) == int(row["num_evals"]) == layer["num_evals"],
              f"{layer['name']}: {len(ev)} evals, CSV {row['num_evals']}")
        check(abs(ev[-1] - float(row["lambda_max"])) <= 1e-12 * ev[-1],
              f"{layer['name']}: npy max {ev[-1]} != CSV lambda_max {row['lambda_max']}")
        w = weights.get(layer["tensor_name"])
        if w is not None and w.ndim == 2:
            w = w.astype(np.float32).astype(np.float64)
            small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
            want = np.linalg.eigvalsh(small)
            tol = 1e-9 * want[-1]
            check(np.max(np.abs(ev - want)) <= tol, f"{layer['name']}: npy != numpy eigvalsh")
            checked += 1
    check(checked >= 2, f"only {checked} dense layers checked against numpy")
    print(f"--save-esd: {len(index['layers'])} spectra, {checked} checked against numpy eigvalsh")


def plots(htsr, tmp):
    out = os.path.join(tmp, "plots")
    p, rows = run(htsr, MIXED, "--plot", out, "--mp-fit")
    analysed = [r for r in rows if r["status"] != "skipped"]
    files = sorted(os.listdir(out))
    log_files = [f for f in files if f.endswith(".esd.svg")]
    lin_files = [f for f in files if f.endswith(".esd_linear.svg")]
    check(len(log_files) == len(analysed), f"{len(log_files)} SVGs for {len(analysed)} layers")
    check(len(lin_files) == len(analysed), f"{len(lin_files)} linear SVGs with --mp-fit")
    for r in analysed:
        f = next((f for f in log_files if f".layer{r['layer_id']}." in f), None)
        check(f is not None, f"no SVG for layer {r['layer_id']}")
        if f is None:
            continue
        text = open(os.path.join(out, f)).read()
        root = ET.fromstring(text)  # well-formed XML
        check(root.tag.endswith("svg"), f"{f}: root {root.tag}")
        check(r["name"] in text, f"{f}: does not name {r['name']}")
    print(f"--plot: {len(log_files)} + {len(lin_files)} SVGs")


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    htsr = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="htsr_lora_")
    try:
        golden(htsr, tmp)
        closed_form(htsr, tmp)
        bad_inputs(htsr, tmp)
        save_esd_plain(htsr, tmp)
        plots(htsr, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for e in ERRORS:
        print("FAIL:", e)
    print(f"{len(ERRORS)} failures")
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
