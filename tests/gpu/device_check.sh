#!/usr/bin/env bash
# GPU device check in two halves.
#   prepare  (here, no GPU needed): Release CUDA build for sm_90 of everything that builds,
#            then binaries + the shared libraries they need into .device-carry/ (< 60 MiB).
#   run      (on the device, repo root, .device-carry carried): nvidia-smi, the gpu-labelled
#            test binaries, then tests/gpu/gpu_bench; report in $OUT/device_report.txt.
# Env: HTSR_DEVICE_BUILD (build dir, default build-device), HTSR_DEVICE_SERVER (ON/OFF,
# default ON: server binaries too when they build), HTSR_DEVICE_JOBS (default 2),
# HTSR_DEVICE_BENCH_REPS (default 20).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CARRY="$ROOT/.device-carry"
MODE="${1:-}"

# Libraries that must come from the device itself: the CUDA stack (CUDA 13 there, in
# /usr/local/cuda and in torch's nvidia pip packages) and glibc.
SKIP_RE='^(libcuda|libcudart|libcublas|libcublasLt|libcusolver|libcusparse|libnvJitLink|libnvidia|libnvrtc|libcufft|libcurand|libc\.so|libm\.so|libmvec|libpthread|libdl\.so|librt\.so|libresolv|ld-linux|linux-vdso)'
# C++ runtime: the device's (newer) one is preferred, because the CUDA libraries there may
# need symbols that this machine's older one lacks; ours is a fallback only.
FALLBACK_RE='^(libstdc\+\+|libgcc_s)'

