#!/usr/bin/env bash
# Does real recorded noise help on real recordings? Trains the main job's recipe
# (hparams/diffgmm.yaml, same CPU budget, same speech) twice:
#   (a) synthetic: only the generated noise of the starter corpus (coloured, hum,
#       modulated, typing), via a filtered copy of noise_train.json;
#   (b) real: the default noise pool (recorded noise + generated noise);
# then scores both best checkpoints on the corpus's test split and the 6 real
# VoiceBank+DEMAND pairs (PESQ-wb, STOI, SI-SDR) at the default 1 step.
#   bash benchmarks/real_vs_synthetic.sh [extra train.py arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/real_vs_synthetic}
PAIRS=${PAIRS:-../shared/data/voicebank_demand_train_p287}
DATA=data/starter
mkdir -p "$OUT"
python - "$DATA" <<'PY'
import json, os, sys
folder = sys.argv[1]
with open(os.path.join(folder, "noise_train.json")) as f:
    entries = json.load(f)
generated = {k: v for k, v in entries.items() if not v["recorded"]}
with open(os.path.join(folder, "noise_train_generated.json"), "w") as f:
    json.dump(generated, f, indent=2)
print(f"(a) uses {len(generated)} of {len(entries)} training noise files")
PY
declare -A NOISE=([synthetic]="$DATA/noise_train_generated.json" [real]="$DATA/noise_train.json")
for RUN in synthetic real; do
    if [ ! -f "$OUT/$RUN/test_scores_real.csv" ]; then
        python train.py hparams/diffgmm.yaml --noise_annotation="${NOISE[$RUN]}" \
            --output_folder="$OUT/$RUN" "$@" > "$OUT/$RUN.log" 2>&1
    fi
done
for RUN in synthetic real; do
    echo "## ($RUN)"
    PYTHONPATH=. python benchmarks/quality_vs_steps.py "$OUT/$RUN" \
        --manifest "$DATA/test.json" --pairs "$PAIRS" --steps 1
done
