"""Spectral and perceptual losses on the one-step clean estimate.

The two DiffGMM terms (mixture NLL, noise prediction) act sample by sample.
Perceptual quality (PESQ) depends on the spectral envelope, so the Brain can
add, with weight ``stft_weight``, a multi-resolution STFT loss (spectral
convergence, Yamamoto et al. 2020, + L1 between power-law compressed
magnitudes ``|X|^0.3``, which unlike log-magnitudes does not blow up on the
digital silence of clean references) between the clean
estimate implied by the mixture mean, ``s_hat = x_t - sum_k pi_k mu_k``, and
``s``. SpeechBrain ships the same loss in ``lobes.models.HifiGAN``, but it
calls ``torch.stft`` without ``return_complex`` and fails on torch >= 2.

Two more terms weigh errors as the evaluation measures do: a differentiable
PESQ disturbance (``PesqSurrogateLoss``, ``torch-pesq``) and a differentiable
STOI (``StoiSurrogateLoss``, ``torch-stoi``).

Authors
 * diffgmm-sb developers 2026
"""

import functools
import importlib
import math
import warnings

import torch
from torch.nn import functional as F
from torchaudio.functional import melscale_fbanks

COMPRESSION = 0.3
LOUDNESS_EXPONENT = 0.23  # Zwicker's power law, as in PESQ's loudness model
DEFAULT_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))  # (n_fft, hop)
PESQ_MIN_SAMPLES = 512 + 19 * 256  # P.862 averages disturbances over 20 frames of 256
PESQ_DITHER = 1e-5  # RMS of the fixed dither on both signals of the PESQ term
# MOS-LQO of an undisturbed signal: P.862.2's mapping of the raw score 4.5.
PESQ_MOS_MAX = 0.999 + 4.0 / (1.0 + math.exp(-1.3669 * 4.5 + 3.8224))


def _magnitude(wav, n_fft, hop):
    window = torch.hann_window(n_fft, device=wav.device, dtype=wav.dtype)
    spec = torch.stft(
        wav, n_fft, hop_length=hop, window=window, return_complex=True, center=True
    )
    return spec.abs()


def _power_law(power, exponent, eps=1e-4):
    """``(P + eps)^exponent``: a compressed power with a bounded gradient at 0."""
    return (power + eps).pow(exponent)


def _compress(magnitude):
    """``(|X|^2 + eps)^(c/2)``: ``|X|^c`` with a bounded gradient at 0."""
    return _power_law(magnitude.pow(2), COMPRESSION / 2)


def multi_resolution_stft_loss(
    estimate, target, resolutions=DEFAULT_RESOLUTIONS, excess_weight=1.0
):
    """Spectral convergence + compressed-magnitude L1, averaged over resolutions.

    Arguments
    ---------
    estimate, target : torch.Tensor
        ``[batch, time]`` waveforms (padding zeroed in both).
    resolutions : tuple of (n_fft, hop)
    excess_weight : float
        Weight of the compressed-magnitude errors where the estimate is
        louder than the target (residual noise) relative to those where it
        is quieter (lost speech); 1 is the symmetric L1. PESQ weighs added
        components more than missing ones.

    Returns
    -------
    torch.Tensor
        Scalar loss; 0 when ``estimate == target``.

    Example
    -------
    >>> x = torch.randn(2, 4000)
    >>> float(multi_resolution_stft_loss(x, x))
    0.0
    >>> float(multi_resolution_stft_loss(0.5 * x, x)) > 0.1
    True
    >>> louder = multi_resolution_stft_loss(2.0 * x, x, excess_weight=3.0)
    >>> louder > multi_resolution_stft_loss(2.0 * x, x)
    tensor(True)
    """
    total = 0.0
    for n_fft, hop in resolutions:
        est, ref = _magnitude(estimate, n_fft, hop), _magnitude(target, n_fft, hop)
        convergence = torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp(min=1e-7)
        error = _compress(est) - _compress(ref)
        if excess_weight != 1.0:
            error = torch.where(error > 0, excess_weight * error, -error)
        compressed_l1 = error.abs().mean()
        total = total + convergence + compressed_l1
    return total / len(resolutions)


