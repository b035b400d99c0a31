#!/usr/bin/env bash
# The test suite (what CI runs): set up .venv, the static checks (scripts/lint.sh), then pytest without the slow tests. Pass pytest arguments through,
# e.g. `bash scripts/test.sh -m slow` for the long end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
if [ "${ASP_SKIP_LINT:-0}" != 1 ]; then bash scripts/lint.sh; fi
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
exec python -m pytest "$@"
