#!/usr/bin/env bash
# Set up the environment (idempotent) and run the test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$ROOT/.venv/bin/python" -m pytest -q tests "$@"
