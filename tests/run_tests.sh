#!/usr/bin/env bash
# Installs what is missing, builds everything (CUDA backend too when nvcc is present) and
# runs the whole test suite, then the unit tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer, and checks formatting. GPU tests skip themselves without a
# device. Usage: bash tests/run_tests.sh   (from the repository root; root or sudo for apt)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
bash deploy/install_deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi

step() { printf '\n=== %s\n' "$*"; }

step "format check (clang-format)"
bash tests/tools/check_format.sh

step "python test tools (venv: grpcio, protobuf, numpy, pytest, kubernetes-validate, yamllint)"
# The Python client's tests and the manifest schema check need packages from PyPI; they
# live in a venv so the system Python stays untouched. Without PyPI those tests skip.
PYENV=build/pyenv
if [ ! -x "$PYENV/bin/python" ]; then
  mkdir -p build && python3 -m venv "$PYENV"
fi
"$PYENV/bin/python" -m pip install -q --disable-pip-version-check \
  "grpcio>=1.85.1" "protobuf>=7.35.0" numpy pytest kubernetes-validate yamllint ||
  echo "warning: pip install failed; the Python client and manifest tests will be skipped"

step "build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython3_EXECUTABLE="$PWD/$PYENV/bin/python" -DHTSR_PYTHON="$PWD/$PYENV/bin/python" >/dev/null
cmake --build build -j "$JOBS"

step "tests"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

step "python package: the htsr wheel in a fresh venv (tests/integration/python/wheel_smoke.sh)"
bash tests/integration/python/wheel_smoke.sh "$PWD/build/client/htsr"

step "unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHTSR_SANITIZE=ON \
  -DHTSR_CUDA=OFF -DHTSR_BENCH=OFF >/dev/null
cmake --build build-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L 'unit|sanitize' --timeout 900
