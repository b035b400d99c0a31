#!/usr/bin/env bash
# The multi-task ASP paper's comparisons at this machine's scale, in one resumable command (set-up included):
#   bash scripts/reproduce_mtasp.sh            # configs/reproduce/full.yaml, 84 minutes measured on 2 cores
#   bash scripts/reproduce_mtasp.sh --quick    # the whole pipeline in under a minute
# The report: runs/reproduce/REPORT.md (or --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
. .venv/bin/activate
exec asp reproduce "$@"
