"""Mixing conditions of on-the-fly training pairs (diffgmm_sb.data.augment)."""

import random

import numpy as np
import pytest
import torch

from diffgmm_sb.data import starter_corpus
from diffgmm_sb.data.augment import NoisyMixer, change_speed, synthetic_rir


def _snr(noisy, clean):
    return float(10 * torch.log10(clean.pow(2).sum() / (noisy - clean).pow(2).sum()))


def _pool():
    gen = torch.Generator().manual_seed(0)
    tone = torch.sin(torch.arange(48000) * 2 * np.pi * 300 / 16000)
    return [[torch.randn(48000, generator=gen)], [tone], [torch.randn(4000, generator=gen)]]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"second_noise_prob": 1.0},
        {"second_noise_prob": 1.0, "noise_speed_prob": 1.0, "noise_eq_prob": 1.0},
    ],
)
def test_total_noise_is_at_the_drawn_snr(options):
    random.seed(0)
    mixer = NoisyMixer(_pool(), (3.0, 3.0), 16000, **options)
    for _ in range(5):
        noisy, clean = mixer(0.1 * torch.randn(16000))
        assert noisy.shape == clean.shape == (16000,)
        assert _snr(noisy, clean) == pytest.approx(3.0, abs=0.01)


def test_second_noise_comes_from_another_category():
    random.seed(1)
    t = torch.arange(32000)
    low = torch.sin(t * 2 * np.pi * 250 / 16000)  # bin 250 of a 16000-point FFT
    high = torch.sin(t * 2 * np.pi * 2000 / 16000)  # bin 2000
    mixer = NoisyMixer([[low], [high]], (0.0, 0.0), 16000, second_noise_prob=1.0)
    for _ in range(5):
        noisy, clean = mixer(torch.zeros(16000) + 1e-3)
        spec = torch.fft.rfft(noisy - clean).abs()
        assert float(spec[250]) > 10 * float(spec[1000])
        assert float(spec[2000]) > 10 * float(spec[1000])


def test_reverberation_changes_the_target_and_keeps_the_length():
    random.seed(2)
    mixer = NoisyMixer(_pool(), (10.0, 10.0), 16000, reverb_prob=1.0)
    dry = torch.zeros(16000)
    dry[100] = 0.5
    _, clean = mixer(dry)
    assert clean.shape == (16000,)
    assert int((clean.abs() > 1e-4).sum()) > 1000  # the tail of the room


def test_bandlimit_removes_the_high_band_from_both_signals():
    random.seed(3)
    mixer = NoisyMixer(_pool(), (0.0, 0.0), 16000, bandlimit_prob=1.0)
    noisy, clean = mixer(0.1 * torch.randn(16000))
    for sig in (noisy, clean):
        spec = torch.fft.rfft(sig).abs().pow(2)
        assert float(spec[7500:].sum() / spec.sum()) < 0.01  # above 7.5 kHz


def test_change_speed_moves_a_tone():
    tone = torch.sin(torch.arange(40000) * 2 * np.pi * 1000 / 16000)
    fast = change_speed(tone, 16000, 16000, 1.25)
    peak = int(torch.fft.rfft(fast).abs().argmax())  # 1 Hz per bin
    assert peak == pytest.approx(1250, abs=2)


def test_synthetic_rir_decays_by_60_db_at_rt60():
    torch.manual_seed(0)
    rir = synthetic_rir(16000, 0.5)
    head = rir[40:1640].pow(2).mean()
    tail = rir[-1600:].pow(2).mean()
    assert 10 * torch.log10(head / tail) > 40


def test_speaker_inventory_counts_every_speaker_with_licence():
    by_speaker = {
        "allison": [{"length": 60.0, "source": "pkg-a:x.g722", "licence": "CC-BY-SA-3.0"}],
        "klettres_de": [
            {"length": 30.0, "source": "klettres-data:de/a.ogg", "licence": "GPL-2+"},
            {"length": 30.0, "source": "klettres-data:de/b.ogg", "licence": "GPL-2+"},
        ],
    }
    inventory = starter_corpus.speaker_inventory(by_speaker)
    assert inventory["allison"]["split"] == "train"
    assert inventory["klettres_de"] == {
        "split": "train",
        "credited_reader": "Helmut Kriege",
        "utterances": 2,
        "minutes": 1.0,
        "packages": ["klettres-data"],
        "licences": ["GPL-2+"],
    }


def test_training_speakers_are_disjoint_from_evaluation_speakers():
    train = set(starter_corpus.SPEAKER_SPLIT["train"])
    held_out = set(starter_corpus.SPEAKER_SPLIT["valid"]) | set(
        starter_corpus.SPEAKER_SPLIT["test"]
    )
    assert not train & held_out
    assert len(train | held_out) >= 8
