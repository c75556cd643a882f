#!/usr/bin/env bash
# Builds the htsr wheel (client/python: scikit-build-core + pybind11 over the repository's
# CMake targets), installs it in a fresh venv with nothing else on the path, and checks it:
# a real analysis whose CSV equals the CLI's byte for byte, then the in-process tests
# (test_htsr_inprocess.py) there, and again under the weightwatcher oracle's interpreter
# (torch, pandas) when present, so the DataFrames are compared with the reference's.
# Usage: wheel_smoke.sh [HTSR_BIN]   (from anywhere; needs PyPI for the build requirements)
# ccache makes rebuilds fast: CMAKE_CXX_COMPILER_LAUNCHER=ccache is passed through.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
HTSR_BIN=${1:-${HTSR_BIN:-$REPO/build/client/htsr}}
WORK=$(mktemp -d /tmp/htsr_wheel.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER:-ccache}
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER:-ccache}
fi
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
PY=${HTSR_WHEEL_PYTHON:-/usr/bin/python3}

echo "== wheel"
"$PY" -m venv "$WORK/venv"
if ! "$WORK/venv/bin/pip" install -q --disable-pip-version-check pytest; then
  # As the other Python tests: without PyPI (the build requirements come from there) skip.
  echo "warning: pip install failed (no PyPI?): the htsr wheel check is skipped"
  exit 0
fi
"$WORK/venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$WORK/dist" \
  --config-settings=build-dir="$WORK/build" "$REPO/client/python"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check "$WORK"/dist/htsr-*.whl

echo "== smoke: a real analysis from the installed wheel (no build tree on the path)"
cd "$WORK"
FIX="$REPO/tests/data/synthetic/fixtures/mixed.safetensors"
"$WORK/venv/bin/python" - "$FIX" > "$WORK/py.csv" <<'PYEOF'
import sys, htsr
assert "site-packages" in htsr.__file__, htsr.__file__
df = htsr.analyze(sys.argv[1])
assert len(df) > 0 and "alpha" in df.columns
sys.stdout.write(htsr.analyze(sys.argv[1], format="csv"))
PYEOF
if [ -x "$HTSR_BIN" ]; then
  "$HTSR_BIN" analyze "$FIX" --format csv --quiet > "$WORK/cli.csv"
  cmp "$WORK/py.csv" "$WORK/cli.csv"
  echo "CSV from the wheel == CLI CSV ($(wc -l < "$WORK/cli.csv") lines)"
else
  echo "note: no CLI at $HTSR_BIN: the byte-for-byte CSV check is skipped"
fi

echo "== tests in the fresh venv"
HTSR_BIN="$HTSR_BIN" "$WORK/venv/bin/python" -m pytest -q -s -p no:cacheprovider \
  "$REPO/tests/integration/python/test_htsr_inprocess.py" \
  "$REPO/tests/integration/python/test_htsr_callbacks.py"

ORACLE=${HTSR_WW_PYTHON:-/opt/ww-oracle/bin/python}
if [ -x "$ORACLE" ] && "$ORACLE" -c 'import pytest, torch, pandas' 2>/dev/null; then
  echo "== tests under the oracle's interpreter (torch tensors, weightwatcher's DataFrames)"
  "$ORACLE" -m pip install -q --disable-pip-version-check --no-deps --target "$WORK/site" \
    "$WORK"/dist/htsr-*.whl
  PYTHONPATH="$WORK/site" HTSR_BIN="$HTSR_BIN" "$ORACLE" -m pytest -q -s -p no:cacheprovider \
    "$REPO/tests/integration/python/test_htsr_inprocess.py" \
    "$REPO/tests/integration/python/test_htsr_callbacks.py"
fi
