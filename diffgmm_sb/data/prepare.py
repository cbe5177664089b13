"""Idempotent data preparation into SpeechBrain JSON manifests.

Preparation scripts (the recipes' ``*_prepare.py``) write, once, mono 16-bit
copies at the model's rate of audio that is not already so
(``write_normalised``), then their manifests (``write_manifest``), and record
the options they used (``mark_prepared``); ``preparation_done`` tells a rerun
with the same options that there is nothing to do.

Authors
 * diffgmm-sb developers 2026
"""

import json
import os

import numpy as np
import torchaudio.functional as AF

from diffgmm_sb.data.audio import read_mono, write_wav

PREPARE_OPTIONS = "prepare_options.json"


def write_normalised(src, dst, sample_rate, channel=None, length=None):
    """Writes ``src`` to ``dst`` as mono 16-bit WAV at ``sample_rate``.

    Arguments
    ---------
    src, dst : str
        Input file (any rate and channel count ``soundfile`` reads), output.
    sample_rate : int
        Rate of the output (resampled when the input's differs).
    channel : int, optional
        The input channel to keep (default: the mean of all channels).
    length : int, optional
        Output length in samples: longer audio is cut, shorter zero-padded.

    Returns
    -------
    int
        The number of samples written.

    Example
    -------
    >>> import tempfile, soundfile as sf
    >>> folder = tempfile.mkdtemp()
    >>> sf.write(os.path.join(folder, "a.wav"), np.zeros((4800, 2)), 48000)
    >>> write_normalised(os.path.join(folder, "a.wav"), os.path.join(folder, "b.wav"), 16000)
    1600
    """
    audio, rate = read_mono(src, channel)
    if rate != sample_rate:
        audio = AF.resample(audio, rate, sample_rate)
    audio = audio.numpy()
    if length is not None:
        audio = np.pad(audio[:length], (0, max(0, length - len(audio))))
    write_wav(dst, audio, sample_rate)
    return len(audio)


def preparation_done(save_folder, manifests, options):
    """True when ``manifests`` exist in ``save_folder``, written with ``options``.

    Example
    -------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> preparation_done(folder, ["train.json"], {"rate": 16000})
    False
    >>> write_manifest({}, os.path.join(folder, "train.json"))
    >>> mark_prepared(folder, {"rate": 16000})
    >>> preparation_done(folder, ["train.json"], {"rate": 16000})
    True
    >>> preparation_done(folder, ["train.json"], {"rate": 8000})
    False
    """
    paths = [os.path.join(save_folder, m) for m in [*manifests, PREPARE_OPTIONS]]
    if not all(os.path.isfile(p) for p in paths):
        return False
    with open(paths[-1], encoding="utf-8") as f:
        return json.load(f) == json.loads(json.dumps(options))


def mark_prepared(save_folder, options):
    """Records the options the manifests in ``save_folder`` were written with."""
    write_manifest(options, os.path.join(save_folder, PREPARE_OPTIONS))


def write_manifest(entries, path):
    """Writes a JSON manifest atomically (creating its folder)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".part", "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=2)
    os.replace(path + ".part", path)
