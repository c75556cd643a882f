#!/usr/bin/env bash
# Scan throughput (checkpoints/s) of 100 small generated checkpoints: embedded at several
# --jobs, then against 1 and 3 local htsr-server processes (127.0.0.1, ephemeral ports).
# Not a test: prints a table. Every number is one fresh scan (new database) on this machine.
#   tests/bench/scan_throughput.sh HTSR_BIN [HTSR_SERVER_BIN] [N]
set -euo pipefail
htsr=$(readlink -f "$1")
server=${2:+$(readlink -f "$2")}
n=${3:-100}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/htsr_scan_bench.XXXXXX)
pids=()
cleanup() {
  # `timeout` passes TERM on to its server; it also ends a server whose script died.
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/zoo" "$n" <<PY
import os, sys
sys.path.insert(0, "$here/../integration/scan")
import scan_test
os.makedirs(sys.argv[1])
paths, corrupt, manifest = scan_test.make_zoo(sys.argv[1], int(sys.argv[2]))
os.remove(corrupt); os.remove(manifest)
PY
bytes=$(du -sb "$work/zoo" | cut -f1)
cores=$(nproc)
echo "machine: $(uname -n), $cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "checkpoints: $n x 3 dense layers (96x64, 64x48, 80x80 F32), $bytes bytes in all"
printf '%-28s %6s %10s %14s\n' mode jobs seconds checkpoints/s

measure() {  # mode jobs args...
  local mode=$1 jobs=$2
  shift 2
  local db="$work/$RANDOM.sqlite" t0 t1
  t0=$(date +%s.%N)
  "$htsr" scan "$work/zoo" --db "$db" --jobs "$jobs" --quiet "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v m="$mode" -v j="$jobs" -v a="$t0" -v b="$t1" -v n="$n" \
    'BEGIN { printf "%-28s %6d %10.3f %14.1f\n", m, j, b - a, n / (b - a) }'
}

for jobs in 1 2 4 8 16; do
  [ "$jobs" -gt $((cores * 2)) ] && continue
  measure embedded "$jobs"
done

start_servers() {  # count -> sets addr to the comma list
  local count=$1 list="" pf
  for _ in $(seq 1 "$count"); do
    pf="$work/port.$RANDOM"
    # Each server gets an equal share of the cores, as separate machines would.
    timeout -s KILL 900 "$server" --listen 127.0.0.1:0 --port-file "$pf" --device cpu --log-calls=false \
      --workers $(( cores / count > 0 ? cores / count : 1 )) \
      --engine-threads $(( cores / count > 0 ? cores / count : 1 )) >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 200); do [ -s "$pf" ] && break; sleep 0.05; done
    list="${list:+$list,}127.0.0.1:$(cat "$pf")"
  done
  addr=$list
}

stop_servers() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

if [ -n "$server" ]; then
  for count in 1 3; do
    start_servers "$count"
    for jobs in 1 3 6 12 24; do
      measure "remote, $count server(s)" "$jobs" --server "$addr"
    done
    stop_servers
  done
fi
