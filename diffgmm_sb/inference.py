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

    def _open(self, path):
        """Opens ``path`` for reading, checking that it holds audio."""
        try:
            info = sf.SoundFile(path)
        except (RuntimeError, sf.LibsndfileError, OSError) as err:
            raise AudioInputError(f"{path}: cannot read audio ({err})") from err
        if info.frames == 0:
            info.close()
            raise AudioInputError(f"{path}: the file holds no audio samples")
        return info

    def _read_block(self, info, start, frames):
        """Reads ``[channels, frames]`` float32 samples from ``start``, validated."""
        try:
            info.seek(start)
            audio = info.read(frames, dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError, OSError) as err:
            raise AudioInputError(f"{info.name}: cannot read audio ({err})") from err
        wav = torch.from_numpy(audio.T.copy())
        if not torch.isfinite(wav).all():
            raise AudioInputError(
                f"{info.name}: the audio contains NaN or infinite samples"
            )
        return wav

    def _enhance_block(self, wav, rate, steps, mode):
        """Enhances one ``[channels, time]`` block given at ``rate``, returned at ``rate``."""
        x = wav if rate == self.sample_rate else AF.resample(wav, rate, self.sample_rate)
        enhanced = self._enhance_chunk(x.to(self.device), None, steps, mode).cpu()
        if rate != self.sample_rate:
            enhanced = AF.resample(enhanced, self.sample_rate, rate)
        return _fit(enhanced, wav.shape[-1])

    def enhance_file(self, filename, output_filename=None, steps=None, mode=None):
        """Enhances an audio file of any rate, length and channel count.

        The file is read, enhanced and written chunk by chunk (``chunk_seconds``
        overlapping by ``overlap_seconds``, cross-faded), so memory does not
        grow with its length. Each chunk is resampled to the model's rate and
        back.

        Arguments
        ---------
        filename : str
            Any file ``soundfile`` reads (integer or float samples).
        output_filename : str, optional
            Where to write the enhanced audio, in the input's format, subtype,
            rate and channel count; written to a temporary name and renamed,
            so a failure never leaves a partial file.
        steps, mode : optional
            Sampler knobs, as in ``enhance_batch``.

        Returns
        -------
        torch.Tensor or str
            The enhanced ``[channels, time]`` audio at the file's rate when no
            ``output_filename`` is given (held in memory); otherwise the path
            written (streamed, constant memory).
        """
        with self._open(filename) as info:
            if output_filename is None:
                blocks = list(self._stream(info, steps, mode))
                return torch.cat(blocks, dim=-1)
            folder = os.path.dirname(os.path.abspath(output_filename))
            os.makedirs(folder, exist_ok=True)
            tmp = os.path.join(folder, f".{os.path.basename(output_filename)}.part")
            try:
                with sf.SoundFile(
                    tmp,
                    "w",
                    samplerate=info.samplerate,
                    channels=info.channels,
                    format=info.format,
                    subtype=info.subtype,
                ) as out:
                    for block in self._stream(info, steps, mode):
                        out.write(block.clamp(-1.0, 1.0).T.numpy())
                os.replace(tmp, output_filename)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        return output_filename

    def _stream(self, info, steps, mode):
        """Yields the enhanced file as consecutive ``[channels, time]`` blocks."""
        rate, total = info.samplerate, info.frames
        chunk = round(self.hparams.chunk_seconds * rate)
        overlap = round(self.hparams.overlap_seconds * rate)
        fade = torch.ones(chunk)
        if overlap > 0:
            ramp = torch.linspace(0.0, 1.0, overlap + 2)[1:-1]
            fade[:overlap], fade[-overlap:] = ramp, ramp.flip(0)
        starts = overlap_add_chunks(total, chunk, overlap)
        acc, weight, origin = None, None, 0  # pending output from sample `origin`
        for i, start in enumerate(starts):
            piece = self._enhance_block(
                self._read_block(info, start, min(chunk, total)), rate, steps, mode
            )
            w = fade[: piece.shape[-1]] if len(starts) > 1 else torch.ones(piece.shape[-1])
            end = start + piece.shape[-1]
            if acc is None:
                acc = torch.zeros(piece.shape[0], 0)
                weight = torch.zeros(0)
            grow = end - origin - acc.shape[-1]
            if grow > 0:
                acc = torch.nn.functional.pad(acc, (0, grow))
                weight = torch.nn.functional.pad(weight, (0, grow))
            acc[:, start - origin : end - origin] += piece * w
            weight[start - origin : end - origin] += w
            done = (starts[i + 1] if i + 1 < len(starts) else total) - origin
            yield acc[:, :done] / weight[:done].clamp(min=1e-8)
            acc, weight, origin = acc[:, done:], weight[done:], origin + done

    def forward(self, noisy, lengths=None):
        """Runs enhancement on the noisy input (``enhance_batch``)."""
        return self.enhance_batch(noisy, lengths)


def _fit(wav, length):
    """Crops or zero-pads the last dimension to ``length`` samples."""
    if wav.shape[-1] >= length:
        return wav[..., :length]
    return torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))