@functools.lru_cache(maxsize=8)
def _mel_filterbank(n_fft, bands, sample_rate):
    """``[bins, bands]`` area-normalised mel filters, built once per configuration."""
    return melscale_fbanks(
        n_fft // 2 + 1, 0.0, sample_rate / 2, bands, sample_rate, norm="slaney"
    )


def _band_power(wav, n_fft, hop, bands, sample_rate):
    fbank = _mel_filterbank(n_fft, bands, sample_rate).to(wav.device, wav.dtype)
    power = _magnitude(wav, n_fft, hop).pow(2)  # [batch, bins, frames]
    return torch.einsum("bfm,fk->bkm", power, fbank)


def loudness_loss(estimate, target, sample_rate=16000, n_fft=512, hop=128, bands=49):
    """L1 between band loudnesses ``(P_band + eps)^0.23`` on a mel (Bark-like) scale.

    Linear-frequency losses give two thirds of their weight to bins above
    2.7 kHz; PESQ compares loudness in critical bands, which spend most of
    their resolution below 4 kHz. This term weighs errors as those bands do.

    Arguments
    ---------
    estimate, target : torch.Tensor
        ``[batch, time]`` waveforms (padding zeroed in both).
    sample_rate : int
    n_fft, hop : int
        STFT size and hop.
    bands : int
        Number of mel bands (PESQ-wb uses 49 Bark bands).

    Returns
    -------
    torch.Tensor
        Scalar loss; 0 when ``estimate == target``.

    Example
    -------
    >>> x = torch.randn(2, 4000)
    >>> float(loudness_loss(x, x))
    0.0
    >>> float(loudness_loss(0.5 * x, x)) > 0.1
    True
    """
    est = _band_power(estimate, n_fft, hop, bands, sample_rate)
    ref = _band_power(target, n_fft, hop, bands, sample_rate)
    return (
        (_power_law(ref, LOUDNESS_EXPONENT) - _power_law(est, LOUDNESS_EXPONENT))
        .abs()
        .mean()
    )


