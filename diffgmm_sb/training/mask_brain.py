"""``SpectralMaskBrain``: a SpeechBrain spectral-mask enhancer in DiffGMM's loop.

A baseline for the recipes: a SpeechBrain enhancement network that maps noisy
STFT magnitudes to a mask, e.g. MetricGAN+'s generator
(``speechbrain.lobes.models.MetricGAN.EnhancementGenerator``), trained on the
same manifests by the same loop as DiffGMM, with a plain loss: the mean squared
error between the masked noisy magnitude and the clean magnitude (no
discriminator, no metric learning; so it is *not* MetricGAN+ training). The
enhanced waveform is the masked magnitude with the noisy phase. Validation,
checkpoint selection, test outputs and logs are :class:`DiffGMMBrain`'s.

Authors
 * diffgmm-sb developers 2026
"""

import speechbrain as sb
import torch
from speechbrain.processing.features import spectral_magnitude
from speechbrain.processing.signal_processing import resynthesize

from diffgmm_sb.training.brain import DiffGMMBrain


class SpectralMaskBrain(DiffGMMBrain):
    """Trains and evaluates a mask estimator (``modules.generator``).

    The generator takes ``log1p`` magnitudes ``[batch, frames, bins]`` and
    the relative lengths, and returns a mask of the same shape.

    hparams used: ``compute_stft`` and ``compute_istft`` (SpeechBrain's
    ``STFT`` / ``ISTFT``), and those of :class:`DiffGMMBrain`'s stages:
    ``lr_annealing``, ``train_logger``, ``epoch_counter``, ``enhanced_folder``,
    ``test_scores_folder``, ``sample_rate``, ``metrics``, ``checkpoint_metric``.

    Example
    -------
    >>> from speechbrain.lobes.models.MetricGAN import EnhancementGenerator
    >>> from speechbrain.processing.features import STFT, ISTFT
    >>> brain = SpectralMaskBrain(
    ...     modules={"generator": EnhancementGenerator(num_layers=1)},
    ...     hparams={
    ...         "compute_stft": STFT(16000, win_length=32, hop_length=16, n_fft=512),
    ...         "compute_istft": ISTFT(16000, win_length=32, hop_length=16),
    ...     },
    ... )
    >>> noisy = torch.randn(2, 8000) * 0.1
    >>> magnitude, enhanced = brain.enhance(noisy, torch.ones(2))
    >>> magnitude.shape, enhanced.shape
    (torch.Size([2, 32, 257]), torch.Size([2, 8000]))
    """

    def _magnitude(self, wavs):
        return spectral_magnitude(self.hparams.compute_stft(wavs), power=0.5)

    def enhance(self, noisy, lens):
        """The masked magnitude and its waveform (noisy phase), for a batch."""
        noisy_mag = self._magnitude(noisy)
        mask = self.modules.generator(torch.log1p(noisy_mag), lengths=lens)
        enhanced_mag = mask * noisy_mag
        enhanced = resynthesize(
            enhanced_mag,
            noisy,
            self.hparams.compute_stft,
            self.hparams.compute_istft,
            normalize_wavs=False,
        )
        return enhanced_mag, enhanced

    def compute_forward(self, batch, stage):
        """The enhanced magnitude; plus the enhanced audio outside TRAIN."""
        batch = batch.to(self.device)
        noisy, lens = batch.noisy_sig
        if stage == sb.Stage.TRAIN:
            noisy_mag = self._magnitude(noisy)
            mask = self.modules.generator(torch.log1p(noisy_mag), lengths=lens)
            return mask * noisy_mag, None
        return self.enhance(noisy, lens)

    def compute_objectives(self, predictions, batch, stage):
        """Magnitude MSE over the valid frames; scores the audio outside TRAIN."""
        enhanced_mag, enhanced = predictions
        clean, lens = batch.clean_sig
        loss = sb.nnet.losses.mse_loss(enhanced_mag, self._magnitude(clean), lens)
        self.loss_terms["mse"] += loss.detach()
        self.loss_terms["batches"] += 1
        self._score(batch, enhanced, stage)
        return loss

    def _loss_term_means(self):
        steps = max(self.loss_terms["batches"], 1)
        return {"mse": float(self.loss_terms["mse"]) / steps}
