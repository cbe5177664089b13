"""Composite measures (LLR, WSS, SSNR, CSIG/CBAK/COVL) against derivable and published values."""

import os

import numpy as np
import pytest
import soundfile as sf
from pesq import pesq
from scipy.linalg import solve_toeplitz, toeplitz
from scipy.signal import lfilter

from diffgmm_sb.evaluation import composite as C

AUDIO = os.path.join(os.path.dirname(__file__), "..", "fixtures", "audio")

# Per-file noisy-input scores of the VoiceBank+DEMAND test set (824 files), from
# the log of the Python port of Loizou's composite.m that its authors checked
# against the MATLAB original: github.com/ruizhecao96/CMGAN,
# src/tools/Noisy_metrics_results/python_noisy_metrics.log.
# Columns: PESQ-wb, CSIG, CBAK, COVL, SSNR (the port limits CSIG to 5).
PUBLISHED_FILES = {
    "p232_001": (2.926636, 4.284055, 3.262715, 3.584717, 7.161749),
    "p232_005": (1.331947, 2.566457, 1.971026, 1.896903, -0.011480),
    "p232_010": (1.210661, 1.689005, 1.561416, 1.367861, -4.218254),
    "p232_028": (1.450556, 2.686906, 1.629161, 1.978561, -4.656219),
    "p232_048": (1.863542, 3.027888, 1.793028, 2.354598, -5.093007),
    "p232_069": (2.321307, 3.796506, 3.124988, 3.047863, 9.065863),
    "p232_095": (1.112941, 1.558894, 2.096927, 1.305428, 2.747661),
    "p232_105": (3.552826, 4.949945, 3.556674, 4.262929, 5.724883),
    "p257_427": (1.037052, 1.793996, 1.397309, 1.300012, -4.077380),
    "p257_434": (1.975608, 3.413096, 1.947545, 2.623661, -4.407343),
}
# Files whose CSIG the port limited to 5.000000; the MATLAB log of the same
# repository (Results/matlab_noisy_metrics.log) prints them unlimited.
PUBLISHED_LIMITED = {  # PESQ-wb, CBAK, COVL, SSNR, MATLAB's unlimited CSIG
    "p232_015": (3.633945, 4.099742, 4.402745, 12.312899, 5.084),
    "p232_024": (3.805193, 4.201778, 4.564029, 12.622838, 5.234),
}
# Test-set averages (PESQ-wb, CSIG, CBAK, COVL, SSNR), two decimals: S. Pascual,
# A. Bonafonte, J. Serra, "SEGAN: speech enhancement generative adversarial
# network", Interspeech 2017, Table 1.
PUBLISHED_AVERAGES = {
    "noisy": (1.97, 3.35, 2.44, 2.63, 1.68),
    "Wiener": (2.22, 3.23, 2.68, 2.67, 5.07),
    "SEGAN": (2.16, 3.48, 2.94, 2.80, 7.73),
}


def _implied_llr_wss(pesq_score, cbak, covl, ssnr):
    """The LLR and WSS that make ``composite_scores`` give this CBAK and COVL.

    CBAK and COVL are affine in (LLR, WSS); the map is read off the function
    itself, so no coefficient is repeated here.
    """

    def scores(llr, wss):
        return np.array(C.composite_scores(pesq_score, llr, wss, ssnr, clamp=False))

    base = scores(0.0, 0.0)
    d_llr, d_wss = scores(1.0, 0.0) - base, scores(0.0, 1.0) - base
    matrix = np.array([[d_llr[1], d_wss[1]], [d_llr[2], d_wss[2]]])
    return np.linalg.solve(matrix, np.array([cbak, covl]) - base[1:])


@pytest.mark.parametrize("name", sorted(PUBLISHED_FILES))
def test_formulas_reproduce_published_per_file_scores(name):
    pesq_score, csig, cbak, covl, ssnr = PUBLISHED_FILES[name]
    llr, wss = _implied_llr_wss(pesq_score, cbak, covl, ssnr)
    assert 0.0 < llr < 2.5 and 0.0 < wss < 100.0  # values real speech gives
    # The third score is then fixed: it matches to the log's 6-decimal rounding
    # (worst case 2.3e-6); a coefficient off by 0.001 misses by 1e-3 or more.
    got = C.composite_scores(pesq_score, llr, wss, ssnr)
    assert got == pytest.approx((csig, cbak, covl), abs=3e-6)


