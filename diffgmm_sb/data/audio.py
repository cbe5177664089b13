"""Audio I/O of the whole package, with one error type, and signal helpers.

Every file is read through ``AudioFileReader`` (``read_audio``, ``read_mono``,
``read_pair``): a missing, empty, unreadable or truncated file, or one with
NaN or infinite samples, raises ``AudioError`` with one line naming the file
and the problem, never a traceback from deep inside. ``AtomicAudioWriter``
and ``write_wav`` write under a temporary name and rename, so no half-written
file is ever left under the output name. Compressed sources of the starter
corpus are decoded with ``decode``: it goes through PyAV (FFmpeg), which reads
every format the Debian sources use (G.722 prompts, Ogg Vorbis ambiences, 8 kHz
WAV music), and resamples to the model's rate in the same pass. ``resample`` converts between any two
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


class AudioError(ValueError):
    """An audio file cannot be read, written or paired; the message names the file."""


def decode(path, sample_rate=16000):
    """Decodes any audio file to a mono float32 numpy array at ``sample_rate``.

    Raises
    ------
    AudioError
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
        raise AudioError(f"{path}: cannot decode audio ({err})") from err
    if not chunks or sum(len(c) for c in chunks) == 0:
        raise AudioError(f"{path}: the file holds no audio samples")
    return np.concatenate(chunks).astype(np.float32)


def read_audio(path):
    """A whole file as a ``[channels, time]`` float32 tensor and its rate, checked.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> sf.write(path, np.zeros((100, 2)), 8000)
    >>> wav, rate = read_audio(path)
    >>> tuple(wav.shape), rate
    ((2, 100), 8000)
    """
    with AudioFileReader(path) as reader:
        return reader.read(0, reader.frames), reader.rate


def read_mono(path, channel=None):
    """A file as a ``[time]`` float32 tensor (channel ``channel``, else the mean) and its rate.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "s.wav")
    >>> sf.write(path, np.array([[0.5, -0.5]] * 4), 8000)
    >>> read_mono(path, channel=1)[0].tolist(), read_mono(path)[0].tolist()
    ([-0.5, -0.5, -0.5, -0.5], [0.0, 0.0, 0.0, 0.0])
    """
    wav, rate = read_audio(path)
    if channel is None:
        return wav.mean(dim=0), rate
    if channel >= wav.shape[0]:
        raise AudioError(f"{path}: no channel {channel} ({wav.shape[0]} channels)")
    return wav[channel], rate


def read_pair(audio_path, reference_path):
    """An audio file and its reference, mono, checked to match in rate, channels and length.

    Returns
    -------
    audio, reference : torch.Tensor
        ``[time]`` float32 (the mean of the channels).
    rate : int

    Raises
    ------
    AudioError
        Naming the file, when either cannot be read or they do not match.
    """
    audio, rate = read_audio(audio_path)
    reference, ref_rate = read_audio(reference_path)
    if rate != ref_rate:
        raise AudioError(
            f"{audio_path}: sample rate {rate} Hz, but its reference "
            f"{reference_path} has {ref_rate} Hz"
        )
    if audio.shape[0] != reference.shape[0]:
        raise AudioError(
            f"{audio_path}: {audio.shape[0]} channel(s), but its reference "
            f"{reference_path} has {reference.shape[0]}"
        )
    if audio.shape[1] != reference.shape[1]:
        raise AudioError(
            f"{audio_path}: {audio.shape[1]} samples, but its reference "
            f"{reference_path} has {reference.shape[1]} (lengths must match)"
        )
    return audio.mean(dim=0), reference.mean(dim=0), rate


def _detail(err):
    """The libsndfile message of a soundfile error, without the file name."""
    return getattr(err, "error_string", None) or str(err) or type(err).__name__


