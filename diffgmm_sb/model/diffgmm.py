"""DiffGMM: the network f_theta(x_t, x, t) and the enhancement it drives.

``DiffGMM`` joins a U-Net (over the waveform, ``diffgmm_sb.model.unet``, or over
STFT frames, ``diffgmm_sb.model.spectral``), its Gaussian-mixture head and the
noise schedule. It works in normalised units: each utterance is divided by
the RMS of its noisy input (over the valid samples), so the mixture, the
schedule's sigma and the scale floor mean the same thing for loud and quiet
recordings; ``enhance`` scales the estimate back.

Authors
 * diffgmm-sb developers 2026
"""

import torch
from speechbrain.dataio.dataio import length_to_mask
from torch import nn

from diffgmm_sb.model.diffusion import reverse_process
from diffgmm_sb.model.mixture import mixture_nll, noise_prediction_loss

# Utterances quieter than this RMS (full scale = 1) are treated as silence.
MIN_RMS = 1e-5


def valid_mask(wavs, lengths=None):
    """Boolean ``[batch, time]`` mask of the non-padding samples.

    ``lengths`` are relative (SpeechBrain convention, 1.0 = full length).

    Example
    -------
    >>> valid_mask(torch.zeros(2, 4), torch.tensor([1.0, 0.5])).int()
    tensor([[1, 1, 1, 1],
            [1, 1, 0, 0]], dtype=torch.int32)
    """
    if lengths is None:
        return torch.ones_like(wavs, dtype=torch.bool)
    abs_lens = torch.round(lengths * wavs.shape[-1]).long()
    return length_to_mask(abs_lens, max_len=wavs.shape[-1], device=wavs.device).bool()


def utterance_rms(wavs, mask):
    """RMS of each utterance over its valid samples, floored at ``MIN_RMS``.

    Computed on the signal divided by its peak, so samples far beyond full
    scale (float files may hold 1e30) do not overflow into Inf and NaN.

    Example
    -------
    >>> utterance_rms(torch.full((1, 4), 0.5), torch.ones(1, 4, dtype=torch.bool))
    tensor([[0.5000]])
    >>> utterance_rms(torch.full((1, 4), 1e30), torch.ones(1, 4, dtype=torch.bool))
    tensor([[1.0000e+30]])
    >>> utterance_rms(torch.zeros(1, 4), torch.ones(1, 4, dtype=torch.bool))
    tensor([[1.0000e-05]])
    """
    m = mask.to(wavs.dtype)
    peak = (wavs.abs() * m).amax(-1, keepdim=True).clamp(min=MIN_RMS)
    unit = wavs / peak
    power = (unit.pow(2) * m).sum(-1, keepdim=True) / m.sum(-1, keepdim=True).clamp(min=1.0)
    return (power.sqrt() * peak).clamp(min=MIN_RMS)


class DiffGMM(nn.Module):
    """The DiffGMM denoiser.

    Arguments
    ---------
    unet : torch.nn.Module
        Feature extractor ``unet(stacked [batch, 2, time], gamma [batch])``.
    head : torch.nn.Module
        ``head(features, x_t)`` gives the mixture: the per-sample
        ``diffgmm_sb.model.mixture.MixtureHead`` or the masking
        ``diffgmm_sb.model.spectral.MaskMixtureHead``.
    schedule : diffgmm_sb.model.diffusion.NoiseSchedule
        The diffusion schedule.

    Example
    -------
    >>> from diffgmm_sb.model.unet import WaveUNet
    >>> from diffgmm_sb.model.mixture import MixtureHead
    >>> from diffgmm_sb.model.diffusion import NoiseSchedule
    >>> model = DiffGMM(
    ...     WaveUNet(out_channels=8, front_channels=8, channels=[8], strides=[2]),
    ...     MixtureHead(8, num_components=2),
    ...     NoiseSchedule(num_steps=4),
    ... )
    >>> noisy, clean = torch.randn(2, 300), torch.randn(2, 300)
    >>> nll, mse = model.training_losses(clean, noisy)
    >>> model.enhance(noisy, steps=2).shape
    torch.Size([2, 300])
    """

    def __init__(self, unet, head, schedule):
        super().__init__()
        self.unet = unet
        self.head = head
        self.schedule = schedule

    def forward(self, x_t, noisy, t):
        """The mixture over the residual ``r_t`` (all in normalised units)."""
        level = self.schedule.gamma[t]
        features = self.unet(torch.stack([x_t, noisy], dim=1), level)
        return self.head(features, x_t)

    def training_example(self, clean, noisy, lengths=None, t=None):
        """Normalises a batch and corrupts it at random timesteps.

        Returns
        -------
        x_t, x : torch.Tensor
            The diffusion state and the noisy input, ``[batch, time]``.
        t : torch.Tensor
            ``[batch]`` timesteps in ``1..T``.
        residual : torch.Tensor
            The target ``r_t = x_t - s``.
        mask : torch.Tensor
            Valid (non-padding) samples.
        """
        mask = valid_mask(noisy, lengths)
        scale = utterance_rms(noisy, mask)
        s, x = clean / scale * mask, noisy / scale * mask
        if t is None:
            t = self.schedule.sample_timesteps(x.shape[0], device=x.device)
        x_t = self.schedule.corrupt(s, x - s, t) * mask
        return x_t, x, t, x_t - s, mask

    def training_losses(self, clean, noisy, lengths=None, t=None):
        """The two training terms at a random timestep per example.

        Returns
        -------
        nll : torch.Tensor
            Mixture negative log-likelihood of the true residual (ELBO term).
        mse : torch.Tensor
            Squared error of the mixture mean (noise-prediction term).
        """
        x_t, x, t, residual, mask = self.training_example(clean, noisy, lengths, t)
        mixture = self(x_t, x, t)
        return (
            mixture_nll(mixture, residual, mask),
            noise_prediction_loss(mixture, residual, mask),
        )

    @torch.no_grad()
    def enhance(
        self,
        noisy,
        lengths=None,
        steps=None,
        mode="mean",
        generator=None,
        final_gamma=0.0,
    ):
        """Runs the reverse process on ``[batch, time]`` noisy waveforms.

        Padding (beyond ``lengths``) is returned as zeros. ``final_gamma``:
        see ``diffgmm_sb.model.diffusion.reverse_process``.
        """
        mask = valid_mask(noisy, lengths)
        scale = utterance_rms(noisy, mask)
        x = noisy / scale * mask
        clean = reverse_process(
            self,
            x,
            self.schedule,
            steps=steps,
            mode=mode,
            generator=generator,
            final_gamma=final_gamma,
        )
        return clean * mask * scale
