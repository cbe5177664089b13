"""benchmarks/scores_by_category.py: per-category means of train.py's score file."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import scores_by_category  # noqa: E402


def _write(tmp_path, rows, manifest):
    scores = tmp_path / "test_scores_test.csv"
    scores.write_text(
        "id,noisy_pesq,noisy_stoi,enhanced_pesq,enhanced_stoi\n"
        + "".join(",".join(map(str, r)) + "\n" for r in rows)
    )
    path = tmp_path / "test.json"
    path.write_text(json.dumps(manifest))
    return str(scores), str(path)


def test_table_gives_each_category_and_overall_means(tmp_path, capsys):
    rows = [
        ("a", 1.0, 0.8, 1.5, 0.85),
        ("b", 1.2, 0.9, 1.3, 0.95),
        ("c", 2.0, 0.7, 3.0, 0.75),
    ]
    manifest = {
        "a": {"noise_category": "rain", "snr": 5.0},
        "b": {"noise_category": "rain", "snr": 15.0},
        "c": {"noise_category": "hum", "snr": 0.0},
    }
    scores_by_category.main(list(_write(tmp_path, rows, manifest)))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| category | n | mean SNR (dB) | pesq | stoi |"
    assert "| hum | 1 | 0.0 | 2.00 → 3.00 | 0.700 → 0.750 |" in lines
    assert "| rain | 2 | 10.0 | 1.10 → 1.40 | 0.850 → 0.900 |" in lines
    assert "| all | 3 | 6.7 | 1.40 → 1.93 | 0.800 → 0.850 |" in lines


def test_an_utterance_missing_from_the_manifest_is_named(tmp_path):
    files = _write(tmp_path, [("zz", 1.0, 0.8, 1.5, 0.85)], {"a": {"noise_category": "x"}})
    with pytest.raises(SystemExit, match="utterance zz"):
        scores_by_category.main(list(files))
