#!/usr/bin/env python3
"""Compares `htsr analyze --format csv` with the reference tool's golden CSVs, layer by name.

The goldens were produced by weightwatcher 0.7.7 (tests/data/README.md says exactly how), so
this checks htsr against numbers computed independently. Stdlib only: CI needs no numpy.

    golden_compare.py HTSR_BIN CASE   (CASE names an entry of CASES; 'list' prints them)

Tolerances (docs/spec.md §2-4): our eigenvalues come from a different solver (Gram + syevd vs gesdd)
and agree to ~1e-12 relative, so fit results agree far inside RTOL_FIT; metrics whose value
sums many eigenvalues raised to alpha get RTOL_METRIC.
"""
import csv
import io
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
FIX = os.path.join(DATA, "synthetic", "fixtures")
EXP = os.path.join(DATA, "synthetic", "expected")

RTOL_FIT = 1e-7      # alpha, D, xmin, xmax, sigma, alpha_weighted
RTOL_METRIC = 1e-6   # everything else that is a float
ATOL = 1e-12

# Integer or label columns that must match exactly.
EXACT = {"layer_type", "N", "M", "rf", "num_evals", "num_pl_spikes", "matrix_rank",
         "rank_loss", "weak_rank_loss", "has_esd", "num_fingers", "num_spikes", "detX_num",
         "rand_num_spikes", "num_traps", "num_ERG_spikes"}
FIT = {"alpha", "D", "xmin", "xmax", "sigma", "alpha_weighted", "raw_alpha"}
IGNORED = {"layer_id", "longname", "name", "status", "warning", "Q"}

# Columns where the reference is wrong and htsr deliberately differs (docs/compatibility.md).
# Each entry: (layer name, column) -> function(ours_row, ref_row) -> bool (True = acceptable).
def swapped_nm(ours, ref, col):
    other = {"N": "M", "M": "N"}[col]
    return ours[col] == ref[other]

# The MP bulk edge depends on Q = N/M; where the reference swapped N and M (conv2d with
# out < in and even kh*kw, or its "channels first" guess) its MP columns use the wrong Q.
MP_COLUMNS = {"sigma_mp", "mp_softrank", "num_spikes", "bulk_max", "bulk_min"}

# Spectra whose fit is decided by rounding: every eigenvalue equal up to the last bits
# (alpha ~ 1e15 or inf). Only the status is meaningful there.
# special.dup_kron: every eigenvalue is 4-fold degenerate in exact arithmetic; how the
# solver's rounding splits the top group decides which tiny-tail candidate wins the KS scan.
SOLVER_DEPENDENT = {"hadamard64", "perm64", "special.dup_kron"}

CASES = {
    "mixed": ("mixed.safetensors", "mixed.csv", []),
    # Which layers are analysed at all (tests/data/README.md, layer_set): with the defaults
    # htsr differs from the reference exactly where docs/compatibility.md says (SET_DEVIATIONS);
    # --reference-layer-set reproduces the reference's set.
    "layer_set": ("layer_set.safetensors", "layer_set.csv", []),
    "layer_set_reference": ("layer_set.safetensors", "layer_set.csv", ["--reference-layer-set"]),
    "degenerate": ("degenerate.safetensors", "degenerate.csv", []),
    "named_arrays": ("named_arrays.npz", "named_arrays.csv", []),
    "single_npy": ("single.npy", "single_npy.csv", []),
    "state_dict": ("state_dict.pt", "state_dict.csv", []),
    "nested_state_dict": ("nested_state_dict.pt", "nested_state_dict.csv", []),
    "legacy_state_dict": ("legacy_state_dict.pt", "legacy_state_dict.csv", []),
    "mixed_clip_xmax": ("mixed.safetensors", "mixed.opt-clip_xmax.csv", ["--fix-fingers", "clip_xmax"]),
    "mixed_xmax3": ("mixed.safetensors", "mixed.opt-xmax-3.csv", ["--xmax", "-3"]),
    "mixed_mp_fit": ("mixed.safetensors", "mixed.opt-mp_fit.csv", ["--mp-fit"]),
    "mixed_detx": ("mixed.safetensors", "mixed.opt-detX.csv", ["--detx"]),
    # The shuffle is seeded but is not numpy's generator: columns of the randomized
    # spectrum are checked for presence only; everything else must still match.
    "mixed_randomize": ("mixed.safetensors", "mixed.opt-randomize_seed0.csv", ["--randomize"]),
    # Real O-Net/MiniLM weights saved by Keras 3; the golden is weightwatcher 0.7.7 on the model
    # loaded with tf.keras (tests/tools/make_keras_fixtures.py --reference).
    "keras_real": ("../../readers/keras/real.keras", "../../readers/keras/real.ww.csv", []),
}

# Layers that htsr analyses and the reference does not, or the reverse, with the defaults
# (docs/compatibility.md): name -> which side analyses it. Every other difference in the set
# of analysed layers is an error, in every case.
SET_DEVIATIONS = {
    "layer_set": {
        "conv.k1x2_small": "reference",  # its exchanged M: 6*2 = 12 evals in its filter, 4 in ours
        "conv.k1x2_wide": "htsr",        # its exchanged M: 7501*2 > max_evals; 8 evals in ours
        "conv1d.k3": "htsr",             # 3-D: the reference does not analyse it
    },
    "keras_real": {
        # Keras Conv1D (k, in, out): the reference takes the whole kernel with M = k and drops
        # it; htsr analyses it as k slices (docs/compatibility.md, Keras row).
        "conv1d_from_conv2": "htsr",
    },
}

