#!/usr/bin/env bash
# A real pretrained model end to end (all-MiniLM-L6-v2 from its PyPI wheel): htsr vs the
# reference tool, same machine, same run, wall time of the whole command (load + analyse).
#   tests/bench/real_model.sh [BUILD_DIR]     PY: the reference's interpreter
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
PY="${PY:-/opt/ww-oracle/bin/python}"
model=$(bash "$root/tests/tools/fetch_real_model.sh" "${HTSR_MODEL_CACHE:-$HOME/.cache/htsr-test-models}" minilm)
best() {  # best of 3 wall times of a command, in seconds
  local b=999999 t0 t
  for _ in 1 2 3; do
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
    b=$(awk "BEGIN{print ($t < $b) ? $t : $b}")
  done
  echo "$b"
}
h64=$(best "$build/client/htsr" analyze "$model" --format csv --quiet)
h32=$(best "$build/client/htsr" analyze "$model" --format csv --quiet --precision f32)
ref=$(best "$PY" "$root/../shared/tools/ww_oracle/run_ww.py" "$model" --out /dev/null)
echo "all-MiniLM-L6-v2 ($(nproc) cores): htsr f64 ${h64}s, f32 ${h32}s, reference ${ref}s"
awk "BEGIN{printf \"speedup: f64 %.1fx, f32 %.1fx (reference wall incl. Python start-up and imports)\n\", $ref/$h64, $ref/$h32}"
