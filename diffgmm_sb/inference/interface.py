"""``DiffGMMEnhancement``: a SpeechBrain ``Pretrained`` interface for DiffGMM.

Loaded like SpeechBrain's enhancement interfaces, from a folder laid out like a
model hub folder (``hyperparams.yaml`` + ``diffgmm.ckpt``)::

    enhancer = DiffGMMEnhancement.from_hparams(source="path/to/model", savedir=...)
    enhanced = enhancer.enhance_file("noisy.wav", output_filename="clean.wav")

Loading executes nothing from the folder: the network is built from this
package's own template with the folder's plain values, and the weights are
read with ``torch.load(weights_only=True)`` (see ``diffgmm_sb.inference.model_folder``).

Any input a user has is accepted: any length (processed in overlapping chunks
joined by overlap-add; files are streamed chunk by chunk, so memory does not
grow with the file), any sample rate (resampled to the model's rate and
back), any number of channels (each enhanced), integer or float files that
``soundfile`` reads, silence, clipped audio, inputs of a single sample. A file
that cannot be enhanced (missing, empty, unreadable, unsupported format, NaN
or infinite samples) raises ``AudioError`` with a one-line message naming
the file and the problem. The output keeps the input's length, rate and
channel count; it is written under a temporary name and renamed, so no
half-written output file is ever left under the output name.

Authors
 * diffgmm-sb developers 2026
"""

import logging

import torch
from speechbrain.inference.interfaces import Pretrained

from diffgmm_sb.data.audio import AtomicAudioWriter, AudioError, AudioFileReader, resample
from diffgmm_sb.model.diffgmm import valid_mask

# Channels of one file enhanced together (one network batch).
MAX_CHANNELS_PER_BATCH = 8
# SpeechBrain loader arguments that concern hubs or custom code: accepted, ignored.
IGNORED_LOADER_ARGUMENTS = (
    "fetch_config",
    "huggingface_cache_dir",
    "use_auth_token",
    "revision",
    "pymodule_file",
)
logger = logging.getLogger(__name__)


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


def overlap_add(read, length, chunk, overlap, process):
    """Processes a signal chunk by chunk, yielding the cross-faded output in order.

    Chunks of ``chunk`` samples overlapping by ``overlap`` are cross-faded
    linearly where they meet (the signal's own start and end are not faded).
    Only one chunk is held at a time, so memory does not grow with ``length``.

    Arguments
    ---------
    read : callable
        ``read(start, stop)`` returns the ``[rows, stop - start]`` input.
    length : int
        Samples in the whole signal.
    chunk, overlap : int
        Chunk length and overlap in samples (``chunk > overlap >= 0``).
    process : callable
        Maps an input chunk to an output chunk of the same shape.

    Yields
    ------
    torch.Tensor
        Consecutive ``[rows, n]`` output blocks; together ``length`` samples.

    Example
    -------
    >>> x = torch.arange(10.0).unsqueeze(0)
    >>> blocks = overlap_add(lambda a, b: x[:, a:b], 10, 4, 2, lambda c: c * 2)
    >>> torch.cat(list(blocks), dim=-1)
    tensor([[ 0.,  2.,  4.,  6.,  8., 10., 12., 14., 16., 18.]])
    """
    starts = overlap_add_chunks(length, chunk, overlap)
    ramp = torch.linspace(0.0, 1.0, overlap + 2)[1:-1]
    acc, weight, acc_start = None, None, 0
    for i, start in enumerate(starts):
        stop = min(start + chunk, length)
        piece = process(read(start, stop))
        fade = torch.ones(stop - start, device=piece.device)
        if overlap > 0 and i > 0:
            fade[:overlap] = ramp.to(piece.device)
        if overlap > 0 and i < len(starts) - 1:
            fade[-overlap:] = ramp.flip(0).to(piece.device)
        if acc is None:
            acc = torch.zeros_like(piece)
            weight = torch.zeros(piece.shape[-1], device=piece.device)
        grow = stop - acc_start - acc.shape[-1]
        if grow > 0:
            acc = torch.nn.functional.pad(acc, (0, grow))
            weight = torch.nn.functional.pad(weight, (0, grow))
        offset = start - acc_start
        acc[:, offset : offset + piece.shape[-1]] += piece * fade
        weight[offset : offset + piece.shape[-1]] += fade
        done = (starts[i + 1] if i + 1 < len(starts) else length) - acc_start
        yield acc[:, :done] / weight[:done]
        acc, weight, acc_start = acc[:, done:], weight[done:], acc_start + done


