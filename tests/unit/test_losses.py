"""The spectral training losses on the clean estimate (diffgmm_sb.losses)."""

import math

import torch

from diffgmm_sb.losses import loudness_loss, multi_resolution_stft_loss


def _tone(freq, seconds=1.0, sample_rate=16000, amplitude=0.1):
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    return amplitude * torch.sin(2 * math.pi * freq * t).unsqueeze(0)


def test_loudness_loss_weighs_low_frequencies_as_critical_bands_do():
    """An error at 500 Hz counts more than the same error at 6 kHz, unlike linear bins."""
    speech = 0.1 * torch.randn(1, 16000)
    low, high = speech + _tone(500), speech + _tone(6000)
    loudness = loudness_loss(low, speech) / loudness_loss(high, speech)
    linear = multi_resolution_stft_loss(low, speech) / multi_resolution_stft_loss(
        high, speech
    )
    assert loudness > 1.5
    assert loudness > 1.5 * linear


def test_loudness_loss_has_finite_gradients_on_digital_silence():
    target = torch.zeros(2, 8000)
    target[0, :4000] = 0.1 * torch.randn(4000)
    estimate = torch.zeros(2, 8000, requires_grad=True)
    loss = loudness_loss(estimate, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(estimate.grad).all()
