"""A corpus from a user's own speech and noise folders (no apt-get), and train.py on it."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from fixture_corpus import AUDIO
from recipe import errors, recipe_command

from diffgmm_sb.data.folder_corpus import prepare_folder_corpus
from diffgmm_sb.data.manifests import ManifestError


def _own_folders(root, speakers=("allison", "carlo", "ivrvoice", "june")):
    """DIR/speech/<speaker>/ (two 2-3 s takes each, 16 and 22.05 kHz) and DIR/noise/."""
    for speaker in speakers:
        takes = sorted(glob.glob(os.path.join(AUDIO, f"{speaker}_*.wav")))
        wav = np.concatenate([sf.read(p)[0] for p in takes])
        folder = root / "speech" / speaker
        folder.mkdir(parents=True)
        sf.write(folder / "a.wav", wav, 16000)
        sf.write(folder / "b.flac", wav[::-1].copy(), 16000)
    for path in glob.glob(os.path.join(AUDIO, "noise_*.wav")):
        category = os.path.basename(path)[6:-4]
        (root / "noise" / category).mkdir(parents=True)
        wav, rate = sf.read(path)
        sf.write(root / "noise" / category / "rec.wav", np.tile(wav, 3), rate)
    return root


def _load(folder, name):
    with open(os.path.join(folder, name)) as f:
        return json.load(f)


def test_own_folders_make_a_corpus_with_held_out_voices_and_noise(tmp_path):
    own = _own_folders(tmp_path / "own")
    (own / "speech" / "june" / "broken.wav").write_bytes(b"RIFF, then nothing")
    data = str(tmp_path / "data")
    prepare_folder_corpus(data, str(own), num_valid=4, num_test=4)
    train, valid, test = (_load(data, f"{s}.json") for s in ("train", "valid", "test"))
    assert {e["spk_id"] for e in train.values()} == {"allison", "carlo"}
    assert {e["spk_id"] for e in valid.values()} == {"ivrvoice"}
    assert {e["spk_id"] for e in test.values()} == {"june"}
    assert len(valid) == 2 and len(test) == 2
    noise = _load(data, "noise.json")
    assert {(r["category"], r["split"]) for r in noise.values()} == {
        (c, s) for c in ("crowd", "engine") for s in ("train", "heldout")
    }
    entry = next(iter(test.values()))
    noisy = entry["noisy_wav"].format(data_root=data)
    assert sf.info(noisy).samplerate == 16000
    assert entry["noise_id"].startswith("heldout_")
    stamp = os.path.getmtime(os.path.join(data, "noise.json"))
    prepare_folder_corpus(data, str(own), num_valid=4, num_test=4)  # done: nothing
    assert os.path.getmtime(os.path.join(data, "noise.json")) == stamp


def test_too_few_speakers_or_a_folder_of_another_corpus_are_refused(tmp_path):
    own = _own_folders(tmp_path / "own", speakers=("allison", "carlo"))
    with pytest.raises(ManifestError, match="2 speaker folder.*three or more"):
        prepare_folder_corpus(str(tmp_path / "data"), str(own))
    other = tmp_path / "other"
    other.mkdir()
    (other / "train.json").write_text("{}")
    with pytest.raises(ManifestError, match="manifests of another corpus"):
        prepare_folder_corpus(str(other), str(_own_folders(tmp_path / "own2")))


def test_without_apt_get_train_py_says_so_in_one_line_and_offers_own_corpus(tmp_path):
    cmd, env, _ = recipe_command(
        tmp_path, "--skip_prep=False", data=str(tmp_path / "empty")
    )
    env["PATH"] = os.path.dirname(sys.executable)  # no apt-get on it
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("train.py: error:")]
    assert "apt-get is not available" in line and "--own_corpus=DIR" in line


def test_train_py_trains_and_tests_on_an_own_corpus(tmp_path):
    own = _own_folders(tmp_path / "own")
    data = tmp_path / "data"
    cmd, env, out = recipe_command(
        tmp_path,
        f"--own_corpus={own}",
        "--skip_prep=False",
        "--number_of_epochs=1",
        "--train_samples_per_epoch=32",
        data=str(data),
    )
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, errors(proc.stderr)
    assert _load(data, "prepare_options.json")["corpus_folder"] == str(own)
    log = (out / "train_log.txt").read_text()
    assert "set: test" in log and "test pesq" in log
