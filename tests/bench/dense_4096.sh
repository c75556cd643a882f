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
RUN_WW="${RUN_WW:-$root/../shared/tools/ww_oracle/run_ww.py}"
[[ -f "$RUN_WW" ]] || RUN_WW=/work/shared/tools/ww_oracle/run_ww.py
DIM="${DIM:-4096}"
REPEAT="${REPEAT:-2}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bench="$build/tests/bench/dense_layer_bench"
[[ -x "$bench" ]] || { echo "build $bench first (ninja dense_layer_bench)" >&2; exit 1; }

echo "== htsr (this machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
"$bench" --dim "$DIM" --repeat "$REPEAT" --save-npy "$tmp/w.npy" "$@" | tee "$tmp/htsr.txt"

echo "== reference: weightwatcher 0.7.7 =="
"$PY" -c "import numpy as np; np.savez('$tmp/w.npz', dense=np.load('$tmp/w.npy'))"
ref_s=""
for ((i = 0; i < REPEAT; i++)); do
  "$PY" "$RUN_WW" "$tmp/w.npz" --out "$tmp/ref.csv" 2> "$tmp/ref.err"
  t="$(sed -n 's/.*analyze \([0-9.]*\)s.*/\1/p' "$tmp/ref.err")"
  echo "reference run $((i + 1)): analyze() ${t} s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  ref_s="$(awk -v a="$ref_s" -v b="$t" 'BEGIN { print (a == "" || b < a) ? b : a }')"
done
"$PY" - "$tmp/ref.csv" <<'PYEOF'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print(f"reference alpha={float(row['alpha']):.12g} D={float(row['D']):.12g} "
      f"xmin={float(row['xmin']):.12g} lambda_max={float(row['lambda_max']):.12g}")
PYEOF
echo "reference analyze(): ${ref_s} s (min of $REPEAT)"

f64_s="$(sed -n 's/^htsr f64 .*end-to-end: \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
f32_s="$(sed -n 's/^htsr f32 .*end-to-end: \([0-9.]*\) s.*/\1/p' "$tmp/htsr.txt")"
awk -v r="$ref_s" -v a="$f64_s" -v b="$f32_s" \
  'BEGIN { printf "speedup vs reference: f64 %.2fx  f32 %.2fx\n", r / a, r / b }'
