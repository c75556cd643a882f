#!/bin/sh
# Regenerates the committed Python stubs from proto/htsr/v1/*.proto (needs grpcio-tools:
# `pip install grpcio-tools`). Run after any change to the contract; the stubs are
# committed so that `pip install client/python` needs only grpcio and protobuf.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
proto_root="$here/../../proto"
out="$here/src/htsr_client/_gen"
python=${PYTHON:-python3}
rm -f "$out"/analysis_pb2.py "$out"/analysis_pb2_grpc.py "$out"/analysis_pb2.pyi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m grpc_tools.protoc -I "$proto_root" --python_out="$tmp" --pyi_out="$tmp" \
  --grpc_python_out="$tmp" "$proto_root/htsr/v1/analysis.proto"
cp "$tmp/htsr/v1/analysis_pb2.py" "$tmp/htsr/v1/analysis_pb2.pyi" "$out/"
# The generated service module imports its messages as a top-level package `htsr.v1`;
# inside this package the import must be relative.
sed 's/^from htsr\.v1 import analysis_pb2 as/from . import analysis_pb2 as/' \
  "$tmp/htsr/v1/analysis_pb2_grpc.py" > "$out/analysis_pb2_grpc.py"
echo "stubs written to $out"
