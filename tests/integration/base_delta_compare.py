#!/usr/bin/env python3
"""`htsr analyze MODEL --base BASE` vs weightwatcher 0.7.7 on real weights.

The fixtures (three layers of all-MiniLM-L6-v2 and a copy changed by a rank-8 update plus
noise) and the reference's outputs are committed in tests/data/real/delta/ by
tests/tools/make_delta_fixtures.py, so no oracle is needed here. Checks, per layer:
  * the delta rows: every column of analyze(model, base_model=base), golden_compare's
    tolerances (RTOL_FIT for the fit, RTOL_METRIC for the rest);
  * dist_euclidean, dist_cka: distances(model, base, method=...)'s delta_W. The reference
    multiplies and sums in float32, htsr in float64 from the same float32 values, so they
    agree to float32 accumulation error: RTOL_DIST;
  * delta_alpha, delta_log_norm, delta_log_spectral_norm: the reference's analyze() of each
    model alone, differenced; the tolerance is the metric's own, on the two terms (a small
    difference of two large numbers has no relative precision of its own);
  * dist_frobenius = dist_euclidean for dense layers (one reference slice), and
    dist_relative = dist_frobenius / ||W_base||_F, where ||W_base||_F^2 is the reference's
    'norm' column of the base.

    base_delta_compare.py HTSR_BIN [--report]   (--report prints max relative errors)
"""
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden_compare import ATOL, RTOL_FIT, RTOL_METRIC, compare, read_csv  # noqa: E402

DATA = os.path.join(HERE, "..", "data", "real", "delta")
RTOL_DIST = 1e-5


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return read_csv(f.read())


def by_name(rows):
    return {r["name"]: r for r in rows}


def main():
    htsr = sys.argv[1]
    report = "--report" in sys.argv
    r = subprocess.run([htsr, "analyze", os.path.join(DATA, "finetuned.safetensors"), "--base",
                        os.path.join(DATA, "base.safetensors"), "--format", "csv", "--quiet"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"htsr exited {r.returncode}: {r.stderr.strip()}")
        return 1
    ours = read_csv(r.stdout)
    ref = load("base_deltas.csv")
    # The delta rows: the reference's own columns (the extra dist_/delta_ ones are htsr's).
    errors = compare([{k: v for k, v in row.items() if not k.startswith(("dist_", "delta_"))}
                      for row in ours], ref, "base_deltas")
    mine = by_name(ours)
    worst = {}

    def check(name, col, got, want, rtol, scale=None):
        got, want = float(got), float(want)
        scale = abs(want) if scale is None else scale
        err = abs(got - want)
        rel = err / max(scale, 1e-300)
        worst[col] = max(worst.get(col, 0.0), rel)
        if err > ATOL + rtol * scale:
            errors.append(f"{name}: {col} {got!r} != reference {want!r} (rel {rel:.2e})")

    for method in ("euclidean", "cka"):
        for row in load(f"distances_{method}.csv"):
            if row["name"] not in mine:
                errors.append(f"{row['name']}: no htsr row")
                continue
            check(row["name"], f"dist_{method}", mine[row["name"]][f"dist_{method}"],
                  row["delta_W"], RTOL_DIST)
    tuned, base = by_name(load("finetuned.csv")), by_name(load("base.csv"))
    for name, b in base.items():
        t, o = tuned[name], mine[name]
        for col in ("alpha", "log_norm", "log_spectral_norm"):
            rtol = RTOL_FIT if col == "alpha" else RTOL_METRIC
            scale = abs(float(t[col])) + abs(float(b[col]))
            check(name, f"delta_{col}", o[f"delta_{col}"], float(t[col]) - float(b[col]), rtol,
                  scale)
        # Closed forms from the same numbers: a dense layer is one reference slice, and the
        # reference's 'norm' column is ||W||_F^2.
        check(name, "dist_frobenius", o["dist_frobenius"], o["dist_euclidean"], 1e-12)
        base_fro = math.sqrt(float(b["norm"]))
        check(name, "dist_relative", o["dist_relative"], float(o["dist_frobenius"]) / base_fro,
              RTOL_METRIC)
    for e in errors:
        print(e)
    if report:
        for row in ref:
            for col, want in row.items():
                try:
                    w, g = float(want), float(mine[row["name"]][col])
                except (ValueError, KeyError):
                    continue
                rel = abs(g - w) / max(abs(w), 1e-300) if g != w else 0.0
                worst[f"row {col}"] = max(worst.get(f"row {col}", 0.0), rel)
    if report or errors:
        for col, rel in sorted(worst.items()):
            print(f"max relative error {col}: {rel:.2e}")
    print(f"base deltas: {len(ref)} reference layers, {len(errors)} mismatches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
