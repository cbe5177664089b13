"""Audio helpers: decoding, writing, mixing at an SNR, resampling at any rate.

Decoding goes through PyAV (FFmpeg), which reads every format the Debian
sources use (G.722 prompts, Ogg Vorbis ambiences, 8 kHz WAV music), and
resamples to the model's rate in the same pass. Writing is atomic: a file is
written under a temporary name and renamed, so an interrupted preparation
never leaves a half-written WAV behind. ``resample`` converts between any two
rates in time proportional to the signal, including rates such as 11127 Hz
whose ratio to 16 kHz does not reduce.

Authors
 * diffgmm-sb developers 2026
"""

import math
import os

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

# Above this reduced rate ratio (rate / gcd of the two rates), torchaudio's
# polyphase kernel grows with the ratio (minutes per second of audio at
# 11127 Hz); such rates go through the direct windowed-sinc interpolation.
MAX_POLYPHASE_RATIO = 1000


def decode(path, sample_rate=16000):
    """Decodes any audio file to a mono float32 numpy array at ``sample_rate``.

    Raises
    ------
    ValueError
        Naming the file, when it cannot be decoded or holds no samples.
    """
    import av

    try:
        with av.open(path, metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            chunks = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot decode audio ({err})") from err
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise ValueError(f"{path}: the file holds no audio samples")
    return np.concatenate(chunks).astype(np.float32)


def write_wav(path, wav, sample_rate=16000):
    """Writes a mono float array as 16-bit PCM WAV, atomically.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> write_wav(path, np.zeros(160, dtype=np.float32))
    >>> sf.info(path).frames
    160
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part"
    sf.write(tmp, np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")
    os.replace(tmp, path)


def rms(wav):
    """Root mean square of an array (0 for an empty one).

    Example
    -------
    >>> float(rms(np.array([3.0, -3.0])))
    3.0
    """
    return float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0


def fit_length(noise, length, rng):
    """A random ``length``-sample excerpt of ``noise``, looped when too short.

    Example
    -------
    >>> fit_length(np.arange(3.0), 7, np.random.default_rng(0)).shape
    (7,)
    """
    if len(noise) < length:
        reps = int(np.ceil(length / len(noise))) + 1
        noise = np.tile(noise, reps)
    start = int(rng.integers(0, len(noise) - length + 1))
    return noise[start : start + length]


def mix_at_snr(clean, noise, snr_db, peak=0.95):
    """Scales ``noise`` to ``snr_db`` below ``clean`` and adds it.

    Both signals are scaled down together if the mixture would clip.

    Returns
    -------
    noisy, clean : numpy arrays
        The mixture and the (possibly rescaled) clean reference.

    Example
    -------
    >>> c, n = np.ones(4), np.array([1.0, -1.0, 1.0, -1.0])
    >>> noisy, clean = mix_at_snr(c * 0.1, n, 20.0)
    >>> round(float(20 * np.log10(rms(clean) / rms(noisy - clean))), 3)
    20.0
    """
    noise_rms = max(rms(noise), 1e-8)
    gain = rms(clean) / noise_rms * 10.0 ** (-snr_db / 20.0)
    noisy = clean + gain * noise
    top = float(np.max(np.abs(noisy))) if len(noisy) else 0.0
    if top > peak:
        clean, noisy = clean * (peak / top), noisy * (peak / top)
    return noisy.astype(np.float32), clean.astype(np.float32)


def resample(wav, orig_freq, new_freq, lowpass_filter_width=6, rolloff=0.99):
    """Resamples ``[..., time]`` audio between any two sample rates.

    Rates with a small reduced ratio (44.1 kHz, 22.05 kHz, 48 kHz, ... to
    16 kHz) use ``torchaudio.functional.resample``. Other rates use the same
    Hann-windowed sinc filter evaluated directly at each output instant, so
    the cost stays proportional to the length whatever the ratio. The
    output has ``ceil(time * new_freq / orig_freq)`` samples, as torchaudio's.

    Example
    -------
    >>> resample(torch.zeros(2, 11127), 11127, 16000).shape
    torch.Size([2, 16000])
    >>> x = torch.sin(torch.arange(44100) * 2 * math.pi * 440 / 44100)
    >>> direct = _sinc_resample(x, 44100, 16000, 6, 0.99)
    >>> bool((direct - AF.resample(x, 44100, 16000)).abs().max() < 1e-3)
    True
    """
    if orig_freq == new_freq:
        return wav
    gcd = math.gcd(int(orig_freq), int(new_freq))
    if max(orig_freq, new_freq) // gcd <= MAX_POLYPHASE_RATIO:
        return AF.resample(wav, orig_freq, new_freq, lowpass_filter_width, rolloff)
    return _sinc_resample(wav, orig_freq, new_freq, lowpass_filter_width, rolloff)


def _sinc_resample(wav, orig_freq, new_freq, lowpass_filter_width, rolloff, block=16384):
    """torchaudio's ``sinc_interp_hann`` filter, evaluated per output sample."""
    length = wav.shape[-1]
    out_length = math.ceil(new_freq * length / orig_freq)
    base = min(orig_freq, new_freq) * rolloff  # cut-off (Hz)
    half = math.ceil(lowpass_filter_width * orig_freq / base)  # taps each side
    flat = wav.reshape(-1, length)
    padded = torch.nn.functional.pad(flat, (half, half + 1))
    offsets = torch.arange(-half + 1, half + 1, device=wav.device)
    out = torch.empty(flat.shape[0], out_length, dtype=wav.dtype, device=wav.device)
    for start in range(0, out_length, block):
        n = torch.arange(start, min(start + block, out_length), device=wav.device)
        pos = n.double() * orig_freq / new_freq  # output instants in input samples
        taps = pos.floor().long().unsqueeze(1) + offsets  # [n, 2 * half]
        d = (taps.double() - pos.unsqueeze(1)) * base / orig_freq  # in cut-off periods
        d = d.clamp(-lowpass_filter_width, lowpass_filter_width)
        window = torch.cos(d * math.pi / lowpass_filter_width / 2) ** 2
        weights = torch.special.sinc(d) * window * (base / orig_freq)
        samples = padded[:, taps + half]  # [rows, n, 2 * half]
        out[:, start : start + len(n)] = (samples * weights.to(wav.dtype)).sum(-1)
    return out.reshape(*wav.shape[:-1], out_length)
