#!/usr/bin/env python3
"""`htsr analyze ADAPTER --base BASE`: a LoRA adapter with the base it updates.

    lora_base_test.py HTSR_BIN [HTSR_SERVER_BIN] [--report]

Fixtures and goldens: tests/tools/make_lora_base_fixtures.py (committed; no oracle here).
1. tests/data/lora/minilm_delta_r8 on three real all-MiniLM-L6-v2 layers
   (tests/data/real/delta/base.safetensors):
   * the update rows equal `htsr analyze ADAPTER` without a base, column by column;
   * delta_alpha, delta_log_norm, delta_log_spectral_norm equal weightwatcher 0.7.7's
     analyze() of the merged model minus its analyze() of the base (tolerance of each metric
     on the two terms, as tests/integration/base_delta_compare.py);
   * dist_euclidean, dist_cka equal its distances(merged, base) to float32 accumulation
     (RTOL_DIST); dist_frobenius equals ||s B A||_F computed here from the factors in float64,
     dist_relative that over ||W_base||_F computed here.
2. tests/data/lora/closed_form with closed_form_base.safetensors: W + s B A has eigenvalues
   2 k^2 (k = 1..8) and j^2 (j = 9..16), the update is orthogonal to W, so delta_log_norm,
   delta_log_spectral_norm (0), dist_frobenius, dist_relative and dist_cka are closed forms.
3. closed_form_fan_in with the base stored transposed: the same numbers as 2.
4. Bad bases: a module the base lacks and a base weight of the wrong shape are skipped rows
   naming the weight; an adapter on a base with no adapted weight at all still runs, every
   row skipped with its reason; a base that does not exist is an error naming it.
5. A scan manifest row with an adapter and a base column stores the same rows.
6. With HTSR_SERVER_BIN: remote mode (--server) prints embedded mode's CSV byte for byte, for
   the adapter alone and with its base (the factors travel, the server solves r x r).
Pure Python (no numpy): the checks must run wherever the suite runs.
"""
import csv
import io
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from golden_compare import ATOL, RTOL_FIT, RTOL_METRIC  # noqa: E402
from local_server import local_server  # noqa: E402
from safetensors_writer import read_safetensors_raw, write_safetensors  # noqa: E402

DATA = os.path.join(HERE, "..", "data")
LORA = os.path.join(DATA, "lora")
EXP = os.path.join(LORA, "expected")
BASE = os.path.join(DATA, "real", "delta", "base.safetensors")
PREFIX = "base_model.model."
RTOL_DIST = 1e-5
ERRORS = []
WORST = {}


def check(cond, msg):
    if not cond:
        ERRORS.append(msg)


def near(label, got, want, rtol, scale=None):
    got, want = float(got), float(want)
    scale = abs(want) if scale is None else scale
    err = abs(got - want)
    WORST[label.split(": ")[-1]] = max(WORST.get(label.split(": ")[-1], 0.0),
                                       err / max(scale, 1e-300))
    check(err <= ATOL + rtol * scale, f"{label}: {got!r} != {want!r} (rel {err / max(scale, 1e-300):.2e})")


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def analyze(htsr, *args):
    p = subprocess.run([htsr, "analyze", *args, "--format", "csv", "--quiet"],
                       capture_output=True, text=True)
    return p, (rows_of(p.stdout) if p.returncode == 0 else [])


def read_csv_file(path):
    with open(path) as f:
        return {r["name"]: r for r in csv.DictReader(f)}


def read_safetensors(path):
    """name -> (shape, flat list of floats); F32 only (what the fixtures hold)."""
    out = {}
    for name, (dtype, shape, raw) in read_safetensors_raw(path).items():
        assert dtype == "F32", name
        out[name] = (shape, list(struct.unpack(f"<{len(raw) // 4}f", raw)))
    return out


def low_rank_frobenius(a, b, r, n_in, n_out, scale):
    """||s B A||_F from the factors: s sqrt(sum_ij (B^T B)_ij (A A^T)_ij), float64."""
    total = 0.0
    for i in range(r):
        for j in range(r):
            gb = math.fsum(b[k * r + i] * b[k * r + j] for k in range(n_out))
            ga = math.fsum(a[i * n_in + k] * a[j * n_in + k] for k in range(n_in))
            total += gb * ga
    return abs(scale) * math.sqrt(total)


