#!/usr/bin/env bash
# Create .venv and install asp with its test, lint, cluster (Ray), dexed and vital (GPL synth bindings) extras (idempotent). Installs amsynth, hexter (DX7 ROM voices) and chromium-headless-shell from Debian when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# PyTorch first, pinned, so that the package's `torch>=2.1` is already satisfied: on this project's machines
# torch==2.13.0 is a CPU build on local disk (a bare `torch` would pull a multi-GB CUDA build). GPU users install
# their CUDA build before running this (README, "GPU"); an installed torch is kept.
if ! python -c "import torch" >/dev/null 2>&1; then
  python -m pip install -q "torch==${ASP_TORCH_VERSION:-2.13.0}"
fi
python -m pip install -q -e '.[test,lint,cluster,dexed,vital]'
if [ ! -f /usr/lib/vst/amsynth_vst.so ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq amsynth) >/dev/null 2>&1 \
    || echo "warning: could not install amsynth; plugin tests will be skipped" >&2
fi
# Debian's hexter ships Yamaha's DX7 ROM voices: the dexed synth's hand-made presets.
if [ ! -f /usr/share/hexter/dx7_roms.dx7 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hexter || (apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hexter)) >/dev/null 2>&1 \
    || echo "warning: could not install hexter; the DX7 ROM voices will be missing" >&2
fi
# A headless browser for the test that opens asp infer's report.html (skipped, saying so, where none installs).
if ! command -v chromium-headless-shell >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell) >/dev/null 2>&1 \
    || echo "warning: could not install chromium-headless-shell; the report.html browser test will be skipped" >&2
fi
