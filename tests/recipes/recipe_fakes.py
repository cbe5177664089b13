"""Tiny fake copies of the data the recipes read, and runs of copied recipes.

* :func:`make_voicebank`: VoiceBank-DEMAND's official folders (16 kHz ``_16k``
  names, or the 48 kHz originals), with transcripts.
* :func:`make_birdsounds`: BirdSoundsDenoising's ``Train``/``Valid``/``Test``
  folders of ``Raw_audios`` (noisy), ``Denoised_audios`` (clean) and
  ``Masks``, with the irregularities of the published data: a stereo noisy file
  whose ``_left`` name picks the channel, clean files a few samples shorter
  than their noisy partner, and a rate other than 16 kHz.
* :func:`run_copied_recipe`: copies a recipe folder into a fake SpeechBrain
  checkout and runs its ``train.py`` there with a tiny network, one epoch,
  and the internet unreachable.
"""

import csv
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from diffgmm_sb.data.audio import fit_length, mix_at_snr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "audio")
SPEECH = sorted(
    f for f in os.listdir(FIXTURES) if f.endswith(".wav") and not f.startswith("noise_")
)
NOISES = ("noise_crowd.wav", "noise_engine.wav")

# VoiceBank utterance ids: p226 and p287 are the held-out validation speakers.
VOICEBANK_TRAIN = ("p226_001", "p226_002", "p230_001", "p230_002", "p231_001", "p231_002")
VOICEBANK_TRAIN += ("p287_001",)
VOICEBANK_TEST = ("p232_001", "p257_001", "p257_002")


def load_script(recipe_folder, name):
    """Imports ``<recipe_folder>/<name>.py`` (a recipe's preparation script)."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(recipe_folder, name + ".py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_json(path):
    """A JSON file's content (e.g. a manifest)."""
    with open(path) as f:
        return json.load(f)


def _read(name):
    wav, _ = sf.read(os.path.join(FIXTURES, name), dtype="float32")
    return wav


def _write(path, wav, rate):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sf.write(path, wav, rate, subtype="PCM_16")


def _resample(wav, rate):
    if rate == 16000:
        return wav
    return AF.resample(torch.from_numpy(np.ascontiguousarray(wav)), 16000, rate).numpy()


def make_voicebank(folder, rate=16000, seed=0):
    """Writes a fake VoiceBank-DEMAND folder; returns it.

    At 16 kHz the folders carry SpeechBrain's ``_16k`` names, at any other
    rate the official names of the 48 kHz originals.
    """
    rng = np.random.default_rng(seed)
    suffix = "_16k" if rate == 16000 else ""
    sets = (
        ("trainset_28spk", VOICEBANK_TRAIN, SPEECH[: len(VOICEBANK_TRAIN)]),
        ("testset", VOICEBANK_TEST, SPEECH[len(VOICEBANK_TRAIN) :]),
    )
    for name, uids, sources in sets:
        assert len(sources) >= len(uids), "not enough fixture voices"
        for i, (uid, source) in enumerate(zip(uids, sources)):
            clean = _read(source)
            noise = fit_length(_read(NOISES[i % 2]), len(clean), rng)
            noisy, clean = mix_at_snr(clean, noise, 5.0)
            for kind, wav in (("noisy", noisy), ("clean", clean)):
                path = os.path.join(folder, f"{kind}_{name}_wav{suffix}", f"{uid}.wav")
                _write(path, _resample(wav, rate), rate)
            text = os.path.join(folder, f"{name}_txt", f"{uid}.txt")
            os.makedirs(os.path.dirname(text), exist_ok=True)
            with open(text, "w") as f:
                f.write(f"Fixture prompt, number {i}.\n")
    return folder


def _chirps(n, rate, rng):
    """A bird-like clean signal: a few rising and falling whistles with silence between."""
    t = np.arange(n) / rate
    out = np.zeros(n, dtype=np.float32)
    for _ in range(3):
        start = rng.uniform(0, t[-1] * 0.7)
        length = rng.uniform(0.08, 0.2)
        f0, f1 = rng.uniform(2000, 5000), rng.uniform(2000, 5000)
        inside = (t >= start) & (t < start + length)
        tau = t[inside] - start
        phase = 2 * np.pi * (f0 * tau + (f1 - f0) * tau**2 / (2 * length))
        out[inside] += 0.3 * np.sin(phase) * np.hanning(inside.sum())
    return out


