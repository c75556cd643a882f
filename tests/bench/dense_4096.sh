#!/usr/bin/env bash
# Times one 4096x4096 Gaussian dense layer end to end with htsr (f64 and f32) and with the
# reference tool (weightwatcher 0.7.7, analyze() defaults) on the same matrix, in the same
# run, and prints the ratio. Usage:
#   tests/bench/dense_4096.sh [BUILD_DIR] [--methods]
# BUILD_DIR defaults to build/; PY (reference interpreter) to /opt/ww-oracle/bin/python.
# REPEAT (default 2): each side's time is the minimum of REPEAT runs, so that a shared,
# busy machine penalises both sides alike; the load average is printed with the numbers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
shift || true
PY="${PY:-/opt/ww-oracle/bin/python}"
DIM="${DIM:-4096}"
REPEAT="${REPEAT:-2}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bench="$build/tests/bench/dense_layer_bench"
[[ -x "$bench" ]] || { echo "build $bench first (ninja dense_layer_bench)" >&2; exit 1; }

echo "== htsr (this machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
"$bench" --dim "$DIM" --repeat "$REPEAT" --save-npy "$tmp/w.npy" "$@" | tee "$tmp/htsr.txt"

echo "== reference: weightwatcher 0.7.7 (analyze() defaults, same matrix) =="
# In-process timing of analyze() only (no interpreter start-up or imports), wall and CPU.
"$PY" - "$tmp/w.npy" "$REPEAT" > "$tmp/ref.txt" <<'PYEOF'
import logging, os, sys, time
os.environ.setdefault("MPLBACKEND", "Agg")
import numpy as np, torch
logging.disable(logging.WARNING)
import weightwatcher as ww
w = np.load(sys.argv[1])
best_wall = best_cpu = float("inf")
for _ in range(int(sys.argv[2])):
    watcher = ww.WeightWatcher(model={"dense.weight": torch.from_numpy(w)})
    t0, c0 = time.perf_counter(), time.process_time()
    d = watcher.analyze(plot=False, savefig=False)
    best_wall = min(best_wall, time.perf_counter() - t0)
    best_cpu = min(best_cpu, time.process_time() - c0)
row = d.iloc[0]
print(f"reference alpha={row['alpha']:.12g} D={row['D']:.12g} xmin={row['xmin']:.12g} "
      f"lambda_max={row['lambda_max']:.12g}")
print(f"reference analyze(): {best_wall:.3f} s  cpu {best_cpu:.3f} s")
PYEOF
cat "$tmp/ref.txt"
ref_s="$(sed -n 's/^reference analyze(): \([0-9.]*\) s.*/\1/p' "$tmp/ref.txt")"
ref_c="$(sed -n 's/^reference analyze(): .* cpu \([0-9.]*\) s.*/\1/p' "$tmp/ref.txt")"
f64_s="$(sed -n 's/^htsr f64 .*end-to-end: \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
f32_s="$(sed -n 's/^htsr f32 .*end-to-end: \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
f64_c="$(sed -n 's/^htsr f64 .* cpu \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
f32_c="$(sed -n 's/^htsr f32 .* cpu \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v r="$ref_s" -v a="$f64_s" -v b="$f32_s" -v rc="$ref_c" -v ac="$f64_c" -v bc="$f32_c" \
  'BEGIN { printf "speedup vs reference (min of runs): wall f64 %.2fx f32 %.2fx | cpu f64 %.2fx f32 %.2fx\n", r / a, r / b, rc / ac, rc / bc }'
