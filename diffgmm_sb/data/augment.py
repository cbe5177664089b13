"""Mixing conditions for on-the-fly training pairs that resemble real recordings.

``NoisyMixer`` turns one clean training excerpt into a ``(noisy, clean)`` pair:
a noise excerpt cut at a random offset from a random file of a random category,
optionally played faster or slower (engines, fans and hum change pitch),
re-coloured by random bass/treble shelves, joined by a second noise of another
category at a lower level, added at a random SNR; optionally the speech is
reverberated by a synthetic room first (the target is then the reverberant
speech: DiffGMM denoises, it does not dereverberate) and the pair is
band-limited as by a narrow-band channel. Every probability is a YAML key of
the recipe; all zeros give plain additive mixing.

Why not ``speechbrain.augment``: its augmenters act on a batch in
``compute_forward``; this mixer makes each pair in the data pipeline, and
differs where it was measured (``benchmarks/augment_vs_speechbrain.py``):

* ``AddNoise`` draws noise files uniformly from a CSV: 48 % of the draws would
  come from recorded noise in the starter corpus (44 of its 92 training files);
  drawing the category first gives 73 % (11 of 15 categories), so the many
  small generated files do not crowd out the real recordings. It also has no
  second noise of another category, and normalising a mixture that would clip
  it does not scale the clean target with it (``mix_at_snr`` scales both).
* ``SpeedPerturb`` draws one speed per batch (here: per pair) and resamples
  the whole signal: 4-5 ms for a 60 s noise file against 0.3-0.5 ms for
  ``change_speed``, which cuts the excerpt first.
* ``AddReverb`` needs recorded impulse responses, which the corpus does not
  have (``synthetic_rir`` makes one); nothing there shelves the spectrum
  (``random_shelves``) or low-passes the pair. The filters themselves are
  torchaudio's.

Authors
 * diffgmm-sb developers 2026
"""

import random

import numpy as np
import torch
import torchaudio.functional as AF

from diffgmm_sb.data.audio import fit_length, mix_at_snr

# Speed factors of the noise: rates of 16 kHz x factor have small ratios to
# 16 kHz, so resampling them is cheap.
NOISE_SPEEDS = (0.8, 0.9, 1.125, 1.25)


def random_shelves(
    wav, sample_rate, bass_db=(-6.0, 6.0), treble_db=(-9.0, 6.0), bass_freq=200.0
):
    """Applies a random low shelf (at ``bass_freq``) and high shelf (3 kHz) to ``wav``.

    Gains (dB) are drawn uniformly from ``bass_db`` and ``treble_db``.

    Example
    -------
    >>> out = random_shelves(torch.randn(16000), 16000)
    >>> out.shape, bool(torch.isfinite(out).all())
    (torch.Size([16000]), True)
    """
    out = AF.bass_biquad(wav, sample_rate, random.uniform(*bass_db), central_freq=bass_freq)
    return AF.treble_biquad(
        out, sample_rate, random.uniform(*treble_db), central_freq=3000.0
    )


def change_speed(wav, length, sample_rate, factor):
    """``length`` samples of ``wav`` played ``factor`` times faster (pitch moves too).

    Example
    -------
    >>> change_speed(torch.randn(30000), 16000, 16000, 1.25).shape
    torch.Size([16000])
    """
    need = int(np.ceil(length * factor)) + 1
    excerpt = torch.from_numpy(fit_length(wav.numpy(), need, numpy_rng()))
    out = AF.resample(excerpt, int(sample_rate * factor), sample_rate)
    return out[:length]


def synthetic_rir(sample_rate, rt60):
    """A room impulse response: a direct path then exponentially decaying noise.

    Arguments
    ---------
    sample_rate : int
    rt60 : float
        Reverberation time (s): the tail decays by 60 dB over it.

    Example
    -------
    >>> rir = synthetic_rir(16000, 0.4)
    >>> rir.shape, float(rir[0])
    (torch.Size([6400]), 1.0)
    """
    length = int(rt60 * sample_rate)
    t = torch.arange(length) / sample_rate
    tail = torch.randn(length) * torch.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.002 * sample_rate)] = 0.0  # first reflections after 2 ms
    rir = 0.3 * tail / tail.abs().max().clamp_min(1e-8)
    rir[0] = 1.0
    return rir


