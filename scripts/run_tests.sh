#!/usr/bin/env bash
# Sets up .venv and runs lint + the test suite (fast tests; --runslow adds slow ones).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
ruff check .
ruff format --check .
python -m pytest "$@"
