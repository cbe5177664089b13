#!/usr/bin/env bash
# GPU check, ready to run on a CUDA machine (about 5 minutes, well under 8):
# training steps/s of the default recipe in fp32 and bf16, RTF and peak GPU
# memory of enhancing a 10-minute file, and the shipped model on the test split;
# prints one table (benchmarks/gpu_check.py). Uses .venv when it exists, else
# the current Python (which needs torch with CUDA, torchaudio, speechbrain and
# this package's requirements: on a machine without network, fetch them here
# first with benchmarks/gpu_wheels.sh and let .whl/ travel with the tree; they are
# then installed into /tmp/site). Extra arguments go to gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then
    # shellcheck disable=SC1091
    . .venv/bin/activate
elif [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    python3 -m pip install -q --no-index --no-deps --no-build-isolation --target /tmp/site \
        .whl/pesq-*
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python benchmarks/gpu_check.py "$@"
