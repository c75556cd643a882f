#!/usr/bin/env bash
# Peak resident memory of `htsr analyze` on a 2 GiB checkpoint (128 dense layers of
# 4096 x 1024 f32, Gaussian): the reader maps the file and drops each layer's pages once
# it is analysed, so RSS should stay far below the file size (target: under 1 GiB).
#   tests/bench/rss_2gb.sh [BUILD_DIR]      PY: a python3 with numpy (default: the oracle's)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build}"
PY="${PY:-/opt/ww-oracle/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" - "$tmp/big.safetensors" <<'PYEOF'
import json, struct, sys
import numpy as np
rows, cols, layers = 4096, 1024, 128
header, off = {}, 0
for i in range(layers):
    n = rows * cols * 4
    header[f"layers.{i:03d}.weight"] = {"dtype": "F32", "shape": [rows, cols], "data_offsets": [off, off + n]}
    off += n
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
rng = np.random.default_rng(0)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for i in range(layers):
        f.write(rng.standard_normal((rows, cols), dtype=np.float32).tobytes())
PYEOF
echo "file: $(du -h "$tmp/big.safetensors" | cut -f1), $(nproc) cores"
/usr/bin/time -v "$build/client/htsr" analyze "$tmp/big.safetensors" --format csv --out "$tmp/out.csv" --quiet \
  2> "$tmp/time.txt"
grep -E "Maximum resident|Elapsed" "$tmp/time.txt"
echo "layers analysed: $(grep -c ',success,' "$tmp/out.csv")"
