#!/usr/bin/env bash
# Creates (once) the virtual environment .venv and installs diffgmm-sb into it.
# Sourced by run_main.sh and run_tests.sh; VENV overrides the location.
set -euo pipefail
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --disable-pip-version-check -e ".[test]" -c scripts/constraints.txt
