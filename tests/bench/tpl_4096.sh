#!/usr/bin/env bash
# Times `htsr analyze --fit tpl` on one DIM x DIM layer (default 4096) against the reference
# tool's analyze(fit='TPL', pl_package='powerlaw') (weightwatcher 0.7.7 with powerlaw 1.5) on
# the same matrix, in the same run, and prints both times and the ratio. Not a timed test.
#   tests/bench/tpl_4096.sh [BUILD_DIR]
# Environment: PY (reference interpreter, /opt/ww-oracle/bin/python), DIM (4096),
# REF_TIMEOUT (seconds for the reference, default 3600; past it the ratio is a lower bound:
# its xmin scan fits a TPL by Nelder-Mead with mpmath for every candidate and evaluates
# mpmath's gammainc on every tail point, O(n^2) calls), FIT (TPL or E_TPL).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-$root/build}"
PY="${PY:-/opt/ww-oracle/bin/python}"
DIM="${DIM:-4096}"
FIT="${FIT:-TPL}"
REF_TIMEOUT="${REF_TIMEOUT:-3600}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
htsr="$build/client/htsr"
[[ -x "$htsr" ]] || { echo "build $htsr first (ninja htsr)" >&2; exit 1; }
flag=$([[ "$FIT" == "TPL" ]] && echo tpl || echo e_tpl)

# A heavy-tailed layer (Student-t entries, df 3), so that the tail is not a bare MP bulk.
"$PY" -c "import numpy as np; g=np.random.default_rng(12); np.save('$tmp/w.npy', (g.standard_t(3, size=($DIM, $DIM))*0.02).astype(np.float32))"

echo "== htsr --fit $flag (this machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
t0=$(date +%s.%N)
"$htsr" analyze "$tmp/w.npy" --fit "$flag" --format csv --quiet > "$tmp/htsr.csv"
t1=$(date +%s.%N)
htsr_s=$(echo "$t1 - $t0" | bc -l)
"$PY" -c "
import csv; r=next(csv.DictReader(open('$tmp/htsr.csv')))
print(f\"htsr alpha={r['alpha']} Lambda={r['Lambda']} xmin={r['xmin']} D={r['D']} tpl_R={r['tpl_R']} tpl_p={r['tpl_p']}\")"
printf 'htsr --fit %s, whole command: %.3f s\n' "$flag" "$htsr_s"

echo "== reference: weightwatcher 0.7.7 analyze(fit='$FIT', pl_package='powerlaw'), timeout ${REF_TIMEOUT}s =="
set +e
timeout "$REF_TIMEOUT" "$PY" - "$tmp/w.npy" "$FIT" > "$tmp/ref.txt" 2>/dev/null <<'PYEOF'
import logging, os, sys, time
os.environ.setdefault("MPLBACKEND", "Agg")
import numpy as np, torch
logging.disable(logging.WARNING)
import weightwatcher as ww
w = np.load(sys.argv[1])
watcher = ww.WeightWatcher(model={"dense.weight": torch.from_numpy(w)})
t0 = time.perf_counter()
d = watcher.analyze(plot=False, savefig=False, fit=sys.argv[2], pl_package="powerlaw")
t = time.perf_counter() - t0
r = d.iloc[0]
print(f"reference alpha={r['alpha']:.12g} Lambda={r['Lambda']:.12g} xmin={r['xmin']:.12g} D={r['D']:.12g}")
print(f"reference analyze(): {t:.3f} s")
PYEOF
rc=$?
set -e
cat "$tmp/ref.txt"
if [[ $rc -eq 124 ]]; then
  awk -v r="$REF_TIMEOUT" -v a="$htsr_s" 'BEGIN { printf "reference did not finish in %d s: speedup > %.0fx\n", r, r / a }'
else
  ref_s="$(sed -n 's/^reference analyze(): \([0-9.]*\) s.*/\1/p' "$tmp/ref.txt")"
  awk -v r="$ref_s" -v a="$htsr_s" 'BEGIN { printf "speedup vs reference: %.1fx (htsr whole command vs reference analyze() only)\n", r / a }'
fi
