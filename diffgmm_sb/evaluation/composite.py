"""Composite speech-quality measures of Hu & Loizou: LLR, WSS, SSNR, CSIG/CBAK/COVL.

Y. Hu and P. C. Loizou, "Evaluation of objective quality measures for speech
enhancement", IEEE Trans. Audio, Speech, Lang. Process. 16(1), 2008, fitted
three linear regressions of listener ratings on objective measures:

* ``CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS`` (signal distortion),
* ``CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 SSNR`` (background intrusiveness),
* ``COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS`` (overall quality),

each limited to ``[1, 5]``. This module follows Loizou's ``composite.m``
(*Speech Enhancement: Theory and Practice*) frame for frame: 30 ms Hann
frames (``0.5 (1 - cos(2 pi n / (N + 1)))``, n = 1..N) with a hop of a quarter
frame (75 % overlap), the frame count ``floor(len / hop - N / hop)``, LPC order
16 above 10 kHz (10 below) for the log-likelihood ratio (LLR), Klatt's
weighted spectral slope (WSS) over 25 Gaussian critical bands, both averaged
over the best 95 % of frames, and the segmental SNR (SSNR) averaged over all
frames after limiting each to ``[-10, 35]`` dB. The WSS peak search keeps
``composite.m``'s choice of the band before the peak when searching upwards.

PESQ in the formulas: as in the widely used Python port of ``composite.m``
(MetricGAN, CMGAN, ...) and most speech-enhancement papers on VoiceBank+DEMAND,
the wide-band PESQ score (ITU-T P.862.2, ``pesq`` package, 16 kHz) is used.
Signals are floats in ``[-1, 1]``: the scale matters only through the
``1e-10`` floor of the WSS band energies, as in ``composite.m``.

Everything is vectorised over frames with numpy; a 3 s utterance takes a few
milliseconds (PESQ itself takes longer).

Authors
 * diffgmm-sb developers 2026
"""

import numpy as np

ALPHA = 0.95  # fraction of (best) frames kept for LLR and WSS
SSNR_RANGE = (-10.0, 35.0)  # per-frame limits of the segmental SNR, dB
EPS = np.finfo(np.float64).eps

# Critical bands of the WSS measure (centre frequencies and bandwidths, Hz).
CENTRE_HZ = np.array(
    [50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378]
    + [798.717, 904.128, 1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16]
    + [1993.93, 2211.08, 2446.71, 2701.97, 2978.04, 3276.17, 3597.63]
)
BANDWIDTH_HZ = np.array(
    [70.0] * 7
    + [77.3724, 86.0056, 95.3398, 105.411, 116.256, 127.914, 140.423, 153.823]
    + [168.154, 183.457, 199.776, 217.153, 235.631, 255.255, 276.072, 298.126]
    + [321.465, 346.136]
)


def frame_signal(wav, sample_rate):
    """Hann-windowed 30 ms frames with a quarter-frame hop, ``[frames, samples]``.

    Example
    -------
    >>> frame_signal(np.ones(16000), 16000).shape
    (129, 480)
    """
    win = int(round(30 * sample_rate / 1000))
    hop = win // 4
    count = max(int(np.floor(len(wav) / hop - win / hop)), 0)
    n = np.arange(1, win + 1)
    window = 0.5 * (1 - np.cos(2 * np.pi * n / (win + 1)))
    if count == 0:
        return np.zeros((0, win))
    frames = np.lib.stride_tricks.sliding_window_view(wav, win)[: count * hop : hop]
    return frames * window


def trimmed_mean(values, alpha=ALPHA):
    """Mean of the ``round(alpha * n)`` smallest finite values (NaN if none).

    ``round`` is MATLAB's (halves away from zero), as in ``composite.m``.

    Example
    -------
    >>> trimmed_mean(np.array([1.0, 2.0, 3.0, 100.0]), alpha=0.75)
    2.0
    """
    values = np.sort(values[np.isfinite(values)])
    keep = int(np.floor(len(values) * alpha + 0.5))
    return float(np.mean(values[:keep])) if keep else float("nan")


def frame_snr(clean, processed, sample_rate=16000):
    """Per-frame SNR in dB, each limited to ``SSNR_RANGE``.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(8000)
    >>> np.round(frame_snr(x, 0.5 * x)[:2], 4)  # error x / 2: 10 log10(4) dB
    array([6.0206, 6.0206])
    """
    c, p = frame_signal(clean, sample_rate), frame_signal(processed, sample_rate)
    signal = np.sum(c**2, axis=1)
    noise = np.sum((c - p) ** 2, axis=1)
    return np.clip(10 * np.log10(signal / (noise + EPS) + EPS), *SSNR_RANGE)


