#!/usr/bin/env bash
# Whole-model GPU checks, run by device_check.sh on the device (binaries in $1):
#   1. every golden case (weightwatcher 0.7.7 CSVs) with --device cuda: the GPU path
#      against the reference, through the CLI;
#   2. a conv-heavy model (torchvision ResNet-50 shapes, random init): cuda batched vs
#      cuda one-by-one (HTSR_CUDA_UNBATCHED=1) vs cpu, end to end, same machine;
#   3. a synthetic model with LLaMA-7B shapes (32 blocks of four 4096x4096 and three
#      11008x4096 matrices, bf16, ~13 GB) end to end through htsr-server --device cuda,
#      f32 and f64.
#   4. one 4096 x 4096 layer through the CLI (cuda f64/f32, cpu) against the reference
#      tool's analyze() on the same matrix, same machine, when python3 can import
#      weightwatcher (carry its wheels: weightwatcher 0.7.7, powerlaw 1.5).
# Needs python3 with torch and safetensors (the device image has them).
# HTSR_MODEL_BENCH="goldens resnet llama reference" picks sections (default: all four);
# "llama" also times embedded --device cuda, which isolates the transport's share (with
# the backend's default 2 lanes and with HTSR_CUDA_LANES=1), and --streams 4 against one
# stream; HTSR_BENCH_F64=1 adds the f64 run through the server
# (76 s on the H100 in session 1; off by default to fit the device budget).
set -uo pipefail
BIN="$1"
OUT="${OUT:-/tmp/htsr-device-out}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/htsr-models.XXXXXX)"
trap 'rm -rf "$WORK"; [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null' EXIT

fails=0  # steps that failed or found a difference; the exit status
t() {  # t LABEL LIMIT CMD...: wall time of a command, killed after LIMIT seconds
  local t0 rc
  t0=$(date +%s.%N)
  timeout -k 5 "$2" "${@:3}"; rc=$?
  [ "$rc" -eq 0 ] || fails=$((fails + 1))
  printf 'TIME %-44s %8.2f s  rc=%d\n' "$1" "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" "$rc"
}

SECTIONS="${HTSR_MODEL_BENCH:-goldens resnet llama reference}"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

if want goldens; then
echo "=== 1. goldens through the CLI with --device cuda"
printf '#!/bin/sh\nexec %s "$@" --device cuda\n' "$BIN/htsr" > "$WORK/htsr-cuda"
chmod +x "$WORK/htsr-cuda"
for c in $(python3 "$ROOT/tests/integration/golden_compare.py" x list); do
  python3 "$ROOT/tests/integration/golden_compare.py" "$WORK/htsr-cuda" "$c" | tail -4 || fails=$((fails + 1))
done

fi

if want resnet; then
echo; echo "=== 2. ResNet-50 shapes (conv-heavy)"
python3 - "$WORK/resnet50.safetensors" <<'PY'
import sys, torch, torchvision
from safetensors.torch import save_file
torch.manual_seed(0)
sd = {k: v.contiguous() for k, v in torchvision.models.resnet50(weights=None).state_dict().items()}
save_file(sd, sys.argv[1])
PY
"$BIN/htsr" describe "$WORK/resnet50.safetensors" | tail -1
t "resnet50 cuda batched" 60 "$BIN/htsr" analyze "$WORK/resnet50.safetensors" --device cuda --format csv --out "$WORK/r_cuda.csv" --quiet
t "resnet50 cuda one-by-one" 60 env HTSR_CUDA_UNBATCHED=1 "$BIN/htsr" analyze "$WORK/resnet50.safetensors" --device cuda --format csv --out "$WORK/r_cuda1.csv" --quiet
t "resnet50 cpu (16 cores)" 60 "$BIN/htsr" analyze "$WORK/resnet50.safetensors" --device cpu --format csv --out "$WORK/r_cpu.csv" --quiet
python3 - "$WORK/r_cpu.csv" "$WORK/r_cuda.csv" "$WORK/r_cuda1.csv" <<'PY'
import csv, sys
rows = [{r["name"]: r for r in csv.DictReader(open(p))} for p in sys.argv[1:]]
worst = 0.0
for name, c in rows[0].items():
    for other in rows[1:]:
        o = other[name]
        if c["alpha"] and o["alpha"]:
            a, b = float(c["alpha"]), float(o["alpha"])
            worst = max(worst, abs(a - b) / max(abs(a), 1e-300))
