#!/usr/bin/env bash
# Ablation of the number of mixture components K on the starter corpus: trains
# the main job's recipe (hparams/diffgmm.yaml, same CPU budget) once per K, then
# scores each run's best checkpoint on the starter test split and the 6 real
# VoiceBank+DEMAND pairs at 1 and 3 reverse steps (PESQ-wb, STOI, SI-SDR, RTF).
#   bash benchmarks/ablation.sh [K ...]      (default: 1 4 2 8)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/ablation}
PAIRS=${PAIRS:-../shared/data/voicebank_demand_train_p287}
KS=("${@:-1 4 2 8}")
for K in ${KS[*]}; do
    if [ ! -f "$OUT/K$K/test_scores_test.csv" ]; then
        python train.py hparams/diffgmm.yaml --num_components="$K" \
            --output_folder="$OUT/K$K" > "$OUT.K$K.log" 2>&1
    fi
done
for K in ${KS[*]}; do
    echo "## K = $K"
    PYTHONPATH=. python benchmarks/quality_vs_steps.py "$OUT/K$K" \
        --manifest data/starter/test.json --pairs "$PAIRS" --steps 1 3
done
