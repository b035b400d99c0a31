#!/usr/bin/env bash
# The main job on the built-in default, on a fresh machine: set up .venv, then run `asp quickstart`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
exec asp quickstart "$@"