print(f"resnet50: {len(rows[0])} layers, worst alpha relative difference cpu vs cuda: {worst:.2e}")
PY

fi

if want llama; then
echo; echo "=== 3. LLaMA-7B shapes, bf16, through htsr-server --device cuda"
t "generate llama7b (13 GB)" 150 python3 - "$WORK/llama7b.safetensors" <<'PY'
import sys, torch
from safetensors.torch import save_file
g = torch.Generator(device="cuda").manual_seed(0)
sd = {}
for i in range(32):
    for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
        sd[f"model.layers.{i}.self_attn.{n}.weight"] = (torch.randn(4096, 4096, device="cuda", generator=g) * 0.02).bfloat16().cpu()
    for n, shape in (("gate_proj", (11008, 4096)), ("up_proj", (11008, 4096)), ("down_proj", (4096, 11008))):
        sd[f"model.layers.{i}.mlp.{n}.weight"] = (torch.randn(*shape, device="cuda", generator=g) * 0.02).bfloat16().cpu()
save_file(sd, sys.argv[1])
PY
ls -la "$WORK/llama7b.safetensors"
t "llama7b embedded cuda f32" 120 "$BIN/htsr" analyze "$WORK/llama7b.safetensors" --device cuda --precision f32 --format csv --out "$WORK/llama7b_emb_f32.csv" --quiet
# One solve at a time on the device (the backend before lanes) against the default (2).
t "llama7b embedded cuda f32, 1 lane" 120 env HTSR_CUDA_LANES=1 "$BIN/htsr" analyze "$WORK/llama7b.safetensors" --device cuda --precision f32 --format csv --out "$WORK/llama7b_emb_f32_l1.csv" --quiet
python3 - "$WORK/llama7b_emb_f32.csv" "$WORK/llama7b_emb_f32_l1.csv" <<'PY'
import csv, sys
a, b = ({r["name"]: r for r in csv.DictReader(open(p))} for p in sys.argv[1:])
worst = max(abs(float(a[n]["alpha"]) - float(b[n]["alpha"])) / abs(float(b[n]["alpha"])) for n in b if b[n]["alpha"])
print(f"llama7b f32: 2 lanes vs 1 lane, {len(a)} vs {len(b)} rows, worst alpha relative difference {worst:.2e}")
PY
"$BIN/htsr-server" --listen 127.0.0.1:0 --port-file "$WORK/port" --device cuda \
  --queue-bytes 8G --max-layer-bytes 1G --transport-window-bytes "${HTSR_BENCH_WINDOW:-4M}" \
  2> "$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
ADDR="127.0.0.1:$(cat "$WORK/port")"
# The transport alone (384 MiB of tall-skinny layers that cost nothing to solve): the
# server's single-stream ingest rate, which bounds the remote 7B time.
if [ -x "$BIN/htsr_remote_bench" ]; then
  for s in 1 4; do
    t "ingest 384 MiB, --streams $s" 60 "$BIN/htsr_remote_bench" \
      --server="$ADDR" --model=ingest --clients=0 --repeat=3 --remote_only=1 --streams=$s
  done
fi
t "llama7b remote cuda f32" 120 "$BIN/htsr" analyze "$WORK/llama7b.safetensors" --server "$ADDR" --precision f32 --format csv --out "$OUT/llama7b_f32.csv" --quiet
t "llama7b remote cuda f32 --streams 4" 120 "$BIN/htsr" analyze "$WORK/llama7b.safetensors" --server "$ADDR" --streams 4 --precision f32 --format csv --out "$WORK/llama7b_f32_s4.csv" --quiet
if cmp -s "$OUT/llama7b_f32.csv" "$WORK/llama7b_f32_s4.csv"; then
  echo "llama7b f32: --streams 4 CSV == one-stream CSV"
