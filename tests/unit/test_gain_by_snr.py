"""benchmarks/gain_by_snr.py: gain by local SNR and the speech/noise split."""

import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import gain_by_snr  # noqa: E402


def _tones(freq, seconds=2.0, rate=16000):
    t = torch.arange(int(seconds * rate)) / rate
    return torch.sin(2 * torch.pi * freq * t).unsqueeze(0)


def test_gain_is_read_in_the_snr_bin_of_each_component():
    clean = _tones(500.0)  # speech at 500 Hz, far above the noise there
    noise = 0.3 * _tones(2000.0)  # noise alone at 2 kHz: local SNR far below -10 dB
    noisy = clean + noise
    enhanced = clean + 0.1 * noise  # -20 dB on the noise, 0 dB on the speech
    energy, weighted = gain_by_snr.gain_by_snr(enhanced, noisy, clean)
    gains = weighted / energy.clamp(min=1e-12)
    lowest, highest = 0, len(gain_by_snr.SNR_EDGES) - 2
    assert float(gains[lowest]) == pytest.approx(-20.0, abs=0.5)
    assert float(gains[highest]) == pytest.approx(0.0, abs=0.5)
    share = energy / energy.sum()
    assert float(share[lowest] + share[highest]) > 0.95


def test_split_scores_find_the_noise_in_the_residual():
    clean = 0.1 * torch.randn(1, 16000, generator=torch.Generator().manual_seed(0))
    noisy = clean + 0.05 * torch.randn(1, 16000, generator=torch.Generator().manual_seed(1))
    scores = gain_by_snr.split_scores(noisy, noisy, clean)  # nothing removed
    distortion = scores["speech distortion only (G S)"]
    residual = scores["residual noise only (s + G N)"]
    assert distortion[1] > 0.99 and distortion[0] > 4.0
    assert residual[1] < 0.95 and residual[0] < distortion[0] - 0.5


def _peak_hz(wav, rate=16000):
    return float(torch.fft.rfft(wav).abs().argmax()) * rate / wav.shape[-1]


def test_cross_sets_swap_speech_and_noise_at_the_first_sets_snrs():
    speech_a, noise_a = _tones(500.0)[0], 0.1 * _tones(2000.0)[0]  # SNR 20 dB
    speech_b, noise_b = _tones(1000.0, 1.0)[0], _tones(3000.0, 1.0)[0]  # SNR 0 dB
    sets = {"a": [(speech_a + noise_a, speech_a)], "b": [(speech_b + noise_b, speech_b)]}
    crossed = gain_by_snr.cross_sets(sets, "a", "b")
    for name, speech_hz, noise_hz in (
        ("a speech + b noise", 500.0, 3000.0),
        ("b speech + a noise", 1000.0, 2000.0),
        ("b speech + b noise", 1000.0, 3000.0),
    ):
        (noisy, clean), *rest = crossed[name]
        residual = noisy - clean
        assert not rest and noisy.shape == clean.shape
        assert _peak_hz(clean) == pytest.approx(speech_hz, abs=2.0)  # this set's speech
        assert _peak_hz(residual) == pytest.approx(noise_hz, abs=2.0)  # the other's noise
        snr = 10 * torch.log10(clean.square().sum() / residual.square().sum())
        assert float(snr) == pytest.approx(20.0, abs=0.01)  # at a's SNR
    with pytest.raises(SystemExit, match="no set named 'c'"):
        gain_by_snr.cross_sets(sets, "a", "c")
    with pytest.raises(SystemExit, match="no speech or no noise"):
        gain_by_snr.cross_sets({"a": [(speech_a, speech_a)], "b": sets["b"]}, "a", "b")