class NoisyMixer:
    """Makes a noisy/clean training pair from a clean excerpt and a noise pool.

    Arguments
    ---------
    noise_pool : list of list of torch.Tensor
        Noise waveforms grouped by category (a category is drawn first).
    snr_range : tuple of float
        SNR (dB) of the speech over the total noise, drawn uniformly.
    sample_rate : int
        Rate of every waveform.
    second_noise_prob : float
        Probability of adding a second noise 0 to 10 dB below the first.
    noise_speed_prob : float
        Probability of playing a noise at a factor of ``NOISE_SPEEDS``.
    noise_eq_prob : float
        Probability of random bass/treble shelves on a noise.
    reverb_prob : float
        Probability of reverberating the speech (RT60 0.2 to 0.8 s).
    bandlimit_prob : float
        Probability of low-passing the pair at 3.4 to 7 kHz.

    Example
    -------
    >>> pool = [[torch.randn(20000)], [torch.randn(5000)]]
    >>> mixer = NoisyMixer(pool, (0.0, 10.0), 16000, second_noise_prob=1.0,
    ...     noise_speed_prob=1.0, noise_eq_prob=1.0, reverb_prob=1.0,
    ...     bandlimit_prob=1.0)
    >>> noisy, clean = mixer(torch.randn(16000) * 0.1)
    >>> noisy.shape, clean.shape, bool(torch.isfinite(noisy).all())
    (torch.Size([16000]), torch.Size([16000]), True)
    """

    def __init__(
        self,
        noise_pool,
        snr_range,
        sample_rate,
        second_noise_prob=0.0,
        noise_speed_prob=0.0,
        noise_eq_prob=0.0,
        reverb_prob=0.0,
        bandlimit_prob=0.0,
    ):
        self.noise_pool = noise_pool
        self.snr_range = snr_range
        self.sample_rate = sample_rate
        self.second_noise_prob = second_noise_prob
        self.noise_speed_prob = noise_speed_prob
        self.noise_eq_prob = noise_eq_prob
        self.reverb_prob = reverb_prob
        self.bandlimit_prob = bandlimit_prob

    def _noise(self, length, category=None):
        """A noise excerpt of ``length`` samples (and the category drawn)."""
        if category is None:
            category = random.randrange(len(self.noise_pool))
        wav = random.choice(self.noise_pool[category])
        if random.random() < self.noise_speed_prob:
            factor = random.choice(NOISE_SPEEDS)
            excerpt = change_speed(wav, length, self.sample_rate, factor)
        else:
            excerpt = torch.from_numpy(fit_length(wav.numpy(), length, numpy_rng()))
        if random.random() < self.noise_eq_prob:
            excerpt = random_shelves(excerpt, self.sample_rate)
        return excerpt, category

    def __call__(self, clean):
        """Returns ``(noisy, clean)`` float32 tensors of ``clean``'s length."""
        length = len(clean)
        if random.random() < self.reverb_prob:
            rir = synthetic_rir(self.sample_rate, random.uniform(0.2, 0.8))
            clean = AF.fftconvolve(clean, rir)[:length]
        noise, category = self._noise(length)
        if len(self.noise_pool) > 1 and random.random() < self.second_noise_prob:
            others = [c for c in range(len(self.noise_pool)) if c != category]
            second, _ = self._noise(length, random.choice(others))
            level = 10.0 ** (-random.uniform(0.0, 10.0) / 20.0)
            scale = noise.pow(2).mean().sqrt() / second.pow(2).mean().sqrt().clamp_min(1e-8)
            noise = noise + level * scale * second
        snr = random.uniform(*self.snr_range)
        noisy, clean = mix_at_snr(clean.numpy(), noise.numpy(), snr)
        noisy, clean = torch.from_numpy(noisy), torch.from_numpy(clean)
        if random.random() < self.bandlimit_prob:
            cutoff = random.uniform(3400.0, 7000.0)
            noisy = AF.lowpass_biquad(noisy, self.sample_rate, cutoff)
            clean = AF.lowpass_biquad(clean, self.sample_rate, cutoff)
        return noisy.float(), clean.float()


def numpy_rng():
    """A numpy generator seeded from Python's ``random`` (seeded by SpeechBrain)."""
    return np.random.default_rng(random.getrandbits(63))
