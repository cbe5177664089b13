#!/usr/bin/env bash
# Proves the oldest versions setup.py claims, and that inference needs no extra:
# a fresh venv on the oldest Python with the oldest torch/torchaudio/SpeechBrain,
# `pip install .` (no extras), diffgmm-enhance on a real file, then the inference
# tests (with pytest only: no pesq, pystoi, torch-pesq or av installed).
#   bash scripts/check_oldest.sh   # PYTHON=python3.10 (any 3.10 interpreter) TORCH=2.3.1 SB=1.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.10}
TORCH=${TORCH:-2.3.1}
SB=${SB:-1.1.0}
VENV=${VENV:-/tmp/diffgmm_oldest}
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
pip install -q --disable-pip-version-check . "torch==$TORCH" "torchaudio==$TORCH" \
    "speechbrain==$SB"
python -c "import sys, torch, torchaudio, speechbrain as sb; print('python', sys.version.split()[0], 'torch', torch.__version__, 'torchaudio', torchaudio.__version__, 'speechbrain', sb.__version__)"
for missing in pesq pystoi torch_pesq av matplotlib; do
    python -c "import $missing" 2>/dev/null && { echo "$missing should not be installed"; exit 1; }
done
out=$(mktemp -d)
(cd "$out" && diffgmm-enhance "$OLDPWD/tests/fixtures/audio/june_fr_ascii34.wav" -o enhanced)
python -c "import soundfile as sf, sys; i = sf.info(sys.argv[1]); print('enhanced:', i.frames, 'frames at', i.samplerate, 'Hz')" "$out/enhanced/june_fr_ascii34.wav"
pip install -q --disable-pip-version-check pytest
# The inference tests, against the installed package (not the checkout).
cp -r tests "$out/tests"
cd "$out" && python -m pytest -q -p no:cacheprovider -o addopts="" -o pythonpath=tests \
    tests/unit/test_inference.py tests/unit/test_pretrained.py tests/reliability/test_bad_inputs.py \
    tests/reliability/test_safe_loading.py
