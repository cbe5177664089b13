"""The DiffGMM networks (waveform and STFT-frame U-Nets): shapes, lengths and
padding, normalisation."""

import pytest
import torch

from diffgmm_sb.model.diffgmm import DiffGMM, valid_mask
from diffgmm_sb.model.diffusion import NoiseSchedule
from diffgmm_sb.model.mixture import MixtureHead
from diffgmm_sb.model.spectral import MaskMixtureHead, SpectralUNet
from diffgmm_sb.model.unet import WaveUNet

KINDS = ["wave", "spectral"]


def _model(k=2, kind="wave"):
    torch.manual_seed(0)
    if kind == "spectral":
        unet = SpectralUNet(
            out_channels=8, n_fft=64, hop_length=16, front_channels=8, channels=[8, 16],
            strides=[2, 2],
        )  # fmt: skip
        head = MaskMixtureHead(8, num_components=k, n_fft=64, hop_length=16)
    else:
        unet = WaveUNet(out_channels=8, front_channels=8, channels=[8, 16], strides=[2, 2])
        head = MixtureHead(8, num_components=k)
    return DiffGMM(unet, head, NoiseSchedule(num_steps=4))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("length", [1, 17, 64, 1000, 1234])
def test_any_length_keeps_shape(length, kind):
    model = _model(kind=kind).eval()
    noisy = torch.randn(2, length)
    out = model.enhance(noisy)
    assert out.shape == noisy.shape
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kind", KINDS)
def test_padding_is_ignored_by_the_loss_and_zero_in_the_output(kind):
    model = _model(kind=kind)
    clean, noisy = torch.randn(2, 800), torch.randn(2, 800)
    lens = torch.tensor([1.0, 0.5])
    t = torch.tensor([2, 3])
    torch.manual_seed(1)
    ref = model.training_losses(clean, noisy, lens, t)
    garbage_c, garbage_n = clean.clone(), noisy.clone()
    garbage_c[1, 400:] = 100.0
    garbage_n[1, 400:] = -100.0
    torch.manual_seed(1)
    other = model.training_losses(garbage_c, garbage_n, lens, t)
    assert torch.allclose(ref[0], other[0]) and torch.allclose(ref[1], other[1])
    out = model.eval().enhance(garbage_n, lens)
    assert torch.all(out[1, 400:] == 0)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kind", KINDS)
def test_scale_equivariance(kind):
    model = _model(kind=kind).eval()
    noisy = torch.randn(1, 512) * 0.1
    a = model.enhance(noisy)
    b = model.enhance(noisy * 10.0)
    assert torch.allclose(a * 10.0, b, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_silence_gives_silence_not_nan(kind):
    model = _model(kind=kind).eval()
    out = model.enhance(torch.zeros(1, 3000))
    assert torch.isfinite(out).all() and out.abs().max() < 1e-3


def test_valid_mask_relative_lengths():
    mask = valid_mask(torch.zeros(3, 10), torch.tensor([1.0, 0.55, 0.1]))
    assert mask.sum(dim=1).tolist() == [10, 6, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_k1_is_the_same_code(kind):
    model = _model(k=1, kind=kind)
    nll, mse = model.training_losses(torch.randn(2, 300), torch.randn(2, 300))
    assert torch.isfinite(nll) and torch.isfinite(mse)