prepare() {
  local build="${HTSR_DEVICE_BUILD:-$ROOT/build-device}"
  local jobs="${HTSR_DEVICE_JOBS:-2}"
  cmake -S "$ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHTSR_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DHTSR_SERVER="${HTSR_DEVICE_SERVER:-ON}" \
    -DHTSR_TESTS=ON -DHTSR_BENCH=ON || { echo "prepare: configure failed"; return 1; }
  # -k 0: carry everything that builds even if another engineer's target is mid-edit.
  if ! ninja -C "$build" -j "$jobs" -k 0; then
    echo "prepare: WARNING some targets failed to build; carrying those that did"
  fi

  rm -rf "$CARRY"
  mkdir -p "$CARRY/bin" "$CARRY/lib" "$CARRY/lib-fallback"
  local f name
  while IFS= read -r f; do
    head -c 4 "$f" | grep -q 'ELF' || continue
    name="$(basename "$f")"
    objcopy --strip-unneeded "$f" "$CARRY/bin/$name" 2>/dev/null || cp "$f" "$CARRY/bin/$name"
  done < <(find "$build" -type f -perm -u+x ! -path '*/CMakeFiles/*' ! -name '*.so*' \
             ! -name '*.sh' ! -name '*.py' | sort)

  # The gpu-labelled test binaries, by their sources (tests/CMakeLists.txt's glob).
  : > "$CARRY/gpu_tests.txt"
  for f in "$ROOT"/tests/gpu/*_test.cc "$ROOT"/tests/gpu/*_test.cu; do
    [ -e "$f" ] || continue
    name="$(basename "${f%.*}")"
    [ -x "$CARRY/bin/$name" ] && echo "$name" >> "$CARRY/gpu_tests.txt"
  done

  local lib path soname
  for f in "$CARRY"/bin/*; do
    ldd "$f" 2>/dev/null | awk '/=>/ && $3 ~ /^\// {print $1, $3}'
  done | sort -u | while read -r soname path; do
    if [[ "$soname" =~ $SKIP_RE ]]; then continue; fi
    if [[ "$soname" =~ $FALLBACK_RE ]]; then
      cp -L "$path" "$CARRY/lib-fallback/$soname"
    else
      cp -L "$path" "$CARRY/lib/$soname"
    fi
  done
  # Stripping shared libraries keeps their dynamic symbols (what the loader needs).
  for lib in "$CARRY"/lib/* "$CARRY"/lib-fallback/*; do
    [ -f "$lib" ] && strip --strip-unneeded "$lib" 2>/dev/null
  done

  echo "prepare: carried $(ls "$CARRY/bin" | wc -l) binaries, $(ls "$CARRY/lib" | wc -l) libraries" \
       "(+ $(ls "$CARRY/lib-fallback" | wc -l) fallback): $(du -sk "$CARRY/lib" | cut -f1) KiB of" \
       "libraries before compression"
  # Debian's OpenBLAS alone is ~35 MiB (every CPU kernel) and there are ~40 test binaries:
  # everything travels xz-packed and 'run' unpacks it to /tmp.
  tar -C "$CARRY" -cf - bin lib lib-fallback | xz -6 -T2 > "$CARRY/carry.tar.xz" &&
    rm -rf "$CARRY/bin" "$CARRY/lib" "$CARRY/lib-fallback"
  echo "prepare: gpu tests: $(tr '\n' ' ' < "$CARRY/gpu_tests.txt")"
  local kib
  kib=$(du -sk "$CARRY" | cut -f1)
  echo "prepare: .device-carry is $((kib / 1024)) MiB ($kib KiB)"
  if [ "$kib" -gt $((60 * 1024)) ]; then
    echo "prepare: ERROR over 60 MiB; largest:"; du -ak "$CARRY" | sort -n | tail -12
    return 1
  fi
}

# Directories holding the device's CUDA 13 libraries, in search order.
cuda_lib_dirs() {
  local d
  for d in /usr/local/cuda/lib64 /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib \
           $(python3 -c 'import nvidia, os, glob; [print(p) for b in nvidia.__path__ for p in sorted(glob.glob(os.path.join(b, "*", "lib")))]' 2>/dev/null); do
    [ -d "$d" ] || continue
    if ls "$d"/libcublas.so.13* "$d"/libcusolver.so.12* "$d"/libcusparse.so.12* \
          "$d"/libnvJitLink.so.13* "$d"/libcublasLt.so.13* >/dev/null 2>&1; then
      echo "$d"
    fi
  done | awk '!seen[$0]++'
}

run_step() {  # run_step NAME SECONDS CMD...: runs with a timeout, records the outcome
  local name="$1" secs="$2"; shift 2
  local t0=$SECONDS rc
  echo; echo "=== $name (limit ${secs}s)"
  timeout -k 5 "$secs" "$@"
  rc=$?
  RESULTS+=("$name: rc=$rc in $((SECONDS - t0))s")
  return 0
}

run() {
  local out="${OUT:-/tmp/htsr-device-out}"
  mkdir -p "$out"
  # A pipeline (not `exec > >(tee)`) so the report is complete when the script returns.
  run_body 2>&1 | tee "$out/device_report.txt"
}

run_body() {
  cd "$ROOT" || return 1
  [ -f "$CARRY/carry.tar.xz" ] || { echo "run: $CARRY missing: run 'prepare' here and carry it"; return 1; }
  local dirs libs bin
  libs="$(mktemp -d /tmp/htsr-carry.XXXXXX)"
  trap 'rm -rf "$libs"' RETURN
  xz -dc "$CARRY/carry.tar.xz" | tar -C "$libs" -xf - || { echo "run: cannot unpack the carry"; return 1; }
  bin="$libs/bin"
  dirs="$(cuda_lib_dirs | paste -sd: -)"
  echo "CUDA library dirs found: ${dirs:-none}"
  export LD_LIBRARY_PATH="$libs/lib${dirs:+:$dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if ! /sbin/ldconfig -p 2>/dev/null | grep -q 'libstdc++.so.6 '; then
    LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$libs/lib-fallback"
  fi
  echo "date: $(date -u)"
  echo "host: $(uname -srm), $(nproc) cores"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  nvidia-smi || echo "nvidia-smi failed"
  local missing
  missing="$(for f in "$bin"/*; do ldd "$f" | grep 'not found'; done | sort -u)"
  [ -n "$missing" ] && echo "unresolved libraries:" && echo "$missing"

  RESULTS=()
  local t
  while read -r t; do
    [ -n "$t" ] && [ -z "${HTSR_DEVICE_SKIP_TESTS:-}" ] || continue
    run_step "$t" "${HTSR_DEVICE_TEST_LIMIT:-90}" "$bin/$t" --gtest_brief=1
  done < "$CARRY/gpu_tests.txt"
  if [ -x "$bin/gpu_bench" ] && [ -z "${HTSR_DEVICE_SKIP_TESTS:-}" ]; then
    run_step gpu_bench "${HTSR_DEVICE_BENCH_LIMIT:-90}" "$bin/gpu_bench" \
      --reps "${HTSR_DEVICE_BENCH_REPS:-20}"
  fi
  if [ -x "$bin/htsr" ]; then
    run_step model_bench "${HTSR_DEVICE_MODEL_LIMIT:-360}" bash "$ROOT/tests/gpu/model_bench.sh" "$bin"
  fi
  echo; echo "=== summary"
  printf '%s\n' "${RESULTS[@]}"
}

case "$MODE" in
  prepare) prepare ;;
  run) run ;;
  *) echo "usage: $0 prepare|run"; exit 2 ;;
esac
