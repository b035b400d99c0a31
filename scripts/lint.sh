#!/usr/bin/env bash
# The static checks (run by scripts/test.sh, so by CI): ruff lint and format, mypy on asp/, and the import contracts
# of docs/ARCHITECTURE's layers (import-linter, [tool.importlinter] in pyproject.toml), no import circle at all
# (scripts/check_import_cycles.py). Assumes an activated .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check asp tests scripts
ruff format --check asp tests scripts
mypy
lint-imports --no-cache
python scripts/check_import_cycles.py
