"""The VoiceBank-DEMAND recipe: preparation, and prepare -> train -> evaluate end to end.

Runs on a tiny fake copy of the official folder layout (``recipe_fakes``),
never on the real data set.
"""

import csv
import doctest
import os

import numpy as np
import pytest
import soundfile as sf
from recipe_fakes import (
    ROOT,
    VOICEBANK_TEST,
    VOICEBANK_TRAIN,
    load_script,
    make_voicebank,
    read_json,
    run_copied_recipe,
)

from diffgmm_sb.data.manifests import ManifestError
from diffgmm_sb.evaluation.evaluate import METRICS

RECIPE = os.path.join(ROOT, "recipes", "Voicebank", "enhance", "DiffGMM")


prepare = load_script(RECIPE, "voicebank_prepare")


def test_the_preparation_doctests_pass():
    result = doctest.testmod(prepare, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_manifests_are_speechbrains_with_two_held_out_speakers(tmp_path):
    data = make_voicebank(str(tmp_path / "vb"))
    save = tmp_path / "manifests"
    prepare.prepare_voicebank(data, str(save))
    train, valid, test = (read_json(save / f"{s}.json") for s in ("train", "valid", "test"))
    assert sorted(valid) == ["p226_001", "p226_002", "p287_001"]
    assert sorted(train) == sorted(set(VOICEBANK_TRAIN) - set(valid))
    assert sorted(test) == sorted(VOICEBANK_TEST)
    entry = train["p230_001"]
    assert entry["noisy_wav"] == "{data_root}/noisy_trainset_28spk_wav_16k/p230_001.wav"
    assert entry["clean_wav"] == "{data_root}/clean_trainset_28spk_wav_16k/p230_001.wav"
    assert test["p232_001"]["clean_wav"] == "{data_root}/clean_testset_wav_16k/p232_001.wav"
    frames = sf.info(
        os.path.join(data, "clean_trainset_28spk_wav_16k", "p230_001.wav")
    ).frames
    assert entry["length"] == frames / 16000
    assert entry["words"] == "FIXTURE PROMPT NUMBER 2"
    assert "phones" not in entry  # no lexicon, no network


def test_preparation_runs_once_and_again_when_its_options_change(tmp_path):
    data = make_voicebank(str(tmp_path / "vb"))
    save = tmp_path / "manifests"
    prepare.prepare_voicebank(data, str(save))
    os.utime(save / "train.json", (0, 0))
    prepare.prepare_voicebank(data, str(save))
    assert os.path.getmtime(save / "train.json") == 0
    prepare.prepare_voicebank(data, str(save), valid_speakers=["p226"])
    assert sorted(read_json(save / "valid.json")) == ["p226_001", "p226_002"]


def test_a_file_without_partner_or_folder_is_named(tmp_path):
    data = make_voicebank(str(tmp_path / "vb"))
    os.remove(os.path.join(data, "clean_testset_wav_16k", "p257_002.wav"))
    with pytest.raises(
        ManifestError, match="noisy_testset_wav_16k/p257_002.wav: no partner"
    ):
        prepare.prepare_voicebank(data, str(tmp_path / "m"))
    with pytest.raises(ManifestError, match="neither noisy_trainset_28spk_wav_16k/"):
        prepare.prepare_voicebank(str(tmp_path), str(tmp_path / "m"))


def test_recipe_end_to_end_from_the_48khz_originals(tmp_path):
    data = make_voicebank(str(tmp_path / "VoiceBank"), rate=48000)
    out = tmp_path / "out"
    run_copied_recipe(
        os.path.join("Voicebank", "enhance", "DiffGMM"),
        str(tmp_path / "speechbrain"),
        data,
        str(out),
    )
    # Preparation: resampled once into the *_16k folders SpeechBrain names.
    original = os.path.join(data, "noisy_testset_wav", "p232_001.wav")
    resampled = os.path.join(data, "noisy_testset_wav_16k", "p232_001.wav")
    assert sf.info(resampled).samplerate == 16000
    assert sf.info(resampled).frames == sf.info(original).frames // 3
    assert sorted(read_json(out / "test.json")) == sorted(VOICEBANK_TEST)

    # Training: one epoch logged; the test stage wrote every enhanced file.
    log = (out / "train_log.txt").read_text()
    assert log.count("epoch: 1") == 1 and "valid pesq" in log and "test pesq" in log
    enhanced = sorted(os.listdir(out / "enhanced" / "test"))
    assert enhanced == [f"{uid}.wav" for uid in sorted(VOICEBANK_TEST)]

    # Evaluation: every measure, for the noisy and the enhanced audio.
    with open(out / "test_metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["system"], r["id"]) for r in rows) == sorted(
        (s, uid) for s in ("noisy", "enhanced") for uid in VOICEBANK_TEST
    )
    for row in rows:
        assert all(np.isfinite(float(row[m])) for m in METRICS), row
    table = (out / "test_metrics.md").read_text()
    assert "| noisy | 3 |" in table and "| enhanced | 3 |" in table and "CSIG" in table


def test_the_spectral_mask_baseline_runs_in_the_same_recipe(tmp_path):
    data = make_voicebank(str(tmp_path / "VoiceBank"))
    out = tmp_path / "out"
    run_copied_recipe(
        os.path.join("Voicebank", "enhance", "DiffGMM"),
        str(tmp_path / "speechbrain"),
        data,
        str(out),
        hparams="metricgan_generator.yaml",
    )
    log = (out / "train_log.txt").read_text()
    assert "train mse" in log and "nll" not in log and "test pesq" in log
    checkpoint = next(p for p in os.listdir(out / "save") if p.startswith("CKPT"))
    assert (out / "save" / checkpoint / "generator.ckpt").is_file()
    table = (out / "test_metrics.md").read_text()
    assert "| noisy | 3 |" in table and "| enhanced | 3 |" in table
