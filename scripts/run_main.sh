#!/usr/bin/env bash
# Sets up .venv, builds the starter corpus (once) and trains + tests DiffGMM on it.
# Extra arguments are passed to train.py, e.g. --num_components=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
python train.py hparams/diffgmm.yaml "$@"
