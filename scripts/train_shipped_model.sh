#!/usr/bin/env bash
# Reproduces the model shipped in diffgmm_sb/pretrained/: trains the recipe on the
# starter corpus, exports the best checkpoint as a hub-style model folder and
# scores it (starter test split + the real VoiceBank+DEMAND pairs, if present).
# Extra arguments go to train.py (the shipped model's are in its README).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup_env.sh
RUN=${RUN:-results/shipped}
python train.py hparams/diffgmm.yaml --output_folder="$RUN" "$@"
python -m diffgmm_sb.inference.export --half "$RUN" diffgmm_sb/pretrained
python benchmarks/quality_vs_steps.py diffgmm_sb/pretrained \
    --manifest data/starter/test.json --pairs ../shared/data/voicebank_demand_train_p287 \
    --steps 1 3
