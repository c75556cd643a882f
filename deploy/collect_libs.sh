#!/usr/bin/env bash
# Copies the shared libraries that the given binaries need into DEST, for a runtime image
# that holds only the binaries and their libraries. The C library, the dynamic loader and
# the CUDA libraries are left out: the runtime base image provides them (its CUDA runtime
# must match the toolkit the binaries were built with; libcuda comes from the host driver).
#   collect_libs.sh DEST BINARY...
set -euo pipefail
dest=$1
shift
mkdir -p "$dest"
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libcuda\.so|libcudart|libcublas|libcublasLt|libcusolver|libcusparse|libnvJitLink)'
for bin in "$@"; do
  ldd "$bin" | awk '/=> \//{print $1, $3}' | while read -r name path; do
    if [[ "$name" =~ $skip ]]; then continue; fi
    cp -Lnv "$path" "$dest/$name" >/dev/null
  done
done
# Fail here, not at run time, if a library could not be found.
if ldd "$@" | grep -q "not found"; then
  ldd "$@" | grep "not found" >&2
  exit 1
fi
ls "$dest"