BIRD_SPLITS = {"Train": 6, "Valid": 2, "Test": 2}


def make_birdsounds(folder, rate=22050, seconds=1.0, shorter=37, seed=0):
    """Writes a fake BirdSoundsDenoising folder (``Train``, ``Valid``, ``Test``); returns it.

    Each split holds ``Raw_audios/<id>.wav`` (noisy: chirps plus recorded
    noise), ``Denoised_audios/<id>.wav`` (clean: the chirps, ``shorter``
    samples shorter, as inverse STFTs leave them) and ``Masks/<id>.png``
    (not audio, to be ignored).
    The first training file is a stereo recording named ``..._left.wav``:
    the bird is on its left channel, the right one holds only noise.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    for split, count in BIRD_SPLITS.items():
        for i in range(count):
            uid = f"XC{1000 + 10 * i + len(split)}"
            clean = _chirps(n, rate, rng)
            noise = _resample(_read(NOISES[i % 2]), rate)
            noise = fit_length(noise, n, rng)
            noisy, clean = mix_at_snr(clean, noise, 0.0)
            if split == "Train" and i == 0:
                uid += "_left"
                noisy = np.stack([noisy, noise * 0.5], axis=1)
            _write(os.path.join(folder, split, "Raw_audios", f"{uid}.wav"), noisy, rate)
            _write(
                os.path.join(folder, split, "Denoised_audios", f"{uid}.wav"),
                clean[: n - shorter],
                rate,
            )
            mask = os.path.join(folder, split, "Masks", f"{uid}.png")
            os.makedirs(os.path.dirname(mask), exist_ok=True)
            with open(mask, "wb") as f:
                f.write(b"\x89PNG fake mask")
    return folder


# The data loader of the tests: no worker processes (the recipes use 4).
TEST_LOADER = "--train_dataloader_opts={batch_size: 2, shuffle: True, num_workers: 0}"


def debug_flags(recipe, hparams):
    """The ``test_debug_flags`` of ``recipes/<recipe>/hparams/<hparams>`` in tests/recipes/*.csv.

    SpeechBrain's recipe tests run each recipe with these flags (one short
    epoch, a tiny network); so do these tests.

    Example
    -------
    >>> debug_flags("BirdSoundsDenoising/enhance/DiffGMM", "diffgmm.yaml")[0]
    '--number_of_epochs=1'
    """
    hparam_file = f"recipes/{recipe}/hparams/{hparams}"
    for path in glob.glob(os.path.join(ROOT, "tests", "recipes", "*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f, skipinitialspace=True):
                if row["Hparam_file"].strip() == hparam_file:
                    return row["test_debug_flags"].split()
    raise KeyError(f"{hparam_file} is in no tests/recipes/*.csv")


# Any download attempt fails fast.
OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HF_HUB_OFFLINE": "1",
}


def run_copied_recipe(
    recipe, checkout_path, data_folder, output_folder, hparams="diffgmm.yaml"
):
    """Copies ``recipes/<recipe>`` to ``<checkout_path>/recipes/<recipe>``, runs it there.

    Runs ``train.py hparams/<hparams>`` for one short epoch with a tiny network.
    The recipe imports ``diffgmm_sb`` from this repository (``PYTHONPATH``,
    standing in for ``pip install``), nothing else of it. Returns the
    completed process; fails the test with the run's traceback if it failed.
    """
    copy = os.path.join(checkout_path, "recipes", recipe)
    shutil.copytree(os.path.join(ROOT, "recipes", recipe), copy)
    cmd = [
        sys.executable,
        "train.py",
        f"hparams/{hparams}",
        f"--data_folder={data_folder}",
        f"--output_folder={output_folder}",
        *debug_flags(recipe, hparams),
        TEST_LOADER,
    ]
    env = {**os.environ, **OFFLINE, "PYTHONPATH": ROOT}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=copy)
    tracebacks = re.findall(r"Traceback.*?\n\S.*?\n", proc.stderr, flags=re.S)
    assert proc.returncode == 0, "\n".join(tracebacks)[-4000:] or proc.stderr[-3000:]
    return proc
