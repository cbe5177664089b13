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

A second term weighs errors as PESQ does: a differentiable P.862
disturbance (``PesqSurrogateLoss``, ``torch-pesq``).

Authors
 * diffgmm-sb developers 2026
"""

import torch
from torch.nn import functional as F

COMPRESSION = 0.3
DEFAULT_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))  # (n_fft, hop)
PESQ_MIN_SAMPLES = 512 + 19 * 256  # P.862 averages disturbances over 20 frames of 256
PESQ_DITHER = 1e-5  # RMS of the fixed dither on both signals of the PESQ term


def _magnitude(wav, n_fft, hop):
    window = torch.hann_window(n_fft, device=wav.device, dtype=wav.dtype)
    spec = torch.stft(
        wav, n_fft, hop_length=hop, window=window, return_complex=True, center=True
    )
    return spec.abs()


def _compress(magnitude, eps=1e-4):
    """``(|X|^2 + eps)^(c/2)``: ``|X|^c`` with a bounded gradient at 0."""
    return (magnitude.pow(2) + eps).pow(COMPRESSION / 2)


def multi_resolution_stft_loss(estimate, target, resolutions=DEFAULT_RESOLUTIONS):
    """Spectral convergence + compressed-magnitude L1, averaged over resolutions.

    Arguments
    ---------
    estimate, target : torch.Tensor
        ``[batch, time]`` waveforms (padding zeroed in both).
    resolutions : tuple of (n_fft, hop)

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
    """
    total = 0.0
    for n_fft, hop in resolutions:
        est, ref = _magnitude(estimate, n_fft, hop), _magnitude(target, n_fft, hop)
        convergence = torch.linalg.norm(ref - est) / torch.linalg.norm(ref).clamp(min=1e-7)
        compressed_l1 = (_compress(est) - _compress(ref)).abs().mean()
        total = total + convergence + compressed_l1
    return total / len(resolutions)


class PesqSurrogateLoss(torch.nn.Module):
    """A differentiable PESQ (ITU-T P.862) disturbance of an estimate against its reference.

    Wraps ``torch_pesq.PesqLoss`` (MIT licence; P.862's level alignment,
    Bark loudness, symmetric and asymmetric disturbances and their L6/L2
    aggregation, without time alignment), so that training can weigh residual
    noise and speech distortion as PESQ does. Rows whose reference is
    (nearly) silent, for which P.862 has no defined level, are left out;
    inputs shorter than P.862's 20-frame averaging window (0.34 s) are
    zero-padded to it. The measure runs in float32 (also under mixed
    precision); the mean over the scored rows is returned (0, with a zero
    gradient, when none is scored).

    Arguments
    ---------
    sample_rate : int
        Sample rate of the waveforms (resampled to 16 kHz inside).
    min_rms : float
        Rows whose reference RMS is below this (in the units of the input)
        are not scored.

    Example
    -------
    >>> loss = PesqSurrogateLoss()
    >>> clean = torch.randn(2, 16000) * 0.1
    >>> noisy = clean + 0.1 * torch.randn(2, 16000)
    >>> bool(loss(clean + 0.01 * torch.randn(2, 16000), clean) < loss(noisy, clean))
    True
    >>> float(loss(torch.zeros(1, 16000), torch.zeros(1, 16000)))
    0.0
    """

    def __init__(self, sample_rate=16000, min_rms=1e-3):
        super().__init__()
        try:
            from torch_pesq import PesqLoss
        except ImportError as err:  # pragma: no cover - a dependency of setup.py
            raise ImportError(
                "pesq_weight > 0 needs torch-pesq: pip install torch-pesq"
            ) from err
        self.min_rms = min_rms
        self.pesq = PesqLoss(1.0, sample_rate=sample_rate)
        for param in self.pesq.parameters():
            param.requires_grad_(False)

    def forward(self, estimate, target):
        """Mean score over the scored rows of ``[batch, time]`` inputs (0 if none)."""
        scored = target.pow(2).mean(-1).sqrt() > self.min_rms
        if not bool(scored.any()):
            return estimate.sum() * 0.0
        pad = max(PESQ_MIN_SAMPLES - estimate.shape[-1], 0)
        estimate, target = (
            F.pad(estimate[scored], (0, pad)),
            F.pad(target[scored], (0, pad)),
        )
        # In float32 also under mixed precision (P.862's filters are recursive).
        with torch.autocast(device_type=estimate.device.type, enabled=False):
            values = self.score(estimate.float(), target.float())
        return torch.nan_to_num(values, nan=0.0, posinf=0.0).mean()

    def score(self, estimate, target):
        """P.862's weighted disturbance ``0.1 D_sym + 0.0309 D_asym`` of each row.

        A fixed dither 100 dB below unit RMS is added to both signals: a frame
        of digital silence (the zeroed padding of a shorter utterance in the
        batch) has spectral magnitudes of exactly 0, where ``|X|``'s gradient
        is NaN (also for the reference, which P.862 scales by the larger peak
        of the two).
        """
        dither = torch.randn(estimate.shape[-1], generator=torch.Generator().manual_seed(0))
        dither = PESQ_DITHER * dither.to(estimate.device)
        estimate, target = estimate + dither, target + dither
        return self.pesq(target, estimate)