@pytest.mark.parametrize("name", sorted(PUBLISHED_LIMITED))
def test_limit_to_five_matches_the_port_and_matlab(name):
    pesq_score, cbak, covl, ssnr, matlab_csig = PUBLISHED_LIMITED[name]
    llr, wss = _implied_llr_wss(pesq_score, cbak, covl, ssnr)
    raw = C.composite_scores(pesq_score, llr, wss, ssnr, clamp=False)
    assert raw[0] == pytest.approx(matlab_csig, abs=6e-4)  # 3 decimals in the log
    assert C.composite_scores(pesq_score, llr, wss, ssnr)[0] == 5.0


@pytest.mark.parametrize("row", sorted(PUBLISHED_AVERAGES))
def test_formulas_agree_with_published_test_set_averages(row):
    """The averages are linear in the per-file measures, so the formulas hold
    for them too. With every figure rounded to 0.005, the CSIG implied by the
    other four can miss the printed one by at most 0.0222."""
    pesq_score, csig, cbak, covl, ssnr = PUBLISHED_AVERAGES[row]
    llr, wss = _implied_llr_wss(pesq_score, cbak, covl, ssnr)
    got = C.composite_scores(pesq_score, llr, wss, ssnr)
    assert abs(got[0] - csig) <= 0.0222
    if row == "noisy":  # the noisy input of VoiceBank+DEMAND: LLR ~0.60, WSS ~34.5
        assert llr == pytest.approx(0.60, abs=0.01) and wss == pytest.approx(34.5, abs=0.1)


def _speech_and_noise():
    speech, rate = sf.read(os.path.join(AUDIO, "allison_en_vm-pls-try-again.wav"))
    noise, _ = sf.read(os.path.join(AUDIO, "noise_crowd.wav"))
    assert rate == 16000
    return speech, noise[: len(speech)] * np.std(speech) / np.std(noise)


def test_identical_signals_give_the_formula_values_for_perfect_measures():
    speech, _ = _speech_and_noise()
    scores = C.composite(speech, speech)
    assert scores["pesq"] == pytest.approx(pesq(16000, speech, speech, "wb"))
    assert scores["pesq"] == pytest.approx(4.644, abs=1e-3)
    assert (scores["llr"], scores["wss"], scores["ssnr"]) == (0.0, 0.0, 35.0)
    raw = C.composite_scores(scores["pesq"], 0.0, 0.0, 35.0, clamp=False)
    assert raw == pytest.approx(
        (3.093 + 0.603 * 4.644, 1.634 + 0.478 * 4.644 + 0.063 * 35, 1.594 + 0.805 * 4.644),
        abs=1e-3,
    )
    assert (scores["csig"], scores["cbak"], scores["covl"]) == (5.0, 5.0, 5.0)


def _llr_frame_by_frame(clean, processed, order=16):
    """LLR per frame with scipy's Toeplitz solver instead of Levinson-Durbin."""
    out = []
    for c, p in zip(C.frame_signal(clean, 16000), C.frame_signal(processed, 16000)):
        polys = []
        for frame in (c, p):
            r = np.correlate(frame, frame, "full")[len(frame) - 1 :][: order + 1]
            polys.append(np.concatenate([[1.0], -solve_toeplitz(r[:order], r[1:])]))
        r_clean = np.correlate(c, c, "full")[len(c) - 1 :][: order + 1]
        quad = [a @ toeplitz(r_clean) @ a for a in polys]
        out.append(np.log(quad[1] / quad[0]))
    return np.array(out)


def _peaks_frame_by_frame(db):
    """composite.m's nearest-peak search written as its loops."""
    slope = np.diff(db)
    peaks = np.empty(len(slope))
    for i in range(len(slope)):
        n = i
        if slope[i] > 0:
            while n < len(slope) and slope[n] > 0:
                n += 1
            peaks[i] = db[n - 1]
        else:
            while n >= 0 and slope[n] <= 0:
                n -= 1
            peaks[i] = db[n + 1]
    return peaks


def test_vectorised_measures_match_frame_by_frame_versions():
    speech, noise = _speech_and_noise()
    noisy = speech + 0.3 * noise
    np.testing.assert_allclose(
        C.llr_frames(speech, noisy), _llr_frame_by_frame(speech, noisy), atol=1e-8
    )
    db = np.random.default_rng(0).normal(40, 8, (200, 25)).round()  # with ties
    loops = np.stack([_peaks_frame_by_frame(row) for row in db])
    np.testing.assert_array_equal(C._nearest_peaks(db, np.diff(db, axis=1)), loops)


