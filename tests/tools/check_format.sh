#!/usr/bin/env bash
# Fails when a tracked C++/CUDA/proto file differs from .clang-format's style.
set -euo pipefail
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files '*.cc' '*.h' '*.cu' '*.cuh' '*.proto' 2>/dev/null || true)
[ ${#files[@]} -gt 0 ] || { echo "no files to check"; exit 0; }
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f  (run: clang-format -i $f)"; bad=1
  fi
done
[ $bad = 0 ] && echo "format ok (${#files[@]} files)"
exit $bad
