"""Enhancement metrics for SpeechBrain's ``MetricStats``: PESQ, (e)STOI, (SI-)SDR.

Each function scores one batch, ``pred`` and ``target`` of shape
``[batch, time]`` with relative ``lengths``, and returns one value per
utterance, which is the signature ``MetricStats(metric=...)`` expects. PESQ
comes from the ``pesq`` package (ITU-T P.862.2 wide band, P.862 narrow band,
both as MOS-LQO), STOI and extended STOI from ``pystoi``.

Authors
 * diffgmm-sb developers 2026
"""

import importlib

import numpy as np
import torch


def _eval_package(name):
    """``pesq`` or ``pystoi``, imported on first use (the ``[eval]`` extra)."""
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ImportError(
            f"PESQ and STOI need the {name} package: pip install {name} (the [eval] extra)"
        ) from err


def _trimmed(pred, target, lengths):
    """Yields numpy (pred, target) pairs cut to each utterance's true length."""
    if lengths is None:
        lengths = torch.ones(pred.shape[0])
    for p, t, rel in zip(pred, target, lengths):
        n = int(round(float(rel) * pred.shape[-1]))
        yield (
            p[:n].detach().cpu().double().numpy(),
            t[:n].detach().cpu().double().numpy(),
        )


def _pesq(pred, target, lengths, sample_rate, mode):
    pesq = _eval_package("pesq")
    scores = []
    for p, t in _trimmed(pred, target, lengths):
        try:
            scores.append(pesq.pesq(sample_rate, t, p, mode))
        except (pesq.NoUtterancesError, pesq.PesqError):
            scores.append(float("nan"))
    return torch.tensor(scores)


def pesq_wb(pred, target, lengths=None, sample_rate=16000):
    """Wide-band PESQ per utterance (NaN where PESQ finds no utterance).

    Example
    -------
    >>> t = torch.sin(torch.arange(16000) * 0.05).unsqueeze(0) * 0.3
    >>> pesq_wb(t, t).shape
    torch.Size([1])
    """
    return _pesq(pred, target, lengths, sample_rate, "wb")


def pesq_nb(pred, target, lengths=None, sample_rate=16000):
    """Narrow-band PESQ (P.862, MOS-LQO) per utterance, at 8 or 16 kHz.

    Example
    -------
    >>> t = torch.randn(1, 16000) * 0.1
    >>> float(pesq_nb(t, t)[0]) > 4.4
    True
    """
    return _pesq(pred, target, lengths, sample_rate, "nb")


def stoi(pred, target, lengths=None, sample_rate=16000, extended=False):
    """Short-time objective intelligibility per utterance.

    Example
    -------
    >>> t = torch.randn(1, 16000)
    >>> float(stoi(t, t)[0]) > 0.99
    True
    """
    return torch.tensor(
        [
            _eval_package("pystoi").stoi(t, p, sample_rate, extended=extended)
            for p, t in _trimmed(pred, target, lengths)
        ]
    )


def estoi(pred, target, lengths=None, sample_rate=16000):
    """Extended STOI (Jensen & Taal 2016) per utterance.

    Example
    -------
    >>> t = torch.randn(1, 16000)
    >>> float(estoi(t, t)[0]) > 0.99
    True
    """
    return stoi(pred, target, lengths, sample_rate, extended=True)


def si_sdr(pred, target, lengths=None):
    """Scale-invariant signal-to-distortion ratio (dB) per utterance.

    Example
    -------
    >>> t = torch.randn(1, 1000)
    >>> float(si_sdr(2.0 * t, t)[0]) > 100
    True
    """
    scores = []
    for p, t in _trimmed(pred, target, lengths):
        p, t = p - p.mean(), t - t.mean()
        alpha = np.dot(p, t) / max(np.dot(t, t), 1e-12)
        projection = alpha * t
        residual = p - projection
        scores.append(
            10
            * np.log10(
                max(np.dot(projection, projection), 1e-12)
                / max(np.dot(residual, residual), 1e-12)
            )
        )
    return torch.tensor(scores)


def sdr(pred, target, lengths=None):
    """Signal-to-distortion ratio (dB) per utterance, ``10 log10(|s|^2 / |s - s_hat|^2)``.

    The plain energy ratio, not scale-invariant (a gain error counts as
    distortion) and without BSS-eval's distortion filter.

    Example
    -------
    >>> t = torch.randn(1, 1000)
    >>> round(float(sdr(0.9 * t, t)[0]), 3)
    20.0
    """
    scores = []
    for p, t in _trimmed(pred, target, lengths):
        error = max(np.dot(t - p, t - p), 1e-12)
        scores.append(10 * np.log10(max(np.dot(t, t), 1e-12) / error))
    return torch.tensor(scores)