def minilm(htsr):
    adapter = os.path.join(LORA, "minilm_delta_r8")
    p, ours = analyze(htsr, adapter, "--base", BASE)
    check(p.returncode == 0, f"analyze adapter --base: rc {p.returncode}: {p.stderr.strip()}")
    _, alone = analyze(htsr, adapter)
    alone = {r["name"]: r for r in alone}
    merged, base = read_csv_file(os.path.join(EXP, "minilm_delta_merged.csv")), read_csv_file(
        os.path.join(DATA, "real", "delta", "base.csv"))
    dist = {m: read_csv_file(os.path.join(EXP, f"minilm_delta_distances_{m}.csv"))
            for m in ("euclidean", "cka")}
    with open(os.path.join(adapter, "adapter_config.json")) as f:
        config = json.load(f)
    scale = config["lora_alpha"] / config["r"]
    factors = read_safetensors(os.path.join(adapter, "adapter_model.safetensors"))
    base_w = read_safetensors(BASE)
    check(len(ours) == len(base) == 3, f"3 update rows, one per adapted layer (got {len(ours)})")
    for row in ours:
        name = row["name"]
        check(name.startswith(PREFIX) and name.endswith(".lora_BA"), f"row name {name}")
        module = name[len(PREFIX):-len(".lora_BA")]
        # The update rows are the adapter's own, with or without a base.
        for col, want in alone.get(name, {}).items():
            check(row[col] == want, f"{name}: {col} {row[col]!r} differs from the run without "
                                    f"a base ({want!r})")
        t, b = merged[module], base[module]
        for col in ("alpha", "log_norm", "log_spectral_norm"):
            rtol = RTOL_FIT if col == "alpha" else RTOL_METRIC
            near(f"{name}: delta_{col}", row[f"delta_{col}"], float(t[col]) - float(b[col]), rtol,
                 abs(float(t[col])) + abs(float(b[col])))
        for m in ("euclidean", "cka"):
            near(f"{name}: dist_{m}", row[f"dist_{m}"], dist[m][module]["delta_W"], RTOL_DIST)
        (r, n_in), a = factors[f"{PREFIX}{module}.lora_A.weight"]
        (n_out, _), bb = factors[f"{PREFIX}{module}.lora_B.weight"]
        fro = low_rank_frobenius(a, bb, r, n_in, n_out, scale)
        near(f"{name}: dist_frobenius", row["dist_frobenius"], fro, 1e-12)
        base_fro = math.sqrt(math.fsum(x * x for x in base_w[module + ".weight"][1]))
        near(f"{name}: dist_relative", row["dist_relative"], fro / base_fro, 1e-12)


def closed_form(htsr, adapter, base, label):
    p, ours = analyze(htsr, os.path.join(LORA, adapter), "--base", os.path.join(LORA, base))
    check(p.returncode == 0 and len(ours) == 1,
          f"{label}: one row (rc {p.returncode}: {p.stderr.strip()})")
    if not ours:
        return None
    row = ours[0]
    upd = [2.0 * k * k for k in range(1, 9)]   # eigenvalues of the update: (sqrt(2) k)^2
    own = [float(j * j) for j in range(9, 17)]  # of the base: j^2
    check(row["status"] == "success" and int(row["num_evals"]) == 8,
          f"{label}: the update row has its 8 eigenvalues ({row['status']}, {row['num_evals']})")
    near(f"{label}: lambda_max", row["lambda_max"], max(upd), 1e-6)
    near(f"{label}: delta_log_norm", row["delta_log_norm"],
         math.log10(sum(upd) + sum(own)) - math.log10(sum(own)), 1e-6, 1.0)
    near(f"{label}: delta_log_spectral_norm", row["delta_log_spectral_norm"], 0.0, 1e-6, 1.0)
    near(f"{label}: dist_frobenius", row["dist_frobenius"], math.sqrt(sum(upd)), 1e-6)
    near(f"{label}: dist_relative", row["dist_relative"], math.sqrt(sum(upd) / sum(own)), 1e-6)
    near(f"{label}: dist_euclidean", row["dist_euclidean"], math.sqrt(sum(upd)), 1e-6)
    # Uncentred CKA ||M^T W|| / sqrt(||M^T M|| ||W W^T||): the update is orthogonal to W, so
    # M^T W = W^T W, whose Frobenius norm is sqrt(sum j^4).
    w4 = math.sqrt(sum(x * x for x in own))
    m4 = math.sqrt(sum(x * x for x in upd + own))
    near(f"{label}: dist_cka", row["dist_cka"], w4 / math.sqrt(m4 * w4), 1e-6)
    return row


