#!/usr/bin/env bash
# Installs the Debian 12 packages htsr builds and tests with. Idempotent; quiet when all
# are present. Needs root (or sudo). The CUDA toolkit is optional: with nvcc on PATH (or
# in /usr/local/cuda/bin) the CUDA backend is built too.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config git ca-certificates
      libabsl-dev libopenblas-dev liblapacke-dev zlib1g-dev libhdf5-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
      libsqlite3-dev libssl-dev libmicrohttpd-dev libre2-dev
      python3 python3-venv python3-pip python3-dev clang clang-format chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