def _surrogate_class(module, name, weight_key, package):
    """``module.name``, imported on first use; a clear error naming the package if absent."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as err:  # pragma: no cover - a dependency of setup.py
        raise ImportError(
            f"{weight_key} > 0 needs the {package} package: pip install {package}"
        ) from err


class _ReferenceScoredLoss(torch.nn.Module):
    """What the metric surrogates (PESQ, STOI) share.

    Rows whose reference is (nearly) silent are not scored, inputs shorter
    than ``min_samples`` are zero-padded, the measure runs in float32 (also
    under mixed precision) and its mean over the scored rows is returned (0
    with a zero gradient when none is scored).
    Subclasses define ``score(estimate, target)``, one value per row.
    """

    def __init__(self, min_rms, min_samples):
        super().__init__()
        self.min_rms = min_rms
        self.min_samples = min_samples

    def forward(self, estimate, target):
        """Mean score over the scored rows of ``[batch, time]`` inputs (0 if none)."""
        scored = target.pow(2).mean(-1).sqrt() > self.min_rms
        if not bool(scored.any()):
            return estimate.sum() * 0.0
        pad = max(self.min_samples - estimate.shape[-1], 0)
        estimate, target = (
            F.pad(estimate[scored], (0, pad)),
            F.pad(target[scored], (0, pad)),
        )
        # In float32 also under mixed precision (P.862's filters are recursive).
        with torch.autocast(device_type=estimate.device.type, enabled=False):
            values = self.score(estimate.float(), target.float())
        return torch.nan_to_num(values, nan=0.0, posinf=0.0).mean()


class PesqSurrogateLoss(_ReferenceScoredLoss):
    """A differentiable PESQ (ITU-T P.862) disturbance of an estimate against its reference.

    Wraps ``torch_pesq.PesqLoss`` (MIT licence; P.862's level alignment,
    Bark loudness, symmetric and asymmetric disturbances and their L6/L2
    aggregation, without time alignment), so that training can weigh residual
    noise and speech distortion as PESQ does. Rows whose reference is
    (nearly) silent, for which P.862 has no defined level, are left out;
    inputs shorter than P.862's 20-frame averaging window (0.34 s) are
    zero-padded to it.

    Arguments
    ---------
    sample_rate : int
        Sample rate of the waveforms (resampled to 16 kHz inside).
    min_rms : float
        Rows whose reference RMS is below this (in the units of the input)
        are not scored.
    mos : bool
        Score ``PESQ_MOS_MAX - MOS-LQO`` (4.64 - MOS-LQO; P.862.2's logistic mapping of the raw
        score, the value PESQ-wb reports) instead of the raw disturbance
        ``0.1 D_sym + 0.0309 D_asym``: each row's gradient is then weighed by
        the slope of that mapping, as the mean PESQ-wb of a test set weighs it.

    Example
    -------
    >>> loss = PesqSurrogateLoss()
    >>> clean = torch.randn(2, 16000) * 0.1
    >>> noisy = clean + 0.1 * torch.randn(2, 16000)
    >>> bool(loss(clean + 0.01 * torch.randn(2, 16000), clean) < loss(noisy, clean))
    True
    >>> float(loss(torch.zeros(1, 16000), torch.zeros(1, 16000)))
    0.0
    >>> mos_loss = PesqSurrogateLoss(mos=True)
    >>> bool(mos_loss(clean, clean) < 0.01 < mos_loss(noisy, clean))
    True
    """

    def __init__(self, sample_rate=16000, min_rms=1e-3, mos=False):
        super().__init__(min_rms, PESQ_MIN_SAMPLES)
        PesqLoss = _surrogate_class("torch_pesq", "PesqLoss", "pesq_weight", "torch-pesq")
        self.pesq = PesqLoss(1.0, sample_rate=sample_rate)
        self.mos = mos
        for param in self.pesq.parameters():
            param.requires_grad_(False)

    def score(self, estimate, target):
        """P.862's weighted disturbance (or ``PESQ_MOS_MAX - MOS-LQO``) of each row.

        A fixed dither 100 dB below unit RMS is added to both signals: a frame
        of digital silence (the zeroed padding of a shorter utterance in the
        batch) has spectral magnitudes of exactly 0, where ``|X|``'s gradient
        is NaN (also for the reference, which P.862 scales by the larger peak
        of the two).
        """
        dither = torch.randn(estimate.shape[-1], generator=torch.Generator().manual_seed(0))
        dither = PESQ_DITHER * dither.to(estimate.device)
        estimate, target = estimate + dither, target + dither
        if self.mos:
            return PESQ_MOS_MAX - self.pesq.mos(target, estimate)
        return self.pesq(target, estimate)


class StoiSurrogateLoss(_ReferenceScoredLoss):
    """``1 - STOI`` of an estimate against its reference, differentiable.

    Wraps ``torch_stoi.NegSTOILoss`` (MIT licence; the STOI of Taal et al.
    2011: 1/3-octave band envelopes over 384 ms segments, their clipped
    correlation with the reference, silent frames removed), so that training
    sees the loss of intelligibility that suppressing noise can cause and
    that PESQ does not weigh. Rows whose reference is (nearly) silent are left
    out.

    Arguments
    ---------
    sample_rate : int
        Sample rate of the waveforms (resampled to 10 kHz inside, as STOI).
    min_rms : float
        Rows whose reference RMS is below this (in the units of the input)
        are not scored.

    Example
    -------
    >>> loss = StoiSurrogateLoss()
    >>> clean = torch.randn(2, 16000) * torch.linspace(0, 1, 16000).sin() ** 2
    >>> noisy = clean + 0.3 * torch.randn(2, 16000)
    >>> bool(loss(clean + 0.01 * torch.randn(2, 16000), clean) < loss(noisy, clean))
    True
    >>> float(loss(torch.zeros(1, 16000), torch.zeros(1, 16000)))
    0.0
    """

    def __init__(self, sample_rate=16000, min_rms=1e-3):
        super().__init__(min_rms, sample_rate // 2)
        NegSTOILoss = _surrogate_class(
            "torch_stoi", "NegSTOILoss", "stoi_weight", "torch-stoi"
        )
        with warnings.catch_warnings():  # its resampler's deprecated method name
            warnings.filterwarnings("ignore", message=".*sinc_interpolation.*")
            self.stoi = NegSTOILoss(sample_rate, use_vad=True)

    def score(self, estimate, target):
        """``1 - STOI`` of each row."""
        return 1.0 + self.stoi(estimate, target)
