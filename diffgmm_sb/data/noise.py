"""Noise we make ourselves: coloured, hum, modulated, typing from real clicks,
and babble from real training speech.

These complement the real recorded noise of the starter corpus. Every
generator takes a ``numpy.random.Generator`` so the corpus is reproducible.

Authors
 * diffgmm-sb developers 2026
"""

import numpy as np


def coloured(rng, length, exponent):
    """Gaussian noise with a 1/f^exponent power spectrum, unit RMS.

    ``exponent`` 0 is white, 1 pink, 2 brown.

    Example
    -------
    >>> x = coloured(np.random.default_rng(0), 16000, 1.0)
    >>> x.shape, round(float(np.sqrt(np.mean(x**2))), 3)
    ((16000,), 1.0)
    """
    spectrum = np.fft.rfft(rng.standard_normal(length))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    spectrum *= freqs ** (-exponent / 2.0)
    x = np.fft.irfft(spectrum, n=length)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def hum(rng, length, sample_rate=16000):
    """Mains hum (50 or 60 Hz) with decaying harmonics and a little hiss.

    Example
    -------
    >>> hum(np.random.default_rng(0), 800).shape
    (800,)
    """
    base = rng.choice([50.0, 60.0])
    t = np.arange(length) / sample_rate
    x = np.zeros(length)
    for k in range(1, 9):
        x += (
            rng.uniform(0.2, 1.0)
            / k
            * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 2 * np.pi))
        )
    x += 0.05 * rng.standard_normal(length)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def modulated(rng, length, sample_rate=16000):
    """Coloured noise under a slow random amplitude envelope (non-stationary).

    Example
    -------
    >>> modulated(np.random.default_rng(0), 800).shape
    (800,)
    """
    carrier = coloured(rng, length, rng.uniform(0.0, 2.0))
    rate = rng.uniform(0.3, 4.0)
    t = np.arange(length) / sample_rate
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
    bursts = rng.random(length // 1600 + 1) < 0.3
    envelope *= np.repeat(np.where(bursts, 1.0, 0.25), 1600)[:length]
    return (carrier * envelope).astype(np.float32)


def typing(rng, clicks, length, sample_rate=16000, rate=7.0):
    """Keyboard typing: real recorded key clicks placed at random instants.

    Arguments
    ---------
    rng : numpy.random.Generator
    clicks : list of numpy arrays
        Recorded key press/release sounds.
    length : int
        Output length in samples.
    rate : float
        Mean keystrokes per second.

    Example
    -------
    >>> clicks = [np.ones(10, dtype=np.float32)]
    >>> x = typing(np.random.default_rng(0), clicks, 16000)
    >>> x.shape, bool(x.max() > 0)
    ((16000,), True)
    """
    out = np.zeros(length, dtype=np.float32)
    pos = 0
    while True:
        pos += int(rng.exponential(sample_rate / rate))
        if pos >= length:
            break
        click = clicks[int(rng.integers(len(clicks)))] * rng.uniform(0.3, 1.0)
        end = min(length, pos + len(click))
        out[pos:end] += click[: end - pos]
    return out