def segmental_snr(clean, processed, sample_rate=16000):
    """Segmental SNR (dB): the mean of the limited per-frame SNRs.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(8000)
    >>> segmental_snr(x, x)
    35.0
    """
    snr = frame_snr(clean, processed, sample_rate)
    return float(np.mean(snr)) if len(snr) else float("nan")


def _autocorrelation(frames, order):
    """Lags 0..order of each frame, ``[frames, order + 1]``."""
    n = frames.shape[1]
    return np.stack(
        [np.sum(frames[:, : n - k] * frames[:, k:], axis=1) for k in range(order + 1)],
        axis=1,
    )


def lpc(acorr):
    """Prediction polynomials ``[1, -a_1, ..., -a_P]`` by Levinson-Durbin, per row.

    Example
    -------
    >>> r = 0.9 ** np.arange(3)[None, :]  # autocorrelation of an AR(1), pole 0.9
    >>> np.round(lpc(r), 6) + 0.0
    array([[ 1. , -0.9,  0. ]])
    """
    count, order = acorr.shape[0], acorr.shape[1] - 1
    a = np.zeros((count, order))
    error = acorr[:, 0].copy()
    for i in range(order):
        past = a[:, :i].copy()
        reflection = (acorr[:, i + 1] - np.sum(past * acorr[:, i:0:-1], axis=1)) / error
        a[:, :i] = past - reflection[:, None] * past[:, ::-1]
        a[:, i] = reflection
        error = (1 - reflection**2) * error
    return np.concatenate([np.ones((count, 1)), -a], axis=1)


def _quadratic_form(poly, acorr):
    """``poly @ toeplitz(acorr) @ poly`` for each row."""
    order = poly.shape[1] - 1
    total = acorr[:, 0] * np.sum(poly**2, axis=1)
    for k in range(1, order + 1):
        total += 2 * acorr[:, k] * np.sum(poly[:, : order + 1 - k] * poly[:, k:], axis=1)
    return total


def llr_frames(clean, processed, sample_rate=16000):
    """Per-frame log-likelihood ratio of the processed LPC model on the clean frame.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(8000)
    >>> float(np.abs(llr_frames(x, 3.0 * x)).max()) < 1e-12  # gain-invariant
    True
    """
    order = 10 if sample_rate < 10000 else 16
    acorr_clean = _autocorrelation(frame_signal(clean, sample_rate), order)
    acorr_processed = _autocorrelation(frame_signal(processed, sample_rate), order)
    with np.errstate(divide="ignore", invalid="ignore"):
        numerator = _quadratic_form(lpc(acorr_processed), acorr_clean)
        denominator = _quadratic_form(lpc(acorr_clean), acorr_clean)
        return np.log(numerator / denominator)


def critical_band_filters(sample_rate, n_fft):
    """The 25 Gaussian critical-band weightings over ``n_fft / 2`` FFT bins."""
    half = n_fft // 2
    max_freq = sample_rate / 2
    centre = np.floor(CENTRE_HZ / max_freq * half)[:, None]
    width = (BANDWIDTH_HZ / max_freq * half)[:, None]
    norm = np.log(BANDWIDTH_HZ[0]) - np.log(BANDWIDTH_HZ)[:, None]
    filters = np.exp(-11 * ((np.arange(half)[None, :] - centre) / width) ** 2 + norm)
    return np.where(filters > np.exp(-30.0 / (2.0 * 2.303)), filters, 0.0)


