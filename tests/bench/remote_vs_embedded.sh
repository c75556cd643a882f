#!/bin/sh
# Remote vs embedded, end to end, on loopback (report only; not a test).
#   tests/bench/remote_vs_embedded.sh [BUILD_DIR] [MODEL...]
# MODEL: "large" (6 x 2048x1024 f32), "xlarge" (4 x 4096x2048 f32), "ingest" (64 x
# 49152x32 f32: transport-bound), "small"
# (400 x 128x64 f32) or a checkpoint path. REPEAT=N: best of N (default 3).
# Starts htsr-server from BUILD_DIR (default build-grpc) on an ephemeral port, runs
# htsr_remote_bench for each model (best of 3, interleaved), then 8 concurrent clients.
set -eu
build=${1:-build-grpc}
shift 2>/dev/null || true
models=${*:-large small}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/server/htsr-server" --listen=127.0.0.1:0 --port-file="$tmp/port" --log-calls=false \
  2>"$tmp/server.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
port=$(cat "$tmp/port")
echo "htsr-server pid $pid on 127.0.0.1:$port ($(nproc) cores)"
for m in $models; do
  "$build/tests/integration/server/htsr_remote_bench" --server="127.0.0.1:$port" --model="$m" \
    --clients=8 --repeat=${REPEAT:-3}
  echo "server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2/1024 " MiB"}')"
done