# Columns computed from a random shuffle of the weights.
RANDOM_COLUMNS = {"max_rand_eval", "num_traps", "rand_W_scale", "rand_bulk_max", "rand_bulk_min",
                  "rand_distance", "rand_mp_softrank", "rand_num_spikes", "rand_sigma_mp",
                  "ww_maxdist", "ww_softrank"}


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def as_float(s):
    if s == "" or s is None:
        return math.nan
    return float(s)


def close(a, b, rtol):
    if math.isnan(a) and math.isnan(b):
        return True
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= ATOL + rtol * max(abs(a), abs(b))


def compare_layer_sets(ours, ref, label, allowed):
    """The set of analysed layers, both ways: a layer the reference has a row for must be
    analysed by htsr, and a layer htsr analysed must have a reference row, except for the
    documented deviations in `allowed` (name -> "htsr" or "reference": who analyses it)."""
    errors = []
    ours_set = {r["name"] for r in ours if r["status"] != "skipped"}
    ref_set = {r["name"] for r in ref}
    reasons = {r["name"]: r.get("reason") for r in ours}
    for name in sorted(ref_set - ours_set):
        if allowed.get(name) == "reference":
            continue
        why = reasons.get(name)
        errors.append(f"{label}: {name}: reference analysed it, htsr "
                      + (f"skipped it: {why}" if name in reasons else "has no row"))
    for name in sorted(ours_set - ref_set):
        if allowed.get(name) == "htsr":
            continue
        errors.append(f"{label}: {name}: htsr analysed it, the reference has no row")
    for name, side in sorted(allowed.items()):
        occurred = (name in ours_set and name not in ref_set) if side == "htsr" else \
                   (name in ref_set and name not in ours_set)
        if not occurred:
            errors.append(f"{label}: {name}: documented set deviation ({side} only) did not occur")
    return errors


def compare(ours, ref, label, allowed=None):
    errors = compare_layer_sets(ours, ref, label, allowed or {})
    ours_by = {r["name"]: r for r in ours}
    ref_by = {r["name"]: r for r in ref}
    for name, rr in ref_by.items():
        o = ours_by.get(name)
        if o is None or o["status"] == "skipped":
            continue  # reported by compare_layer_sets
        # Status: the reference labels failed fits 'over-trained'; we say 'failed'.
        if rr["status"] != o["status"]:
            errors.append(f"{label}: {name}: status {o['status']} != reference {rr['status']}")
            continue
        if name in SOLVER_DEPENDENT:
            continue
        if rr["status"] == "failed":
            cols = ["N", "M", "rf", "num_evals"]
        else:
            cols = [c for c in rr.keys() if c not in IGNORED]
            ref_warn = rr["warning"]
            if o["warning"] != ref_warn:
                errors.append(f"{label}: {name}: warning '{o['warning']}' != reference '{ref_warn}'")
        if o.get("Q") and rr.get("Q") and float(o["Q"]) != float(rr["Q"]):
            cols = [c for c in cols if c not in MP_COLUMNS]
        for col in cols:
            if col not in o:
                errors.append(f"{label}: {name}: column {col} missing from htsr output")
                continue
            a, b = o[col], rr[col]
            if col in RANDOM_COLUMNS:
                if (a == "") != (b == ""):
                    errors.append(f"{label}: {name}: {col} present in one output only")
                continue
            if col in ("N", "M") and a != b and swapped_nm(o, rr, col):
                continue  # reference swaps N and M for conv2d with out < in and even kh*kw
            if col in EXACT:
                try:
                    ok = (a == "" and b == "") or (a != "" and b != "" and float(a) == float(b))
                except ValueError:  # labels (layer_type, True/False)
                    # Keras Embedding: the reference says 'embedding', htsr 'dense' (compatibility.md)
                    ok = a == b or (col == "layer_type" and (a, b) == ("dense", "embedding"))
                if not ok:
                    errors.append(f"{label}: {name}: {col} {a!r} != reference {b!r}")
                continue
            fa, fb = as_float(a), as_float(b)
            rtol = RTOL_FIT if col in FIT else RTOL_METRIC
            if not close(fa, fb, rtol):
                rel = abs(fa - fb) / max(abs(fb), 1e-300)
                errors.append(f"{label}: {name}: {col} {a} != reference {b} (rel {rel:.2e})")
    return errors


def run_case(htsr, case):
    fixture, golden, extra = CASES[case]
    cmd = [htsr, "analyze", os.path.join(FIX, fixture), "--format", "csv", "--quiet"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        print(f"{case}: htsr exited {p.returncode}: {p.stderr.strip()}")
        return 1
    with open(os.path.join(EXP, golden)) as f:
        ref = read_csv(f.read())
    errors = compare(read_csv(p.stdout), ref, case, SET_DEVIATIONS.get(case))
    for e in errors:
        print(e)
    n = len(ref)
    print(f"{case}: {n} reference layers, {len(errors)} mismatches")
    return 1 if errors else 0


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "list":
        print("\n".join(CASES))
        return 0
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__)
        return 2
    return run_case(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
