"""The model shipped in ``diffgmm_sb/pretrained``: present, loads offline, denoises."""

import os
import socket

import numpy as np
import pytest
import soundfile as sf
import torch
from fixture_corpus import AUDIO

from diffgmm_sb.data.audio import mix_at_snr
from diffgmm_sb.evaluation.metrics import si_sdr
from diffgmm_sb.inference.enhance import DEFAULT_MODEL
from diffgmm_sb.inference.interface import DiffGMMEnhancement


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped model, loaded while every network connection fails."""
    real_connect = socket.socket.connect

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    socket.socket.connect = no_network
    try:
        return DiffGMMEnhancement.from_hparams(
            source=DEFAULT_MODEL, savedir=str(tmp_path_factory.mktemp("savedir"))
        )
    finally:
        socket.socket.connect = real_connect


def test_the_model_folder_ships_with_its_card():
    names = set(os.listdir(DEFAULT_MODEL))
    assert {"hyperparams.yaml", "diffgmm.ckpt", "README.md"} <= names
    assert os.path.getsize(os.path.join(DEFAULT_MODEL, "diffgmm.ckpt")) < 8_000_000


def test_shipped_model_removes_noise_from_an_unseen_voice(shipped):
    """Trained weights, not random ones: SI-SDR rises on an unseen speaker."""
    clean, _ = sf.read(os.path.join(AUDIO, "ivrvoice_ru_ru_agent-pass.wav"))
    noise, _ = sf.read(os.path.join(AUDIO, "noise_engine.wav"))
    noise = np.resize(noise, len(clean))
    noisy, clean = mix_at_snr(clean, noise, 5.0)
    noisy_t = torch.tensor(noisy, dtype=torch.float32).unsqueeze(0)
    clean_t = torch.tensor(clean, dtype=torch.float32).unsqueeze(0)
    enhanced = shipped.enhance_batch(noisy_t)
    assert torch.isfinite(enhanced).all() and enhanced.shape == noisy_t.shape
    gain = float(si_sdr(enhanced, clean_t)[0] - si_sdr(noisy_t, clean_t)[0])
    assert gain > 1.0, gain


def test_cli_uses_the_shipped_model_by_default(tmp_path):
    from diffgmm_sb.inference.enhance import main

    src = tmp_path / "in.wav"
    clean, _ = sf.read(os.path.join(AUDIO, "june_fr_ascii34.wav"))
    sf.write(src, clean, 16000, subtype="PCM_16")
    assert main([str(src), "-o", str(tmp_path / "out")]) == 0
    out, rate = sf.read(tmp_path / "out" / "in.wav")
    assert rate == 16000 and len(out) == len(clean) and np.isfinite(out).all()
