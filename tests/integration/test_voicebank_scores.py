"""The evaluator on six real VoiceBank+DEMAND pairs (noisy input against clean).

The pairs (speaker p287, files 001-006 of the *training* set) are not in the
repository; the test is skipped without them. They are not the test set, so
their averages are not expected to equal the published noisy-input averages of
the 824 test files; they must lie in a loose band around them, and stay those
measured when the evaluator was written (a regression check, not a reference).
"""

import os

import pytest

from diffgmm_sb.evaluation import evaluate as E

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get(
    "VOICEBANK_P287",
    os.path.join(ROOT, "..", "shared", "data", "voicebank_demand_train_p287"),
)

# Noisy-input averages of the 824 VoiceBank+DEMAND test files (SEGAN, Interspeech
# 2017, Table 1; STOI: github.com/ruizhecao96/CMGAN python_noisy_metrics.log),
# with the band the six training pairs of one speaker must fall in.
PUBLISHED_NOISY = {
    "pesq_wb": (1.97, 1.0),
    "csig": (3.35, 1.0),
    "cbak": (2.44, 1.0),
    "covl": (2.63, 1.0),
    "ssnr": (1.68, 5.0),
    "stoi": (0.91, 0.15),
}
VALID_RANGE = {
    "pesq_wb": (1.0, 4.65),
    "pesq_nb": (1.0, 4.55),
    "csig": (1.0, 5.0),
    "cbak": (1.0, 5.0),
    "covl": (1.0, 5.0),
    "ssnr": (-10.0, 35.0),
    "stoi": (0.0, 1.0),
    "estoi": (0.0, 1.0),
}
# Averages of the six pairs measured with this evaluator (PESQ-wb, STOI and
# SI-SDR also agree with the README's figures from the training recipe).
MEASURED = {
    "pesq_wb": 1.413,
    "pesq_nb": 1.974,
    "stoi": 0.834,
    "estoi": 0.611,
    "csig": 2.639,
    "cbak": 2.069,
    "covl": 1.958,
    "ssnr": 1.631,
    "si_sdr": 8.201,
}


@pytest.mark.skipif(not os.path.isdir(DATA), reason=f"{DATA} not present")
def test_noisy_voicebank_pairs_score_in_the_published_range():
    pairs = E.pairs_from_folders(os.path.join(DATA, "clean"), os.path.join(DATA, "noisy"))
    rows, failures = E.score_files(pairs)
    assert len(rows) == 6 and not failures
    for row in rows:
        for name, (low, high) in VALID_RANGE.items():
            assert low <= row[name] <= high, (row["id"], name, row[name])
    means = E.mean_scores(rows)
    for name, (published, band) in PUBLISHED_NOISY.items():
        assert abs(means[name] - published) <= band, (name, means[name])
    for name, value in MEASURED.items():
        assert means[name] == pytest.approx(value, abs=2e-3), name
