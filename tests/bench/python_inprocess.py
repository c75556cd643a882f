#!/usr/bin/env python3
"""In-process htsr.analyze vs the htsr CLI vs weightwatcher 0.7.7's analyze(), same run.

    python tests/bench/python_inprocess.py HTSR_BIN MODEL.safetensors [--repeat 3]

Run with an interpreter where the htsr wheel is installed. Times are wall seconds, best of
--repeat: the CLI as a whole process (`analyze --format csv --quiet`), htsr.analyze(path)
in this process (DataFrame included), and the reference once in its own interpreter
(HTSR_WW_PYTHON, default /opt/ww-oracle/bin/python; model loading excluded).
Prints the Python overhead over the CLI (target <= 10%).
"""
import argparse
import os
import subprocess
import sys
import time

import htsr

WW_SNIPPET = r"""
import os, sys, time, logging
os.environ.setdefault("MPLBACKEND", "Agg"); logging.disable(logging.WARNING)
import weightwatcher as ww
from safetensors.torch import load_file
sd = load_file(sys.argv[1])
t = time.perf_counter(); ww.WeightWatcher(model=sd).analyze(); print(time.perf_counter() - t)
"""


def best(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("model")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    cli = best(lambda: subprocess.run([a.cli, "analyze", a.model, "--format", "csv", "--quiet"],
                                      check=True, capture_output=True), a.repeat)
    py = best(lambda: htsr.analyze(a.model, progress=False), a.repeat)
    py_csv = best(lambda: htsr.analyze(a.model, format="csv", progress=False), a.repeat)
    print(f"htsr CLI (process)          {cli:8.3f} s")
    print(f"htsr.analyze -> DataFrame   {py:8.3f} s  overhead {100 * (py - cli) / cli:+.1f}%")
    print(f"htsr.analyze -> CSV text    {py_csv:8.3f} s  overhead {100 * (py_csv - cli) / cli:+.1f}%")
    try:  # the tensors already in memory (torch), handed over without copies
        from safetensors.torch import load_file
        sd = load_file(a.model)
        mem = best(lambda: htsr.analyze(sd, progress=False), a.repeat)
        print(f"htsr.analyze(state dict)    {mem:8.3f} s  overhead {100 * (mem - cli) / cli:+.1f}%")
    except ImportError:
        pass
    ww_py = os.environ.get("HTSR_WW_PYTHON", "/opt/ww-oracle/bin/python")
    if os.path.exists(ww_py) and a.model.endswith(".safetensors"):
        r = subprocess.run([ww_py, "-c", WW_SNIPPET, a.model], capture_output=True, text=True)
        if r.returncode == 0:
            ww = float(r.stdout.strip().splitlines()[-1])
            print(f"weightwatcher analyze()     {ww:8.3f} s  ({ww / py:.1f}x htsr.analyze)")
        else:
            print("weightwatcher: failed:", r.stderr[-500:], file=sys.stderr)


if __name__ == "__main__":
    main()