def _band_db(frames, sample_rate):
    """Critical-band energies in dB (floored at -100 dB), ``[frames, 25]``."""
    n_fft = int(2 ** np.ceil(np.log2(2 * frames.shape[1])))
    power = np.abs(np.fft.rfft(frames, n_fft, axis=1)[:, : n_fft // 2]) ** 2
    energy = power @ critical_band_filters(sample_rate, n_fft).T
    return 10 * np.log10(np.maximum(energy, 1e-10))


def _nearest_peaks(db, slope):
    """Energy of the nearest spectral peak of each band (``composite.m``'s search).

    Rising slope: searched upwards, keeping the band *before* the first
    non-rising slope (as ``composite.m`` does); falling or flat slope: searched
    downwards to the band after the last rising slope.
    """
    bands = slope.shape[1]
    index = np.arange(bands)
    up = np.where(slope <= 0, index, bands)
    up = np.minimum.accumulate(up[:, ::-1], axis=1)[:, ::-1]
    down = np.maximum.accumulate(np.where(slope > 0, index, -1), axis=1)
    rows = np.arange(len(db))[:, None]
    return np.where(slope > 0, db[rows, up - 1], db[rows, down + 1])


def wss_from_band_db(clean_db, processed_db, k_max=20.0, k_locmax=1.0):
    """Klatt's weighted spectral slope distance of band energies (dB), per frame.

    Example
    -------
    >>> db = np.random.default_rng(0).normal(50, 10, (3, 25))
    >>> tilt = 0.5 * np.arange(25)  # every slope differs by 0.5 dB: WSS = 0.25
    >>> np.round(wss_from_band_db(db, db + tilt), 12)
    array([0.25, 0.25, 0.25])
    """
    weights = 0
    for db in (clean_db, processed_db):
        slope = db[:, 1:] - db[:, :-1]
        peak = _nearest_peaks(db, slope)
        w_max = k_max / (k_max + db.max(axis=1, keepdims=True) - db[:, :-1])
        w_locmax = k_locmax / (k_locmax + peak - db[:, :-1])
        weights = weights + w_max * w_locmax / 2
    diff = np.diff(clean_db, axis=1) - np.diff(processed_db, axis=1)
    return np.sum(weights * diff**2, axis=1) / np.sum(weights, axis=1)


def wss_frames(clean, processed, sample_rate=16000):
    """Per-frame weighted spectral slope distance.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(8000) * 0.1
    >>> float(np.abs(wss_frames(x, 0.5 * x)).max()) < 1e-9  # gain-invariant
    True
    """
    return wss_from_band_db(
        _band_db(frame_signal(clean, sample_rate), sample_rate),
        _band_db(frame_signal(processed, sample_rate), sample_rate),
    )


def composite_scores(pesq, llr, wss, ssnr, clamp=True):
    """CSIG, CBAK and COVL from PESQ, LLR, WSS and SSNR (Hu & Loizou 2008).

    Example
    -------
    >>> # PESQ and SSNR of VoiceBank+DEMAND's noisy test set, LLR 0.6025, WSS 34.5
    >>> scores = composite_scores(1.97, 0.6025, 34.5, 1.68)
    >>> [round(s, 2) for s in scores]  # published: 3.35, 2.44, 2.63
    [3.35, 2.44, 2.63]
    """
    csig = 3.093 - 1.029 * llr + 0.603 * pesq - 0.009 * wss
    cbak = 1.634 + 0.478 * pesq - 0.007 * wss + 0.063 * ssnr
    covl = 1.594 + 0.805 * pesq - 0.512 * llr - 0.007 * wss
    if clamp:
        return tuple(float(np.clip(v, 1.0, 5.0)) for v in (csig, cbak, covl))
    return float(csig), float(cbak), float(covl)


def composite(clean, processed, sample_rate=16000, pesq_score=None):
    """All composite measures of one utterance, as ``composite.m`` computes them.

    Arguments
    ---------
    clean, processed : numpy.ndarray
        Mono signals of the same length, floats in ``[-1, 1]``.
    sample_rate : int
        Their rate (Hz).
    pesq_score : float, optional
        The PESQ score to put in the formulas; by default wide-band PESQ,
        computed here (``sample_rate`` must then be 16000).

    Returns
    -------
    dict
        ``pesq``, ``llr``, ``wss``, ``ssnr``, ``csig``, ``cbak``, ``covl``.

    Example
    -------
    >>> x = np.sin(np.arange(16000) * 0.05) * 0.3
    >>> scores = composite(x, x, pesq_score=4.5)
    >>> scores["llr"], scores["wss"], scores["ssnr"], scores["csig"]
    (0.0, 0.0, 35.0, 5.0)
    """
    clean = np.asarray(clean, dtype=np.float64) + EPS  # as composite.m does
    processed = np.asarray(processed, dtype=np.float64) + EPS
    if clean.shape != processed.shape or clean.ndim != 1:
        raise ValueError(
            f"composite: need two mono signals of one length, got {clean.shape} "
            f"and {processed.shape}"
        )
    if pesq_score is None:
        if sample_rate != 16000:
            raise ValueError("composite: pass pesq_score for rates other than 16 kHz")
        from pesq import pesq as pesq_fn

        pesq_score = pesq_fn(16000, clean, processed, "wb")
    llr = trimmed_mean(llr_frames(clean, processed, sample_rate))
    wss = trimmed_mean(wss_frames(clean, processed, sample_rate))
    ssnr = segmental_snr(clean, processed, sample_rate)
    csig, cbak, covl = composite_scores(pesq_score, llr, wss, ssnr)
    return {
        "pesq": float(pesq_score),
        "llr": llr,
        "wss": wss,
        "ssnr": ssnr,
        "csig": csig,
        "cbak": cbak,
        "covl": covl,
    }
