"""Audio helpers used when preparing data: decoding, writing, mixing at an SNR.

Decoding goes through PyAV (FFmpeg), which reads every format the Debian
sources use (G.722 prompts, Ogg Vorbis ambiences, 8 kHz WAV music), and
resamples to the model's rate in the same pass. Writing is atomic: a file is
written under a temporary name and renamed, so an interrupted preparation
never leaves a half-written WAV behind.

Authors
 * diffgmm-sb developers 2026
"""

import os

import numpy as np
import soundfile as sf


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
