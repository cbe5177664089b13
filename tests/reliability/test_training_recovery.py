"""Training faults: a broken data set, and a run killed with SIGKILL mid-epoch.

The broken data set must stop ``dataio_prep`` (and ``train.py``, without a
traceback) with the list of every problem. The killed run must resume from
its latest intra-epoch checkpoint when the same command is run again, reach
the asked number of epochs, and leave a final checkpoint that exports and
loads; no checkpoint on disk may be damaged at any point.
"""

import json
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
import torch
from fixture_corpus import make_corpus
from recipe import epochs, errors, recipe_command

from diffgmm_sb.data.manifests import ManifestError, dataio_prep, write_pairs_manifest
from diffgmm_sb.inference.export import export_pretrained
from diffgmm_sb.inference.interface import DiffGMMEnhancement
from diffgmm_sb.training.checkpoints import FILES_KEY, AtomicCheckpointer, load_weights


def _broken_corpus(folder):
    """The fixture corpus with six different faults; returns (folder, culprits)."""
    data = make_corpus(str(folder))
    culprits = {}
    # valid: a clean partner is missing
    valid = json.loads((folder / "valid.json").read_text())
    uid = sorted(valid)[0]
    os.remove(valid[uid]["clean_wav"].replace("{data_root}", data))
    culprits["missing"] = f"{uid}.wav: no such file"
    # test: a noisy file shorter than its clean partner
    test = json.loads((folder / "test.json").read_text())
    uid = sorted(test)[0]
    noisy = test[uid]["noisy_wav"].replace("{data_root}", data)
    sf.write(noisy, sf.read(noisy)[0][:-160], 16000)
    culprits["length"] = f"{uid}.wav differ in length"
    # train: a file at the wrong rate, an empty file, an entry without audio
    train = json.loads((folder / "train.json").read_text())
    sf.write(folder / "rate.wav", np.zeros(8000), 8000)
    (folder / "empty.wav").write_bytes(b"")
    train["rate"] = {"clean_wav": "{data_root}/rate.wav", "length": 1.0}
    train["empty"] = {"clean_wav": "{data_root}/empty.wav", "length": 1.0}
    train["nothing"] = {"length": 1.0}
    (folder / "train.json").write_text(json.dumps(train))
    culprits["rate"] = "rate.wav: sample rate 8000 Hz, expected 16000 Hz"
    culprits["empty"] = "empty.wav: cannot read audio"
    culprits["nothing"] = "entry nothing has no clean_wav"
    # noise: a corrupt file
    noise = json.loads((folder / "noise_train.json").read_text())
    (folder / "noise.wav").write_bytes(b"RIFF garbage")
    noise["bad"] = {"noise_wav": "{data_root}/noise.wav", "category": "x"}
    (folder / "noise_train.json").write_text(json.dumps(noise))
    culprits["noise"] = "noise.wav: cannot read audio"
    return data, culprits


def _hparams(data):
    return {
        "data_folder": data,
        **{
            f"{s}_annotation": os.path.join(data, f"{s}.json")
            for s in ("train", "valid", "test")
        },
        "noise_annotation": os.path.join(data, "noise_train.json"),
        "segment_seconds": 0.5,
        "sample_rate": 16000,
        "train_snr_range": [0.0, 5.0],
    }


def test_broken_data_set_stops_preparation_with_the_full_list(tmp_path):
    data, culprits = _broken_corpus(tmp_path / "data")
    with pytest.raises(ManifestError) as caught:
        dataio_prep(_hparams(data))
    message = str(caught.value)
    assert message.startswith("the data set is not usable: 6 problem(s):")
    for culprit in culprits.values():
        assert culprit in message


def test_train_py_on_a_broken_data_set_exits_with_the_list_not_a_traceback(tmp_path):
    data, culprits = _broken_corpus(tmp_path / "data")
    cmd, env, _ = recipe_command(tmp_path, data=data)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "train.py: error: the data set is not usable: 6 problem(s):" in proc.stderr
    for culprit in culprits.values():
        assert culprit in proc.stderr


