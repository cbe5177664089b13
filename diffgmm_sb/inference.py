"""``DiffGMMEnhancement``: a SpeechBrain ``Pretrained`` interface for DiffGMM.

Loaded like SpeechBrain's enhancement interfaces, from a folder laid out like a
model hub folder (``hyperparams.yaml`` + ``diffgmm.ckpt``)::

    enhancer = DiffGMMEnhancement.from_hparams(source="path/to/model", savedir=...)
    enhanced = enhancer.enhance_file("noisy.wav", output_filename="clean.wav")

Any input a user has is accepted: any length (processed in overlapping chunks
joined by overlap-add, so memory does not grow with the file), any sample rate
(resampled to the model's rate and back), any number of channels (each
enhanced), integer or float files that ``soundfile`` reads. The output keeps
the input's length, rate and channel count.

Authors
 * diffgmm-sb developers 2026
"""

import os

import soundfile as sf
import torch
import torchaudio.functional as AF
from speechbrain.inference.interfaces import Pretrained

from diffgmm_sb.model import valid_mask


class AudioInputError(ValueError):
    """An input file cannot be enhanced; the message names the file."""


def overlap_add_chunks(length, chunk, overlap):
    """Start offsets of chunks of ``chunk`` samples overlapping by ``overlap``.

    Example
    -------
    >>> overlap_add_chunks(10, 4, 2)
    [0, 2, 4, 6]
    >>> overlap_add_chunks(3, 4, 2)
    [0]
    """
    if length <= chunk:
        return [0]
    hop = chunk - overlap
    starts = list(range(0, length - chunk + 1, hop))
    if starts[-1] + chunk < length:
        starts.append(length - chunk)
    return starts


class DiffGMMEnhancement(Pretrained):
    """Ready-to-use DiffGMM speech enhancement.

    hparams of the model folder: ``sample_rate``, ``sampler_steps``,
    ``sampler_mode``, ``chunk_seconds``, ``overlap_seconds`` and the module
    ``diffgmm`` (loaded by the folder's ``pretrainer``).

    Example
    -------
    >>> enhancer = DiffGMMEnhancement.from_hparams(
    ...     source="model_dir", savedir="tmp"
    ... )  # doctest: +SKIP
    >>> enhancer.enhance_file("noisy.wav", "enhanced.wav")  # doctest: +SKIP
    """

    HPARAMS_NEEDED = [
        "sample_rate",
        "sampler_steps",
        "sampler_mode",
        "chunk_seconds",
        "overlap_seconds",
    ]
    MODULES_NEEDED = ["diffgmm"]

    @property
    def sample_rate(self):
        """The rate the model works at."""
        return self.hparams.sample_rate

    def _enhance_chunk(self, noisy, lengths, steps, mode):
        return self.mods.diffgmm.enhance(
            noisy,
            lengths,
            steps=steps or self.hparams.sampler_steps,
            mode=mode or self.hparams.sampler_mode,
        )

    @torch.no_grad()
    def enhance_batch(self, noisy, lengths=None, steps=None, mode=None):
        """Enhances ``[batch, time]`` waveforms at the model's rate.

        Long inputs are processed in chunks of ``chunk_seconds`` overlapping by
        ``overlap_seconds``, cross-faded linearly.

        Arguments
        ---------
        noisy : torch.Tensor
            ``[batch, time]`` noisy waveforms.
        lengths : torch.Tensor, optional
            Relative lengths (SpeechBrain convention).
        steps : int, optional
            Reverse steps (default: the model's ``sampler_steps``).
        mode : str, optional
            ``"mean"`` or ``"draw"`` (default: the model's ``sampler_mode``).

        Returns
        -------
        torch.Tensor
            ``[batch, time]`` enhanced waveforms (zeros past each length).
        """
        noisy = noisy.to(self.device).float()
        if lengths is not None:
            lengths = lengths.to(self.device)
        total = noisy.shape[-1]
        chunk = int(self.hparams.chunk_seconds * self.sample_rate)
        overlap = int(self.hparams.overlap_seconds * self.sample_rate)
        if total <= chunk:
            return self._enhance_chunk(noisy, lengths, steps, mode)
        mask = valid_mask(noisy, lengths)
        noisy = noisy * mask
        out = torch.zeros_like(noisy)
        weight = torch.zeros(total, device=self.device)
        fade = torch.ones(chunk, device=self.device)
        if overlap > 0:
            ramp = torch.linspace(0.0, 1.0, overlap + 2, device=self.device)[1:-1]
            fade[:overlap], fade[-overlap:] = ramp, ramp.flip(0)
        for start in overlap_add_chunks(total, chunk, overlap):
            piece = self._enhance_chunk(noisy[:, start : start + chunk], None, steps, mode)
            out[:, start : start + chunk] += piece * fade
            weight[start : start + chunk] += fade
        return out / weight.clamp(min=1e-8) * mask

    def _read(self, path):
        """Reads ``[channels, time]`` float audio and its rate, validating it."""
        try:
            with sf.SoundFile(path) as info:  # opened once: metadata and samples
                rate = info.samplerate
                audio = info.read(dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError, OSError) as err:
            raise AudioInputError(f"{path}: cannot read audio ({err})") from err
        if audio.shape[0] == 0:
            raise AudioInputError(f"{path}: the file holds no audio samples")
        wav = torch.from_numpy(audio.T.copy())
        if not torch.isfinite(wav).all():
            raise AudioInputError(f"{path}: the audio contains NaN or infinite samples")
        return wav, rate, info

    def enhance_file(self, filename, output_filename=None, steps=None, mode=None):
        """Enhances an audio file of any rate and channel count.

        Returns the enhanced ``[channels, time]`` tensor at the file's rate;
        writes it (same format and subtype, written to a temporary name and
        renamed) when ``output_filename`` is given.
        """
        wav, rate, info = self._read(filename)
        x = wav
        if rate != self.sample_rate:
            x = AF.resample(x, rate, self.sample_rate)
        enhanced = self.enhance_batch(x, steps=steps, mode=mode).cpu()
        if rate != self.sample_rate:
            enhanced = AF.resample(enhanced, self.sample_rate, rate)
        enhanced = _fit(enhanced, wav.shape[-1])
        if output_filename is not None:
            self.write(output_filename, enhanced, rate, info)
        return enhanced

    @staticmethod
    def write(path, wav, rate, info=None):
        """Writes ``[channels, time]`` audio atomically, in the input's format."""
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fmt = info.format if info is not None else None
        subtype = info.subtype if info is not None else None
        tmp = os.path.join(folder, f".{os.path.basename(path)}.part")
        data = wav.clamp(-1.0, 1.0).T.numpy()
        sf.write(tmp, data, rate, subtype=subtype, format=fmt)
        os.replace(tmp, path)

    def forward(self, noisy, lengths=None):
        """Runs enhancement on the noisy input (``enhance_batch``)."""
        return self.enhance_batch(noisy, lengths)


def _fit(wav, length):
    """Crops or zero-pads the last dimension to ``length`` samples."""
    if wav.shape[-1] >= length:
        return wav[..., :length]
    return torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))