class AudioFileReader:
    """Reads ``[channels, time]`` float audio from a file in increasing windows.

    Validates as it goes: a missing, empty, unreadable or unsupported file,
    one with no samples, a decoding error mid-file and NaN or infinite
    samples all raise ``AudioError`` naming the file. Each window starts
    within or right after the previous one; only the current window is held.

    Example
    -------
    >>> import tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> sf.write(path, np.zeros((100, 2)), 8000)
    >>> with AudioFileReader(path) as r:
    ...     first, second = r.read(0, 20), r.read(10, 30)
    ...     (r.rate, r.channels, r.frames, tuple(second.shape))
    (8000, 2, 100, (2, 20))
    >>> AudioFileReader(path + ".missing").open()
    Traceback (most recent call last):
    ...
    diffgmm_sb.data.audio.AudioError: ....missing: no such file
    """

    def __init__(self, path):
        self.path = str(path)
        self._file = None
        self._buffer = torch.zeros(0, 0)
        self._buffer_start = 0

    def open(self):
        """Opens and checks the file; returns ``self``."""
        path = self.path
        if not os.path.exists(path):
            raise AudioError(f"{path}: no such file")
        if os.path.isdir(path):
            raise AudioError(f"{path}: is a folder, not an audio file")
        if os.path.getsize(path) == 0:
            raise AudioError(f"{path}: the file is empty (0 bytes)")
        try:
            self._file = sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError, OSError) as err:
            raise AudioError(
                f"{path}: cannot read audio: unsupported or corrupt format ({_detail(err)})"
            ) from err
        self.rate, self.channels = self._file.samplerate, self._file.channels
        self.frames = self._file.frames
        self.format, self.subtype = self._file.format, self._file.subtype
        if self.frames <= 0:
            self.close()
            raise AudioError(f"{path}: the file holds no audio samples")
        self._buffer = torch.zeros(self.channels, 0)
        return self

    def read(self, start, stop):
        """Samples ``start:stop`` as a ``[channels, stop - start]`` float tensor."""
        position = self._buffer_start + self._buffer.shape[-1]  # file position
        if start < self._buffer_start or start > position:
            raise ValueError("AudioFileReader windows must not move back or skip")
        self._buffer = self._buffer[:, start - self._buffer_start :]
        self._buffer_start = start
        missing = stop - start - self._buffer.shape[-1]
        if missing > 0:
            try:
                data = self._file.read(missing, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as err:
                raise AudioError(
                    f"{self.path}: cannot decode audio after frame {position} of "
                    f"{self.frames} (truncated or corrupt file: {_detail(err)})"
                ) from err
            if data.shape[0] < missing:
                raise AudioError(
                    f"{self.path}: the audio ends at frame {position + data.shape[0]} "
                    f"but the header announces {self.frames} (truncated file)"
                )
            new = torch.from_numpy(data.T.copy())
            bad = ~torch.isfinite(new).all(dim=0)
            if bad.any():
                at = (position + int(bad.nonzero()[0])) / self.rate
                raise AudioError(
                    f"{self.path}: the audio contains NaN or infinite samples "
                    f"(first at {at:.3f} s)"
                )
            self._buffer = torch.cat([self._buffer, new], dim=-1)
        return self._buffer[:, : stop - start]

    def close(self):
        """Closes the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()


class AtomicAudioWriter:
    """Writes audio block by block to a temporary file, renamed when complete.

    The format follows the output's extension when ``soundfile`` knows it,
    else ``fmt``; the subtype is ``subtype`` when that format accepts it,
    else the format's default. Samples are clipped to [-1, 1]. On any error
    the temporary file is removed, so the output name holds either nothing
    or a complete file. ``path=None`` writes nothing.

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.flac")
    >>> with AtomicAudioWriter(path, 16000, 1, "WAV", "FLOAT") as w:
    ...     w.write(torch.zeros(1, 160))
    >>> info = sf.info(path)
    >>> (info.format, info.subtype, info.frames)
    ('FLAC', 'PCM_16', 160)
    """

    def __init__(self, path, rate, channels, fmt=None, subtype=None):
        self.path = None if path is None else str(path)
        self.rate, self.channels = rate, channels
        self.format, self.subtype = _output_format(self.path, fmt, subtype)
        self._file = self._tmp = None

    def __enter__(self):
        if self.path is None:
            return self
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        self._tmp = os.path.join(folder, f".{os.path.basename(self.path)}.part")
        try:
            self._file = sf.SoundFile(
                self._tmp,
                "w",
                samplerate=self.rate,
                channels=self.channels,
                format=self.format,
                subtype=self.subtype,
            )
        except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as err:
            self._discard()
            raise AudioError(
                f"{self.path}: cannot write {self.format}/{self.subtype} audio "
                f"({_detail(err)})"
            ) from err
        return self

    def write(self, block):
        """Appends ``[channels, n]`` samples."""
        if self._file is not None:
            self._file.write(block.detach().cpu().clamp(-1.0, 1.0).T.numpy())

    def _discard(self):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tmp is not None and os.path.exists(self._tmp):
            os.remove(self._tmp)

    def __exit__(self, exc_type, exc, tb):
        if self.path is None:
            return
        if exc_type is not None:
            self._discard()
            return
        self._file.close()
        self._file = None
        os.replace(self._tmp, self.path)


def _output_format(path, fmt, subtype):
    """The (format, subtype) to write ``path`` with.

    Example
    -------
    >>> _output_format("a.wav", "FLAC", "PCM_24")
    ('WAV', 'PCM_24')
    >>> _output_format("a.ogg", "WAV", "PCM_16")
    ('OGG', 'VORBIS')
    >>> _output_format("a.enhanced", None, None)
    ('WAV', 'PCM_16')
    """
    ext = os.path.splitext(path or "")[1][1:].upper()
    if ext in sf.available_formats():
        fmt = ext
    fmt = fmt or "WAV"
    if subtype is None or not sf.check_format(fmt, subtype):
        subtype = sf.default_subtype(fmt)
    return fmt, subtype


def write_wav(path, wav, sample_rate=16000):
    """Writes a mono float array as 16-bit PCM WAV, atomically (``AtomicAudioWriter``).

    Example
    -------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> write_wav(path, np.zeros(160, dtype=np.float32))
    >>> sf.info(path).frames
    160
    """
    with AtomicAudioWriter(path, sample_rate, 1, "WAV", "PCM_16") as writer:
        writer.write(torch.as_tensor(np.asarray(wav)).unsqueeze(0))


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
