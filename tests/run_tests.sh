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

step "build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$JOBS"

step "tests"
ctest --test-dir build --output-on-failure -j "$JOBS" --timeout 900

step "unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHTSR_SANITIZE=ON \
  -DHTSR_CUDA=OFF -DHTSR_BENCH=OFF >/dev/null
cmake --build build-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -L 'unit|sanitize' --timeout 900