def test_pairs_folder_lists_every_unpaired_mismatched_or_unreadable_file(tmp_path):
    for sub in ("noisy", "clean"):
        (tmp_path / sub).mkdir()
    tone = np.sin(np.arange(1600) * 0.1) * 0.1
    for name in ("ok.wav", "short.wav", "rate.wav", "only_noisy.wav", "corrupt.wav"):
        sf.write(tmp_path / "noisy" / name, tone, 16000)
    sf.write(tmp_path / "clean" / "ok.wav", tone, 16000)
    sf.write(tmp_path / "clean" / "short.wav", tone[:800], 16000)
    sf.write(tmp_path / "clean" / "rate.wav", tone, 8000)
    sf.write(tmp_path / "clean" / "only_clean.wav", tone, 16000)
    (tmp_path / "clean" / "corrupt.wav").write_bytes(b"\x00" * 64)
    with pytest.raises(ManifestError) as caught:
        write_pairs_manifest(str(tmp_path), str(tmp_path / "pairs.json"))
    message = str(caught.value)
    assert "5 problem(s)" in message
    for expected in (
        "clean/only_clean.wav: file without a partner",
        "noisy/only_noisy.wav: file without a partner",
        "short.wav differ in length (1600 vs 800 frames)",
        "clean/rate.wav: sample rate 8000 Hz",
        "clean/corrupt.wav: cannot read audio",
    ):
        assert expected in message
    assert not (tmp_path / "pairs.json").exists()


def _intra_epoch_checkpoints(save):
    """The intra-epoch checkpoints of a running job (none while one is being deleted)."""
    if not save.is_dir():
        return []
    try:
        checkpoints = AtomicCheckpointer(save).list_checkpoints()
    except FileNotFoundError:  # the job removed an old checkpoint while it was listed
        return []
    return [c for c in checkpoints if "brain_intra_epoch_ckpt" in c.meta]


def _all_checkpoints_load(save):
    """Every checkpoint on disk is complete and its tensor files load."""
    checkpoints = AtomicCheckpointer(save).list_checkpoints()
    assert len(checkpoints) == len([n for n in os.listdir(save) if n.startswith("CKPT+")])
    for ckpt in checkpoints:
        assert sorted(os.listdir(ckpt.path)) == sorted(["CKPT.yaml", *ckpt.meta[FILES_KEY]])
        for name in ("diffgmm", "optimizer"):
            assert load_weights(str(ckpt.paramfiles[name]))
    return checkpoints


def test_run_killed_mid_epoch_resumes_from_its_intra_epoch_checkpoint(tmp_path):
    cmd, env, out = recipe_command(
        tmp_path,
        "--number_of_epochs=2",
        "--train_samples_per_epoch=48",  # 12 steps of 4 x 0.5 s per epoch
        "--batch_size=4",
        "--segment_seconds=0.5",
        "--ckpt_interval_steps=1",
    )
    save, log = out / "save", out / "train_log.txt"
    with open(tmp_path / "first.log", "w") as first_log:
        proc = subprocess.Popen(cmd, env=env, cwd=str(tmp_path), stderr=first_log)
        deadline = time.monotonic() + 300
        # Kill once epoch 1 is logged and epoch 2 has an intra-epoch checkpoint.
        while not (log.exists() and "epoch: 1" in log.read_text()) or not [
            c
            for c in _intra_epoch_checkpoints(save)
            if c.meta["unixtime"] > log.stat().st_mtime
        ]:
            assert proc.poll() is None, errors((tmp_path / "first.log").read_text())
            assert time.monotonic() < deadline, "no intra-epoch checkpoint in epoch 2"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(epochs(log.read_text())) == 1  # killed in the middle of epoch 2
    latest = max(_all_checkpoints_load(save), key=lambda c: c.meta["unixtime"])
    assert "brain_intra_epoch_ckpt" in latest.meta

    # The same command again resumes from that checkpoint and finishes.
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, errors(proc.stderr)
    assert f"Loading a checkpoint from {latest.path}" in (out / "log.txt").read_text()
    done = [int(n) for n in re.findall(r" (\d+)/12 \[", proc.stderr)]
    assert done and min(done) > 0  # the epoch went on where it stopped
    assert len(epochs(log.read_text())) == 2
    assert [line.split(",")[0] for line in log.read_text().splitlines()[:2]] == [
        "epoch: 1",
        "epoch: 2",
    ]
    checkpoints = _all_checkpoints_load(save)
    assert max(c.meta.get("epoch", 0) for c in checkpoints) == 2
    assert not [n for n in os.listdir(save) if not n.startswith("CKPT+")]

    # The final checkpoint exports and loads, and the model enhances.
    model = export_pretrained(str(out), str(tmp_path / "model"))
    enhancer = DiffGMMEnhancement.from_hparams(source=model)
    noisy = sorted((tmp_path / "data" / "test" / "noisy").iterdir())[0]
    assert torch.isfinite(enhancer.enhance_file(str(noisy))).all()
