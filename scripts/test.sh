#!/usr/bin/env bash
# The test suite (what CI runs): set up .venv, then pytest without the slow tests. Pass pytest arguments through,
# e.g. `bash scripts/test.sh -m slow` for the long end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
exec python -m pytest "$@"