else
  echo "llama7b f32: --streams 4 CSV DIFFERS"; fails=$((fails + 1))
fi
[ "${HTSR_BENCH_F64:-0}" = 1 ] && t "llama7b remote cuda f64" 150 "$BIN/htsr" analyze "$WORK/llama7b.safetensors" --server "$ADDR" --format csv --out "$OUT/llama7b_f64.csv" --quiet
# One JSON line per call: seconds vs receive_seconds says whether moving bytes or solving bound it.
grep -F '"event":"call"' "$WORK/server.log" | cut -c1-400
if cmp -s "$WORK/llama7b_emb_f32.csv" "$OUT/llama7b_f32.csv"; then
  echo "llama7b f32: remote CSV == embedded CSV (byte for byte)"
else
  echo "llama7b f32: remote CSV differs from embedded CSV"; fails=$((fails + 1))
fi
[ "${HTSR_BENCH_F64:-0}" = 1 ] && python3 - "$OUT/llama7b_f32.csv" "$OUT/llama7b_f64.csv" <<'PY'
import csv, os, sys
if not all(os.path.exists(p) for p in sys.argv[1:]): sys.exit("llama7b: an output is missing")
a = {r["name"]: r for r in csv.DictReader(open(sys.argv[1]))}
b = {r["name"]: r for r in csv.DictReader(open(sys.argv[2]))}
ok = sum(r["status"] == "success" for r in b.values())
worst = max(abs(float(a[n]["alpha"]) - float(b[n]["alpha"])) / abs(float(b[n]["alpha"])) for n in b if b[n]["alpha"])
print(f"llama7b: {len(b)} layers, {ok} success; worst alpha relative difference f32 vs f64: {worst:.2e}")
PY
fi
if want reference; then
echo; echo "=== 4. one 4096 x 4096 layer: htsr CLI vs the reference tool, same machine"
if python3 -c 'import weightwatcher' 2>/dev/null; then
  python3 - "$WORK/dense.safetensors" <<'PY'
import sys, numpy as np
from safetensors.numpy import save_file
w = np.random.default_rng(1).standard_normal((4096, 4096), dtype=np.float32) * 0.02
save_file({"dense.weight": w}, sys.argv[1])
PY
  for mode in cuda_f64:"--device cuda" cuda_f32:"--device cuda --precision f32" cpu_f64:"--device cpu"; do
    # shellcheck disable=SC2086
    t "4096 layer htsr ${mode%%:*} (whole command)" 60 "$BIN/htsr" analyze "$WORK/dense.safetensors" ${mode#*:} --format csv --out "$WORK/dense_${mode%%:*}.csv" --quiet
  done
  t "4096 layer reference analyze() x2" 300 env MPLBACKEND=Agg python3 - "$WORK/dense.safetensors" <<'PY'
import logging, sys, time
import torch
from safetensors.torch import load_file
logging.disable(logging.WARNING)
import weightwatcher as ww
sd = load_file(sys.argv[1])
best = float("inf")
for _ in range(2):
    watcher = ww.WeightWatcher(model=dict(sd))
    t0 = time.perf_counter()
    d = watcher.analyze(plot=False, savefig=False)
    best = min(best, time.perf_counter() - t0)
print(f"reference weightwatcher {ww.__version__} analyze(): {best:.2f} s (best of 2), alpha {d.iloc[0]['alpha']:.9f}")
PY
  for f in "$WORK"/dense_*.csv; do
    python3 -c 'import csv,sys; r=next(csv.DictReader(open(sys.argv[1]))); print(sys.argv[1].rsplit("/",1)[1], "alpha", r["alpha"])' "$f"
  done
else
  echo "weightwatcher is not importable here: reference section skipped"
fi
fi

echo "model_bench: $fails failed step(s)"
[ "$fails" -eq 0 ]
