#!/usr/bin/env python3
"""`htsr analyze --base` and a scan manifest's base column, end to end: bad bases are clear
errors naming the base, unmatched layers are skipped rows with a reason (never dropped), a
scan row with a base stores the delta columns, and remote mode prints embedded mode's CSV.

    base_delta_cli_test.py HTSR_BIN [HTSR_SERVER_BIN]
"""
import csv
import io
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from safetensors_writer import write_safetensors  # noqa: E402
sys.path.insert(0, HERE)
from local_server import local_server  # noqa: E402

DELTA = os.path.join(HERE, "..", "data", "real", "delta")
failures = []


def check(ok, what):
    print(f"{'ok' if ok else 'FAIL'}: {what}")
    if not ok:
        failures.append(what)


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600)


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def main():
    htsr = sys.argv[1]
    server = sys.argv[2] if len(sys.argv) > 2 else None
    tuned = os.path.join(DELTA, "finetuned.safetensors")
    base = os.path.join(DELTA, "base.safetensors")
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, "no_such_base.safetensors")
        p = run(htsr, "analyze", tuned, "--base", missing, "--quiet")
        check(p.returncode == 2 and "base model" in p.stderr and missing in p.stderr,
              f"a missing base is an error naming it (rc {p.returncode}: {p.stderr.strip()})")
        garbage = os.path.join(tmp, "garbage.safetensors")
        with open(garbage, "wb") as f:
            f.write(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
        p = run(htsr, "analyze", tuned, "--base", garbage, "--quiet")
        check(p.returncode == 2 and "base model" in p.stderr,
              f"an unreadable base is an error naming it (rc {p.returncode}: {p.stderr.strip()})")

        # Model: a, b, c (16x16); base: a (16x16), c (8x32), d: b is missing, c mismatched.
        rnd = random.Random(3)
        vals = lambda n: [rnd.uniform(-1, 1) for _ in range(n)]  # noqa: E731
        m, b = os.path.join(tmp, "model.safetensors"), os.path.join(tmp, "base.safetensors")
        write_safetensors(m, [("a.weight", [16, 16], vals(256)), ("b.weight", [16, 16], vals(256)),
                              ("c.weight", [16, 16], vals(256))])
        write_safetensors(b, [("a.weight", [16, 16], vals(256)), ("c.weight", [8, 32], vals(256)),
                              ("d.weight", [16, 16], vals(256))])
        p = run(htsr, "analyze", m, "--base", b, "--format", "csv")
        got = {r["name"]: r for r in rows(p.stdout)}
        check(p.returncode == 0 and sorted(got) == ["a", "b", "c"],
              f"every model layer has a row (rc {p.returncode}, {sorted(got)})")
        check(got.get("a", {}).get("status") == "success" and got["a"]["dist_relative"] != "",
              "the matched layer is analysed with distances")
        check(got.get("b", {}).get("status") == "skipped" and "no base layer" in got["b"]["reason"],
              f"a layer missing from the base is skipped with a reason ({got.get('b', {}).get('reason')})")
        check(got.get("c", {}).get("status") == "skipped" and "[8, 32]" in got["c"]["reason"],
              f"a shape mismatch is skipped naming both shapes ({got.get('c', {}).get('reason')})")
        check("b, c" in p.stderr and "d.weight" in p.stderr,
              f"notes name the unmatched layers and the base-only tensor ({p.stderr.strip()})")

        # A scan row with a base column, relative to the manifest.
        manifest = os.path.join(tmp, "m.tsv")
        with open(manifest, "w") as f:
            f.write(f"path\tbase\n{tuned}\t{os.path.relpath(base, tmp)}\n{base}\t\n")
        db = os.path.join(tmp, "scan.sqlite")
        p = run(htsr, "scan", "--manifest", manifest, "--db", db, "--quiet")
        check(p.returncode == 0, f"scan with a base column (rc {p.returncode}: {p.stderr.strip()})")
        p = run(htsr, "export", "--db", db, "--table", "layers", "--format", "csv")
        layers = rows(p.stdout)
        tuned_rows = [r for r in layers if r["path"].endswith("finetuned.safetensors")]
        base_rows = [r for r in layers if r["path"].endswith("base.safetensors")]
        check(len(tuned_rows) == 3 and all(r["dist_cka"] and r["delta_alpha"] for r in tuned_rows),
              "the scan stores the delta rows with their distance and delta columns")
        check(len(base_rows) == 3 and not any(r["dist_cka"] for r in base_rows),
              "a row without a base is an ordinary analysis")
        emb = run(htsr, "analyze", tuned, "--base", base, "--format", "csv", "--quiet")
        ref = {r["name"]: r["alpha"] for r in rows(emb.stdout)}
        check(all(ref[r["name"]] == r["alpha"] for r in tuned_rows),
              "scan rows equal analyze --base's")

        if server:
            with local_server(server, tmp) as addr:
                rem = run(htsr, "analyze", tuned, "--base", base, "--format", "csv", "--quiet",
                          "--server", addr)
                check(rem.returncode == 0 and rem.stdout == emb.stdout,
                      f"remote --base prints embedded mode's CSV (rc {rem.returncode}: "
                      f"{rem.stderr.strip()})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
