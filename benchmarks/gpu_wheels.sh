#!/usr/bin/env bash
# Fetches into .whl/ (git-ignored) what benchmarks/gpu_check.sh needs on a CUDA
# machine that has no network and whose Python 3.12 already holds torch,
# torchaudio, numpy, scipy and tqdm: pure or manylinux wheels for CPython 3.12,
# and pesq's source (a C extension, built there with its numpy and Cython).
# On that machine (the working tree travels with .whl):
#   pip install --no-index --no-deps --target /tmp/site .whl/*.whl
#   pip install --no-index --no-deps --no-build-isolation --target /tmp/site .whl/pesq-*
#   PYTHONPATH=/tmp/site bash benchmarks/gpu_check.sh
# (gpu_check.sh runs those two installs itself when .whl/ exists.)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl speechbrain==1.1.2 hyperpyyaml ruamel.yaml \
    ruamel.yaml.clib pystoi soundfile torch-pesq torch-stoi sentencepiece
# pip reads an sdist's metadata by running its build, which for pesq needs numpy
# and Cython: a throw-away environment provides them.
tools=$(mktemp -d)
python3 -m venv "$tools"
"$tools/bin/pip" install -q cython numpy setuptools wheel
"$tools/bin/pip" download -q --no-deps --no-binary=:all: --no-build-isolation -d .whl pesq
rm -rf "$tools"
du -sh .whl
