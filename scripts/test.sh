#!/usr/bin/env bash
# The test suite (what CI runs): set up .venv, the static checks (scripts/lint.sh), then pytest without the slow tests. Pass pytest arguments through,
# e.g. `bash scripts/test.sh -m slow` for the long end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
if [ "${ASP_SKIP_LINT:-0}" != 1 ]; then bash scripts/lint.sh; fi
# the default run: the tests without the slow ones, in two processes (pytest-xdist; ASP_TEST_PROCESSES to change)
if [ "$#" -eq 0 ]; then set -- -m "not slow" -n "${ASP_TEST_PROCESSES:-2}" --dist loadgroup; fi
exec python -m pytest "$@"
