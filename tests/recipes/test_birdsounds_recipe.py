"""The BirdSoundsDenoising recipe: preparation, and prepare -> train -> evaluate end to end.

Runs on a tiny fake copy of the dataset's published layout (``recipe_fakes``).
"""

import csv
import doctest
import os

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from recipe_fakes import (
    BIRD_SPLITS,
    ROOT,
    load_script,
    make_birdsounds,
    read_json,
    run_copied_recipe,
)

from diffgmm_sb.data.manifests import ManifestError

RECIPE = os.path.join(ROOT, "recipes", "BirdSoundsDenoising", "enhance", "DiffGMM")


prepare = load_script(RECIPE, "birdsounds_prepare")


def _path(entry, key, data):
    return entry[key].replace("{data_root}", data)


def test_the_preparation_doctests_pass():
    result = doctest.testmod(prepare)
    assert result.attempted > 0 and result.failed == 0


def test_pairs_are_matched_by_name_and_normalised_where_needed(tmp_path):
    data = make_birdsounds(str(tmp_path / "birds"), rate=22050)
    save = tmp_path / "m"
    prepare.prepare_birdsounds(data, str(save))
    for split, count in BIRD_SPLITS.items():
        entries = read_json(save / f"{split.lower()}.json")
        assert len(entries) == count
        for uid, entry in entries.items():
            noisy, clean = (_path(entry, k, data) for k in ("noisy_wav", "clean_wav"))
            assert noisy.endswith(f"{split}/Raw_audios_16k/{uid}.wav")
            assert clean.endswith(f"{split}/Denoised_audios_16k/{uid}.wav")
            n, c = sf.info(noisy), sf.info(clean)
            assert n.samplerate == c.samplerate == 16000 and n.channels == c.channels == 1
            assert n.frames == c.frames == 16000 and entry["length"] == 1.0

    # The stereo "_left" recording keeps its left channel (the bird), not the mean.
    noisy, _ = sf.read(
        _path(read_json(save / "train.json")["XC1005_left"], "noisy_wav", data)
    )
    stereo, rate = sf.read(os.path.join(data, "Train", "Raw_audios", "XC1005_left.wav"))
    left, mean = (
        AF.resample(torch.from_numpy(x), rate, 16000).numpy()
        for x in (stereo[:, 0], stereo.mean(axis=1))
    )
    assert np.abs(noisy - left).max() < 1e-3 < np.abs(noisy - mean).max()


def test_another_model_rate_gets_its_own_copies(tmp_path):
    data = make_birdsounds(str(tmp_path / "birds"), rate=22050)
    prepare.prepare_birdsounds(data, str(tmp_path / "m"), sample_rate=22050)
    entry = read_json(tmp_path / "m" / "test.json")["XC1004"]
    assert entry["noisy_wav"] == "{data_root}/Test/Raw_audios_22k/XC1004.wav"
    info = sf.info(_path(entry, "clean_wav", data))
    assert (info.samplerate, info.frames, entry["length"]) == (22050, 22050, 1.0)


def test_ready_pairs_point_to_the_original_files(tmp_path):
    data = make_birdsounds(str(tmp_path / "birds"), rate=16000, shorter=0)
    prepare.prepare_birdsounds(data, str(tmp_path / "m"))
    train = read_json(tmp_path / "m" / "train.json")
    assert train["XC1015"]["noisy_wav"] == "{data_root}/Train/Raw_audios/XC1015.wav"
    assert train["XC1015"]["clean_wav"] == "{data_root}/Train/Denoised_audios/XC1015.wav"
    # Only the stereo one needed a copy.
    assert train["XC1005_left"]["noisy_wav"].endswith("Raw_audios_16k/XC1005_left.wav")
    assert os.listdir(os.path.join(data, "Train", "Raw_audios_16k")) == ["XC1005_left.wav"]


def test_split_folders_are_found_in_any_case_and_unmatched_files_named(tmp_path):
    data = make_birdsounds(str(tmp_path / "birds"), rate=16000)
    os.rename(os.path.join(data, "Train"), os.path.join(data, "training"))
    os.remove(os.path.join(data, "Test", "Denoised_audios", "XC1004.wav"))
    with pytest.raises(ManifestError, match=r"Raw_audios/XC1004.wav: no partner"):
        prepare.prepare_birdsounds(data, str(tmp_path / "m"))
    os.remove(os.path.join(data, "Test", "Raw_audios", "XC1004.wav"))
    prepare.prepare_birdsounds(data, str(tmp_path / "m"))
    assert len(read_json(tmp_path / "m" / "train.json")) == BIRD_SPLITS["Train"]
    os.rename(os.path.join(data, "Valid"), os.path.join(data, "dev"))
    with pytest.raises(ManifestError, match="expected one valid folder"):
        prepare.prepare_birdsounds(data, str(tmp_path / "m2"))


def test_recipe_end_to_end_scores_sdr(tmp_path):
    data = make_birdsounds(str(tmp_path / "BirdSoundsDenoising"))
    out = tmp_path / "out"
    run_copied_recipe(
        "BirdSoundsDenoising/enhance/DiffGMM", str(tmp_path / "sb"), data, str(out)
    )

    log = (out / "train_log.txt").read_text()
    assert log.count("epoch: 1") == 1 and "valid sdr" in log and "test sdr" in log
    assert "pesq" not in log  # speech measures are not computed on bird song
    checkpoint = next(p for p in os.listdir(out / "save") if p.startswith("CKPT"))
    assert "sdr:" in (out / "save" / checkpoint / "CKPT.yaml").read_text()

    tests = sorted(read_json(out / "test.json"))
    assert sorted(os.listdir(out / "enhanced" / "test")) == [f"{u}.wav" for u in tests]
    with open(out / "test_metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["id", "system", "sdr", "si_sdr"]
    assert sorted((r["system"], r["id"]) for r in rows) == sorted(
        (s, u) for s in ("noisy", "enhanced") for u in tests
    )
    # The fake noisy files are mixed at 0 dB: their SDR is about 0 dB.
    noisy = [float(r["sdr"]) for r in rows if r["system"] == "noisy"]
    assert all(abs(v) < 0.5 for v in noisy), noisy
    assert "| enhanced | 2 |" in (out / "test_metrics.md").read_text()