class DiffGMMEnhancement(Pretrained):
    """Ready-to-use DiffGMM speech enhancement.

    hparams of the model folder: ``sample_rate``, ``sampler_steps``,
    ``sampler_mode``, ``sampler_final_gamma``, ``chunk_seconds``,
    ``overlap_seconds`` and the module ``diffgmm``.

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
        "sampler_final_gamma",
        "chunk_seconds",
        "overlap_seconds",
    ]
    MODULES_NEEDED = ["diffgmm"]
    # Noise level gamma_end at which the reverse process stops (a fraction of
    # the estimated noise left in); None: the model folder's
    # ``sampler_final_gamma``. Set it on an instance to change it.
    final_gamma = None

    @classmethod
    def from_hparams(
        cls,
        source,
        hparams_file="hyperparams.yaml",
        savedir=None,
        overrides=None,
        overrides_must_match=True,
        download_only=False,
        local_strategy=None,
        **kwargs,
    ):
        """Loads a local model folder without running its code.

        Takes ``Pretrained.from_hparams``'s arguments, but the folder's YAML is
        never executed: only its plain values are read and checked, the
        network is built from this package's network wiring, and the weights
        are loaded with ``weights_only=True``. A damaged or tampered folder
        raises ``diffgmm_sb.inference.model_folder.ModelFolderError`` naming
        the file and the problem; so does a hub id or URL (nothing is
        downloaded: fetch the folder first, then pass its path).

        Arguments
        ---------
        source : str
            The local model folder.
        hparams_file : str
            The hyperparameter file inside the folder.
        savedir : str, optional
            Where the files are linked to; the folder is read in place when
            not given.
        overrides : dict, optional
            Values replacing the folder's (e.g. ``{"chunk_seconds": 5.0}``).
        overrides_must_match : bool
            Refuse overrides of keys the folder does not have (else leave them
            out with a warning).
        download_only : bool
            Only link the files into ``savedir``; returns None.
        local_strategy : speechbrain.utils.fetching.LocalStrategy, optional
            How the files are put into ``savedir`` (default: links).
        **kwargs : dict
            Passed to the constructor (``run_opts``, ``freeze_params``);
            SpeechBrain's hub and code arguments (``fetch_config``,
            ``huggingface_cache_dir``, ``use_auth_token``, ``revision``,
            ``pymodule_file``) have nothing to do here and are ignored with a
            warning.

        Returns
        -------
        DiffGMMEnhancement, or None with ``download_only``

        Example
        -------
        >>> from diffgmm_sb.inference.enhance import DEFAULT_MODEL
        >>> enhancer = DiffGMMEnhancement.from_hparams(
        ...     DEFAULT_MODEL, fetch_config=None, huggingface_cache_dir="x"
        ... )
        >>> enhancer.enhance_batch(torch.zeros(1, 1600)).shape
        torch.Size([1, 1600])
        >>> DiffGMMEnhancement.from_hparams("speechbrain/some-model")
        Traceback (most recent call last):
        ...
        diffgmm_sb.inference.model_folder.ModelFolderError: speechbrain/some-model: no such local model folder; ...
        """
        from diffgmm_sb.inference.model_folder import fetch_model_files, load_model_folder

        ignored = sorted(set(kwargs) & set(IGNORED_LOADER_ARGUMENTS))
        if ignored:
            logger.warning(
                "DiffGMMEnhancement.from_hparams: %s ignored (local folders only, no code "
                "from the folder is run)",
                ", ".join(ignored),
            )
        kwargs = {k: v for k, v in kwargs.items() if k not in IGNORED_LOADER_ARGUMENTS}
        if download_only:
            fetch_model_files(source, savedir, hparams_file, local_strategy)
            return None
        hparams, modules = load_model_folder(
            source,
            savedir=savedir,
            hparams_file=hparams_file,
            overrides=overrides,
            overrides_must_match=overrides_must_match,
            local_strategy=local_strategy,
        )
        return cls(modules=modules, hparams=hparams, **kwargs)

    @property
    def sample_rate(self):
        """The rate the model works at."""
        return self.hparams.sample_rate

    def _chunk_samples(self, rate):
        """Chunk and overlap lengths, in samples at ``rate``."""
        chunk = max(int(round(self.hparams.chunk_seconds * rate)), 1)
        overlap = min(int(round(self.hparams.overlap_seconds * rate)), chunk - 1)
        return chunk, overlap

    def _enhance_chunk(self, noisy, lengths, steps, mode):
        return self.mods.diffgmm.enhance(
            noisy,
            lengths,
            steps=steps or self.hparams.sampler_steps,
            mode=mode or self.hparams.sampler_mode,
            final_gamma=self.hparams.sampler_final_gamma
            if self.final_gamma is None
            else self.final_gamma,
        )

    @torch.no_grad()
    def enhance_batch(self, noisy, lengths=None, steps=None, mode=None):
        """Enhances ``[batch, time]`` waveforms at the model's rate.

        Long inputs are processed in chunks of ``chunk_seconds`` overlapping by
        ``overlap_seconds``, cross-faded linearly (``overlap_add``).

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
        chunk, overlap = self._chunk_samples(self.sample_rate)
        if total <= chunk:
            return self._enhance_chunk(noisy, lengths, steps, mode)
        mask = valid_mask(noisy, lengths)
        noisy = noisy * mask
        blocks = overlap_add(
            lambda start, stop: noisy[:, start:stop],
            total,
            chunk,
            overlap,
            lambda piece: self._enhance_chunk(piece, None, steps, mode),
        )
        return torch.cat(list(blocks), dim=-1) * mask

    @torch.no_grad()
    def _enhance_at_rate(self, wav, rate, steps, mode, name):
        """Enhances ``[channels, time]`` audio at ``rate``; never returns NaN/Inf."""
        x = resample(wav, rate, self.sample_rate).to(self.device)
        groups = x.split(MAX_CHANNELS_PER_BATCH)
        out = torch.cat([self._enhance_chunk(g, None, steps, mode) for g in groups])
        out = _fit(resample(out.cpu(), self.sample_rate, rate), wav.shape[-1])
        if not torch.isfinite(out).all():
            raise AudioError(
                f"{name}: enhancement produced NaN or infinite samples "
                "(the model folder's weights may be damaged)"
            )
        return out

    def enhance_file(self, filename, output_filename=None, steps=None, mode=None):
        """Enhances an audio file of any rate, length and channel count.

        Returns the enhanced audio at the file's rate, ``[time]`` for a mono
        file as SpeechBrain's ``enhance_file`` returns it, ``[channels, time]``
        for a multichannel one (each channel enhanced); writes it when ``output_filename`` is given (in the format its
        extension names, else the input's; the input's subtype where that
        format allows it), under a temporary name then renamed. For very long
        files prefer ``enhance_to_file``, which does not keep the audio.

        Raises
        ------
        AudioError
            Naming the file and the problem, when it cannot be enhanced.
        """
        blocks = []
        self._enhance_file(filename, output_filename, steps, mode, blocks.append)
        enhanced = torch.cat(blocks, dim=-1)
        return enhanced[0] if enhanced.shape[0] == 1 else enhanced

    def enhance_to_file(self, filename, output_filename, steps=None, mode=None):
        """Enhances a file into ``output_filename`` chunk by chunk (bounded memory).

        Returns the number of frames written. See ``enhance_file``.
        """
        return self._enhance_file(filename, output_filename, steps, mode, None)

    def _enhance_file(self, filename, output_filename, steps, mode, keep):
        with AudioFileReader(filename) as reader:
            chunk, overlap = self._chunk_samples(reader.rate)
            with AtomicAudioWriter(
                output_filename, reader.rate, reader.channels, reader.format, reader.subtype
            ) as writer:
                for block in overlap_add(
                    reader.read,
                    reader.frames,
                    chunk,
                    overlap,
                    lambda x: self._enhance_at_rate(x, reader.rate, steps, mode, filename),
                ):
                    writer.write(block)
                    if keep is not None:
                        keep(block)
            return reader.frames

    @staticmethod
    def write(path, wav, rate, info=None):
        """Writes ``[channels, time]`` audio atomically (see ``AtomicAudioWriter``).

        ``info`` (a ``soundfile`` info or open file) gives the preferred format
        and subtype; the path's extension decides the format when it names one.
        """
        fmt = getattr(info, "format", None)
        subtype = getattr(info, "subtype", None)
        with AtomicAudioWriter(path, rate, wav.shape[0], fmt, subtype) as writer:
            writer.write(wav)

    def forward(self, noisy, lengths=None):
        """Runs enhancement on the noisy input (``enhance_batch``)."""
        return self.enhance_batch(noisy, lengths)


def _fit(wav, length):
    """Crops or zero-pads the last dimension to ``length`` samples."""
    if wav.shape[-1] >= length:
        return wav[..., :length]
    return torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))