def test_frames_are_30_ms_with_75_percent_overlap():
    frames = C.frame_signal(np.ones(16000), 16000)
    assert frames.shape == (129, 480)  # floor(16000 / 120 - 480 / 120)
    x = np.arange(16000.0)
    framed = C.frame_signal(x, 16000) / C.frame_signal(np.ones(16000), 16000)
    assert framed[1, 0] == pytest.approx(120.0)  # hop 120 samples
    assert framed[-1, -1] == pytest.approx(128 * 120 + 479)
    assert C.frame_signal(np.ones(400), 16000).shape == (0, 480)
    assert np.isnan(C.segmental_snr(np.ones(400), np.ones(400)))


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0, 30.0])
def test_segmental_snr_of_stationary_signals_is_the_snr(snr):
    rng = np.random.default_rng(1)
    clean = rng.standard_normal(32000) * 0.1
    noise = rng.standard_normal(32000) * 0.1 * 10 ** (-snr / 20)
    assert C.segmental_snr(clean, clean + noise) == pytest.approx(snr, abs=0.1)


def test_segmental_snr_limits_and_exact_cases():
    x = np.random.default_rng(2).standard_normal(16000)
    assert C.segmental_snr(x, x + 100 * x[::-1]) == -10.0  # each frame below -10 dB
    assert C.segmental_snr(x, x + 1e-4 * x[::-1]) == 35.0  # each frame above 35 dB
    assert C.segmental_snr(x, np.zeros_like(x)) == pytest.approx(0.0, abs=1e-9)
    assert C.segmental_snr(x, -x) == pytest.approx(-10 * np.log10(4))
    assert C.segmental_snr(x, 0.9 * x) == pytest.approx(20.0)  # error 0.1 x: 20 dB


def test_llr_and_wss_ignore_gain_segmental_snr_does_not():
    speech, noise = _speech_and_noise()
    noisy = speech + 0.5 * noise
    for gain in (0.25, 3.0):
        np.testing.assert_allclose(
            C.llr_frames(speech, gain * noisy), C.llr_frames(speech, noisy), atol=1e-9
        )
        np.testing.assert_allclose(
            C.wss_frames(speech, gain * noisy), C.wss_frames(speech, noisy), atol=1e-9
        )
    assert C.segmental_snr(speech, 0.5 * speech) == pytest.approx(10 * np.log10(4), abs=0.1)


def test_llr_of_an_ar1_process_against_a_white_model():
    rho = 0.9
    # exact autocorrelation: LLR = -log(1 - rho^2) = 1.6607
    r = rho ** np.arange(17)[None, :]
    poly = C.lpc(r)
    np.testing.assert_allclose(poly[0, :2], [1.0, -rho])
    assert np.abs(poly[0, 2:]).max() < 1e-12
    white = np.eye(1, 17)
    llr = np.log(C._quadratic_form(white, r) / C._quadratic_form(poly, r))
    assert float(llr[0]) == pytest.approx(-np.log(1 - rho**2))
    # estimated from 30 ms frames: a little above (the white model's 16 fitted
    # coefficients are not exactly zero)
    rng = np.random.default_rng(0)
    ar1 = lfilter([1.0], [1.0, -rho], rng.standard_normal(48000)) * 0.01
    estimated = C.trimmed_mean(C.llr_frames(ar1, rng.standard_normal(48000) * 0.01))
    assert -np.log(1 - rho**2) <= estimated <= -np.log(1 - rho**2) + 0.1


def test_scores_improve_monotonically_with_snr():
    speech, noise = _speech_and_noise()
    rows = [C.composite(speech, speech + noise * 10 ** (-snr / 20)) for snr in (0, 10, 20)]
    for up in ("pesq", "csig", "cbak", "covl", "ssnr"):
        values = [row[up] for row in rows]
        assert values == sorted(values) and values[0] < values[-1], (up, values)
    for down in ("llr", "wss"):
        values = [row[down] for row in rows]
        assert values == sorted(values, reverse=True), (down, values)


def test_trimmed_mean_rounds_like_matlab_and_skips_non_finite():
    assert C.trimmed_mean(np.arange(10.0)) == np.mean(np.arange(10.0))  # 9.5 -> 10
    values = np.arange(70.0)  # 66.5 frames kept: MATLAB rounds to 67 (Python: 66)
    assert C.trimmed_mean(values) == np.mean(values[:67])
    assert C.trimmed_mean(np.array([1.0, np.nan, np.inf, 3.0]), alpha=1.0) == 2.0
    assert np.isnan(C.trimmed_mean(np.array([np.nan])))


def test_composite_rejects_mismatched_signals():
    with pytest.raises(ValueError, match="one length"):
        C.composite(np.zeros(16000), np.zeros(16001))
    with pytest.raises(ValueError, match="pesq_score"):
        C.composite(np.zeros(8000), np.zeros(8000), sample_rate=8000)
