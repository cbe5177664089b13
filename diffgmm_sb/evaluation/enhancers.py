"""Runs any SpeechBrain enhancement interface on a list of files, offline.

The interface is chosen by name and loaded with ``from_hparams`` from a local
model folder (``hyperparams.yaml`` and the files its ``pretrainer`` names);
nothing is downloaded. Each input is enhanced with the interface's own
``enhance_file`` and written as ``OUT/<input file name>``. SpeechBrain's
interfaces write at the model's rate, and STFT models may return a few samples
more or fewer, so every output is then brought to its input's rate (resampled)
and length (cut or zero-padded), which the evaluator requires.

Authors
 * diffgmm-sb developers 2026
"""

import importlib
import os
import tempfile

import soundfile as sf
import torch
import torchaudio.functional as AF
from tqdm import tqdm

from diffgmm_sb.data.audio import AtomicAudioWriter, read_audio

INTERFACES = {
    "diffgmm": "diffgmm_sb.inference.interface.DiffGMMEnhancement",
    "spectral_mask": "speechbrain.inference.enhancement.SpectralMaskEnhancement",
    "waveform": "speechbrain.inference.enhancement.WaveformEnhancement",
    "sgmse": "speechbrain.inference.enhancement.SGMSEEnhancement",
}


def interface_class(name):
    """The enhancement interface class called ``name`` (a key of ``INTERFACES``).

    Example
    -------
    >>> interface_class("waveform").__name__
    'WaveformEnhancement'
    """
    if name not in INTERFACES:
        raise ValueError(f"unknown enhancer {name!r}; choose from {', '.join(INTERFACES)}")
    module, cls = INTERFACES[name].rsplit(".", 1)
    return getattr(importlib.import_module(module), cls)


def load_enhancer(name, model_dir, device="cpu", savedir=None):
    """Loads interface ``name`` from the local folder ``model_dir``.

    Raises
    ------
    FileNotFoundError
        When ``model_dir`` is not a local folder with ``hyperparams.yaml``
        (hub names are refused: the evaluator never downloads).
    """
    if not os.path.isfile(os.path.join(model_dir, "hyperparams.yaml")):
        raise FileNotFoundError(
            f"{model_dir}: not a local model folder (no hyperparams.yaml); "
            "models are never downloaded, give the folder of a saved model"
        )
    cls = interface_class(name)
    if savedir is None:
        savedir = tempfile.mkdtemp(prefix="diffgmm_sb_enhancer_")
    return cls.from_hparams(
        source=os.path.abspath(model_dir), savedir=savedir, run_opts={"device": device}
    )


def conform(path, rate, length):
    """Resamples the audio file ``path`` to ``rate`` and fits it to ``length`` samples.

    The file is rewritten (same format and subtype) only when it differs.

    Example
    -------
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> sf.write(path, np.zeros(1000), 8000)
    >>> conform(path, 16000, 2003)
    True
    >>> sf.info(path).samplerate, sf.info(path).frames
    (16000, 2003)
    """
    info = sf.info(path)
    if info.samplerate == rate and info.frames == length:
        return False
    wav, _ = read_audio(path)
    if info.samplerate != rate:
        wav = AF.resample(wav, info.samplerate, rate)
    if wav.shape[-1] >= length:
        wav = wav[:, :length]
    else:
        wav = torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))
    with AtomicAudioWriter(path, rate, wav.shape[0], info.format, info.subtype) as writer:
        writer.write(wav)
    return True


def enhance_files(enhancer, inputs, out_dir, progress=False):
    """Enhances each file into ``out_dir/<file name>`` at the input's rate and length.

    Returns
    -------
    written, failures : dict, list of str
        Input path to output path; one line per input that failed.
    """
    os.makedirs(out_dir, exist_ok=True)
    written, failures = {}, []
    for path in tqdm(inputs, desc="enhancing", unit="file", disable=not progress):
        target = os.path.join(out_dir, os.path.basename(path))
        try:
            info = sf.info(path)
            enhancer.enhance_file(path, output_filename=target)
            conform(target, info.samplerate, info.frames)
        except (ValueError, OSError, RuntimeError) as err:
            failures.append(f"{path}: {err}")
            continue
        written[path] = target
    return written, failures