def bad_bases(htsr, tmp):
    adapter = os.path.join(LORA, "minilm_delta_r8")
    fake = os.path.join(tmp, "partial.safetensors")
    # The query weight missing, the value weight of the wrong shape, the dense weight right.
    real = read_safetensors(BASE)
    dense = "encoder.layer.0.intermediate.dense.weight"
    write_safetensors(fake, [("encoder.layer.0.attention.self.value.weight", [384, 383],
                              [0.0] * (384 * 383)),
                             (dense, real[dense][0], real[dense][1])])
    p, got = analyze(htsr, adapter, "--base", fake)
    got = {r["name"][len(PREFIX):-len(".lora_BA")]: r for r in got}
    q = got.get("encoder.layer.0.attention.self.query", {})
    check(q.get("status") == "skipped" and
          "encoder.layer.0.attention.self.query.weight" in q.get("reason", ""),
          f"a module the base lacks: a skipped row naming the weight ({q.get('reason')})")
    v = got.get("encoder.layer.0.attention.self.value", {})
    check(v.get("status") == "skipped" and "[384, 383]" in v.get("reason", "") and
          "[384, 384]" in v.get("reason", ""),
          f"a base weight of another shape: skipped, naming both shapes ({v.get('reason')})")
    d = got.get("encoder.layer.0.intermediate.dense", {})
    check(d.get("status") == "success" and d.get("dist_cka"),
          f"the one paired module is analysed with its distances ({d.get('status')})")
    p, got = analyze(htsr, adapter, "--base", os.path.join(LORA, "closed_form_base.safetensors"))
    check(p.returncode == 0 and len(got) == 3 and all(r["status"] == "skipped" for r in got),
          f"a base the adapter does not belong to: every row skipped ({p.returncode})")
    p, _ = analyze(htsr, adapter, "--base", os.path.join(tmp, "missing.safetensors"))
    check(p.returncode != 0 and "base model" in p.stderr and "missing.safetensors" in p.stderr,
          f"a base that does not exist is an error naming it ({p.stderr.strip()})")


def scan(htsr, tmp):
    adapter = os.path.join(LORA, "minilm_delta_r8")
    manifest = os.path.join(tmp, "m.tsv")
    with open(manifest, "w") as f:
        f.write(f"path\tbase\n{adapter}\t{BASE}\n")
    db = os.path.join(tmp, "scan.sqlite")
    p = subprocess.run([htsr, "scan", "--manifest", manifest, "--db", db, "--quiet"],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"scan of an adapter with a base (rc {p.returncode}: {p.stderr})")
    p = subprocess.run([htsr, "export", "--db", db, "--table", "layers", "--format", "csv"],
                       capture_output=True, text=True)
    stored = rows_of(p.stdout)
    _, ours = analyze(htsr, adapter, "--base", BASE)
    want = {r["name"]: r for r in ours}
    check(len(stored) == 3 and all(r["delta_alpha"] == want[r["name"]]["delta_alpha"] and
                                   r["dist_cka"] == want[r["name"]]["dist_cka"] for r in stored),
          "the scan stores analyze --base's rows")


def remote(htsr, server, tmp):
    adapter = os.path.join(LORA, "minilm_delta_r8")
    with local_server(server, tmp) as address:
        for extra in ([], ["--base", BASE]):
            emb = subprocess.run([htsr, "analyze", adapter, *extra, "--format", "csv", "--quiet"],
                                 capture_output=True, text=True)
            rem = subprocess.run([htsr, "analyze", adapter, *extra, "--server", address,
                                  "--format", "csv", "--quiet"], capture_output=True, text=True)
            check(rem.returncode == 0 and rem.stdout == emb.stdout and emb.stdout,
                  f"remote {extra or 'adapter'}: rc {rem.returncode}, same CSV: "
                  f"{rem.stdout == emb.stdout} ({rem.stderr.strip()})")


def main():
    htsr = sys.argv[1]
    server = next((a for a in sys.argv[2:] if not a.startswith("--")), None)
    minilm(htsr)
    plain = closed_form(htsr, "closed_form", "closed_form_base.safetensors", "closed_form")
    fan_in = closed_form(htsr, "closed_form_fan_in", "closed_form_base_t.safetensors",
                         "fan_in_fan_out")
    if plain and fan_in:
        for col, v in plain.items():
            if not (col.startswith(("delta_", "dist_")) or col in ("alpha", "lambda_max", "D")):
                continue
            if v == "" or fan_in[col] == "":
                check(v == fan_in[col], f"fan_in_fan_out vs plain: {col} {fan_in[col]!r} != {v!r}")
            else:
                near(f"fan_in_fan_out vs plain: {col}", fan_in[col], v, 1e-12)
    with tempfile.TemporaryDirectory() as tmp:
        bad_bases(htsr, tmp)
        scan(htsr, tmp)
        if server:
            remote(htsr, server, tmp)
    for e in ERRORS:
        print(e)
    if "--report" in sys.argv:
        for col, rel in sorted(WORST.items()):
            print(f"max relative error {col}: {rel:.2e}")
    print(f"lora --base: {len(ERRORS)} problems")
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
